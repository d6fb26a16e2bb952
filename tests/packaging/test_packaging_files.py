"""The build files in packaging/, checked without building: the desktop entry and AppStream
metainfo validate, the PyInstaller spec carries every runtime data tree, pyproject's
package-data globs cover every runtime file, the icons exist at every size, one version."""

from __future__ import annotations

import ast
import fnmatch
import glob
import os
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

import crlmboard
from crlmboard import app

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
PACKAGE = ROOT / "crlmboard"
APP_ID = "org.crlmboard.crlmboard"
DESKTOP = PACKAGING / "linux" / f"{APP_ID}.desktop"
METAINFO = PACKAGING / "linux" / f"{APP_ID}.metainfo.xml"
SPEC = PACKAGING / "crlmboard.spec"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME_TREES = ("resources", "store/migrations")


def _tool(name: str) -> str:
    """A validator's path; its absence skips the test on a workstation but fails in CI
    (scripts/test.sh installs desktop-file-utils and appstream)."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") or os.environ.get("CRLMBOARD_CI"):
            pytest.fail(f"{name} is missing (Debian: desktop-file-utils / appstream)")
        pytest.skip(f"{name} is not installed")
    return path


def _runtime_files() -> list[str]:
    """Every file the running app loads by path, relative to the package."""
    found = []
    for tree in RUNTIME_TREES:
        for path in (PACKAGE / tree).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                found.append(path.relative_to(PACKAGE).as_posix())
    return sorted(found)


def _spec_value(name: str) -> object:
    """The literal value assigned to `name` at the top level of the spec."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned in {SPEC.name}")


# -- Linux desktop integration -------------------------------------------------------------


def test_desktop_entry_validates() -> None:
    result = subprocess.run(
        [_tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower() and "warning" not in result.stdout.lower(), (
        result.stdout
    )


def test_metainfo_validates() -> None:
    result = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_entry_metainfo_icon_and_app_agree() -> None:
    entry = dict(
        line.split("=", 1) for line in DESKTOP.read_text("utf-8").splitlines() if "=" in line
    )
    assert entry["Exec"].split()[0] in PYPROJECT["project"]["scripts"]
    assert entry["Icon"] == APP_ID
    assert app.DESKTOP_ID == APP_ID  # QApplication.setDesktopFileName (Wayland's app id)
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == entry["Exec"].split()[0]


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_icons_exist_at_every_size() -> None:
    icons = PACKAGE / "resources" / "icons"
    svg = ET.parse(icons / "crlmboard.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 256 256"
    for size in app.ICON_SIZES:
        assert _png_size(icons / f"crlmboard-{size}.png") == (size, size)
    assert set(app.ICON_SIZES) >= {16, 32, 48, 64, 128, 256}
    assert (PACKAGING / "icons" / "crlmboard.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert (PACKAGING / "icons" / "crlmboard.icns").read_bytes()[:4] == b"icns"


def test_deb_removal_leaves_user_data_alone() -> None:
    """No maintainer scripts: nothing runs on removal, so nothing can touch a home folder."""
    script = (PACKAGING / "build-deb.sh").read_text("utf-8")
    for name in ("postrm", "prerm", "postinst", "preinst"):
        assert f"DEBIAN/{name}" not in script
    assert "/opt/crlmboard" in script and "/usr/bin/crlmboard" in script


# -- PyInstaller spec ----------------------------------------------------------------------


def test_spec_carries_every_runtime_tree() -> None:
    trees = _spec_value("DATA_TREES")
    assert isinstance(trees, list)
    assert set(trees) == set(RUNTIME_TREES)
    assert _runtime_files(), "no runtime files found"
    for relative in (
        "store/migrations/env.py",
        "resources/profiles/default.toml",
        "resources/fonts/NotoSans-Regular.ttf",
        "resources/icons/crlmboard-256.png",
        "resources/demo/DEMO-0007-pve-flr-remeasured.json",
    ):
        assert relative in _runtime_files()
        assert any(relative.startswith(tree + "/") for tree in trees)


def test_spec_leaves_out_unused_qt_and_has_every_platform() -> None:
    unused = _spec_value("UNUSED_QT")
    assert isinstance(unused, list)
    for module in (
        "QtWebEngineCore",
        "QtWebEngineWidgets",
        "Qt3DCore",
        "QtMultimedia",
        "QtQml",
        "QtQuick",
        "QtCharts",
        "QtPdf",
    ):
        assert module in unused
    used = {"QtCore", "QtGui", "QtWidgets"}
    assert not used & set(unused)
    imported = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("PySide6."):
                imported.add(node.module.split(".")[1])  # type: ignore[union-attr]
    assert imported <= used, f"the app now imports {imported - used}: update UNUSED_QT"
    text = SPEC.read_text("utf-8")
    for needle in (
        "crlmboard.ico",
        "crlmboard.icns",
        "BUNDLE(",
        "console=not (WINDOWS or MACOS)",
        "hiddenimports",
        "sqlalchemy.dialects.sqlite",
        "psycopg_binary",
    ):
        assert needle in text


def test_packaging_folder_is_not_a_python_package() -> None:
    assert not (PACKAGING / "__init__.py").exists()
    import packaging

    assert Path(packaging.__file__).parent != PACKAGING


# -- wheel ---------------------------------------------------------------------------------


def test_package_data_globs_cover_every_runtime_file() -> None:
    """pyproject's package-data, expanded as setuptools does (a recursive glob from the
    package folder), holds every runtime file; exclude-package-data drops none of them."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    matched: set[str] = set()
    for pattern in setuptools["package-data"]["crlmboard"]:
        matched.update(
            Path(p).as_posix() for p in glob.glob(pattern, root_dir=PACKAGE, recursive=True)
        )
    excluded = setuptools.get("exclude-package-data", {}).get("crlmboard", [])
    missing = [f for f in _runtime_files() if f not in matched]
    assert not missing, f"not covered by [tool.setuptools.package-data]: {missing}"
    dropped = [f for f in _runtime_files() if any(fnmatch.fnmatch(f, g) for g in excluded)]
    assert not dropped, f"dropped by exclude-package-data: {dropped}"


@pytest.mark.slow
def test_wheel_carries_every_runtime_file(tmp_path: Path) -> None:
    """A real wheel (pip wheel, about 10 s), built from a copy of the sources so that no
    build/ or egg-info lands in the checkout."""
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(
        PACKAGE, source / "crlmboard", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    # a stray bytecode file among the migrations must stay out of the wheel
    cache = source / "crlmboard" / "store" / "migrations" / "__pycache__"
    cache.mkdir()
    (cache / "env.cpython-311.pyc").write_bytes(b"stale")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("crlmboard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in _runtime_files() if f"crlmboard/{f}" not in names]
    assert not missing, f"not in the wheel: {missing}"
    modules = [
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    ]
    assert not [m for m in modules if m not in names]
    assert not [n for n in names if n.endswith(".pyc")]
    version = PYPROJECT["project"]["version"]
    assert f"crlmboard-{version}.dist-info/METADATA" in names
    entry_points = zipfile.ZipFile(wheel).read(f"crlmboard-{version}.dist-info/entry_points.txt")
    assert "crlmboard = crlmboard.cli:main" in entry_points.decode()


# -- one version ---------------------------------------------------------------------------


def test_one_version_number() -> None:
    version = PYPROJECT["project"]["version"]
    assert crlmboard.__version__ == version
    init = (PACKAGE / "__init__.py").read_text("utf-8")
    assert f'"{version}"' not in init, "a second copy of the version in crlmboard/__init__.py"
    assert "project" in _spec_source_of_version()


def _spec_source_of_version() -> str:
    """The spec's VERSION comes from pyproject.toml (it writes the frozen app's metadata)."""
    for line in SPEC.read_text("utf-8").splitlines():
        if line.lstrip().startswith("VERSION ="):
            return line
    raise AssertionError("no VERSION in the spec")
