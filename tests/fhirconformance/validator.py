"""A FHIR R4 instance validator driven by published StructureDefinition snapshots.

It checks a resource (a Bundle and every resource in it) against the profiles it declares in
`meta.profile` (or its base resource when it declares none we know):

- every snapshot element's cardinality, slices included, and that no unknown element appears;
- primitive JSON types and the regular expressions of the R4 primitive types;
- `fixed[x]` and `pattern[x]` values;
- choice types (`value[x]`: only the allowed types);
- slicing by `value`/`pattern` (at any path), `type`, `profile` and `exists`, and the
  extension URL; closed slicing;
- the FHIRPath invariants (`constraint.expression`) of every element with `fhirpathpy`;
- required bindings to value sets that can be enumerated from the packages (concept lists,
  whole code systems shipped in full, included value sets); others are counted as skipped;
- reference targets: resolved inside the bundle, of an allowed type, and conforming to the
  target profile when the packages define it;
- extensions: looked up by URL, checked against their definition, and used only in one of
  the contexts the definition allows.

It does not check terminology that needs a server (SNOMED CT, LOINC, RxNorm and every value
set defined by a filter or an unshipped code system), the `conformsTo`/`memberOf`/`htmlChecks`
FHIRPath functions, XHTML narrative content, or profiles outside the fetched packages (US Core
profiles named as reference targets are checked for the resource type only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fhirpathpy import apply_parsed_path, parse
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

R4_MODEL = models["r4"]
BASE = "http://hl7.org/fhir/StructureDefinition/"
REGEX_EXTENSION = "http://hl7.org/fhir/StructureDefinition/regex"
FHIRPATH_STRING = "http://hl7.org/fhirpath/System.String"
PRIMITIVE_JSON: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "positiveInt": (int,),
    "unsignedInt": (int,),
    "decimal": (int, float),
}
# Invariants whose FHIRPath uses functions fhirpathpy does not implement, or that need the
# narrative's XHTML parsed; they are counted as not evaluated.
UNSUPPORTED_FUNCTIONS = ("htmlChecks", "conformsTo", "memberOf")
# US Core 6.1.0 is not on the npm registry: its extensions are reported as not checked.
OUTSIDE_PACKAGES = ("http://hl7.org/fhir/us/core/",)
NATIVE = {"ele-1", "ext-1"}  # checked in Python (fast; they are on every element)


@dataclass(frozen=True)
class Issue:
    severity: str  # "error" | "warning"
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


@dataclass
class Report:
    issues: list[Issue] = field(default_factory=list)
    skipped_bindings: set[str] = field(default_factory=set)
    skipped_invariants: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


class Definitions:
    """The conformance resources of a set of unpacked packages, by canonical URL."""

    def __init__(self, folders: Iterable[Path]):
        self.structures: dict[str, dict[str, Any]] = {}
        self.value_sets: dict[str, dict[str, Any]] = {}
        self.code_systems: dict[str, dict[str, Any]] = {}
        for folder in folders:
            for prefix, table in (
                ("StructureDefinition-", self.structures),
                ("ValueSet-", self.value_sets),
                ("CodeSystem-", self.code_systems),
            ):
                for file in sorted(folder.glob(prefix + "*.json")):
                    data = json.loads(file.read_text("utf-8"))
                    if isinstance(data.get("url"), str):
                        table.setdefault(data["url"], data)
        self._children: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._by_id: dict[str, dict[str, dict[str, Any]]] = {}
        self._expansions: dict[str, frozenset[tuple[str, str]] | None] = {}
        self._regex: dict[str, re.Pattern[str] | None] = {}

    def structure(self, url: str) -> dict[str, Any] | None:
        return self.structures.get(url.split("|")[0])

    def index(self, sd: dict[str, Any]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
        """Children by parent element id, and elements by id, of a snapshot."""
        url = sd["url"]
        if url not in self._children:
            children: dict[str, list[dict[str, Any]]] = {}
            by_id: dict[str, dict[str, Any]] = {}
            for element in sd["snapshot"]["element"]:
                by_id[element["id"]] = element
                if "." in element["id"]:
                    parent = element["id"].rsplit(".", 1)[0]
                    children.setdefault(parent, []).append(element)
            self._children[url], self._by_id[url] = children, by_id
        return self._children[url], self._by_id[url]

    def regex(self, type_code: str) -> re.Pattern[str] | None:
        if type_code not in self._regex:
            pattern = None
            sd = self.structure(BASE + type_code)
            if sd is not None:
                for element in sd["snapshot"]["element"]:
                    if element["id"] == f"{type_code}.value":
                        for t in element.get("type", []):
                            for ext in t.get("extension", []):
                                if ext.get("url") == REGEX_EXTENSION:
                                    pattern = _xsd_regex(ext["valueString"])
            self._regex[type_code] = pattern
        return self._regex[type_code]

    def expand(self, url: str) -> frozenset[tuple[str, str]] | None:
        """The (system, code) pairs of a value set, or None when it cannot be enumerated."""
        url = url.split("|")[0]
        if url in self._expansions:
            return self._expansions[url]
        self._expansions[url] = None  # cycles
        vs = self.value_sets.get(url)
        result: set[tuple[str, str]] | None = None
        if vs is not None and "compose" in vs:
            result = set()
            for include in vs["compose"].get("include", []):
                part = self._include(include)
                if part is None:
                    result = None
                    break
                result |= part
            if result is not None:
                for exclude in vs["compose"].get("exclude", []):
                    part = self._include(exclude)
                    if part is not None:
                        result -= part
        elif vs is not None and "expansion" in vs:
            result = {(c["system"], c["code"]) for c in _contains(vs["expansion"])}
        expansion = frozenset(result) if result is not None else None
        self._expansions[url] = expansion
        return expansion

    def _include(self, include: dict[str, Any]) -> set[tuple[str, str]] | None:
        if include.get("filter"):
            return None
        out: set[tuple[str, str]] | None = None
        system = include.get("system")
        if system is not None:
            if include.get("concept"):
                out = {(system, c["code"]) for c in include["concept"]}
            else:
                cs = self.code_systems.get(system)
                if cs is None or cs.get("content") != "complete":
                    return None
                out = {(system, code) for code in _concept_codes(cs.get("concept", []))}
        for vs_url in include.get("valueSet", []):
            nested = self.expand(vs_url)
            if nested is None:
                return None
            out = nested if out is None else (out & nested) if system else (out | nested)
        return out or set()


XSD_NOT_SPACE = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x21-\\U0010ffff"
XSD_SPACE = " \\t\\n\\r"


def _xsd_regex(text: str) -> re.Pattern[str]:
    """An XML Schema regular expression (whole value) in Python's dialect: XSD's \\s is only
    space, tab, CR and LF, where Python's also takes Unicode spaces."""
    out, in_class, i = [], False, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            pair = text[i : i + 2]
            if pair in ("\\s", "\\S"):
                chars = XSD_SPACE if pair == "\\s" else XSD_NOT_SPACE
                out.append(chars if in_class else f"[{chars}]")
            else:
                out.append(pair)
            i += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        out.append(char)
        i += 1
    return re.compile(f"(?:{''.join(out)})\\Z", re.S)


def _contains(expansion: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in expansion.get("contains", []):
        if "code" in item and "system" in item:
            yield item
        yield from _contains(item)


def _concept_codes(concepts: list[dict[str, Any]]) -> Iterator[str]:
    for concept in concepts:
        yield concept["code"]
        yield from _concept_codes(concept.get("concept", []))


def _upper(type_code: str) -> str:
    return type_code[0].upper() + type_code[1:]


def _is_primitive(type_code: str) -> bool:
    return type_code[:1].islower() or type_code == FHIRPATH_STRING


def _matches_pattern(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and _matches_pattern(value[k], v) for k, v in pattern.items()
        )
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(_matches_pattern(i, p) for i in items) for p in pattern)
    return bool(value == pattern)


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _prefixed(element: dict[str, Any], prefix: str) -> tuple[str, Any] | None:
    for key, value in element.items():
        if key.startswith(prefix) and key[len(prefix) : len(prefix) + 1].isupper():
            return key, value
    return None


class Validator:
    """Validates resources against the definitions; one instance per set of packages."""

    def __init__(self, definitions: Definitions):
        self.d = definitions
        self._compiled: dict[str, Any] = {}

    # -- entry points -------------------------------------------------------------------

    def validate(self, resource: dict[str, Any], profiles: Iterable[str] = ()) -> Report:
        """Every issue of a resource (a Bundle with its entries, or one resource)."""
        run = _Run(self, resource)
        run.resource(resource, resource.get("resourceType", "?"), extra_profiles=profiles)
        # a value checked against its base element and again against its slice is reported once
        run.report.issues = list(dict.fromkeys(run.report.issues))
        return run.report

    def evaluate(
        self, value: Any, base: str, expression: str, variables: dict[str, Any]
    ) -> list[Any]:
        """An invariant's FHIRPath on one value (typed by its element path, for choices)."""
        if expression not in self._compiled:
            self._compiled[expression] = parse(expression)
        node = ResourceNode.create_node(value, base)
        result: list[Any] = apply_parsed_path(
            node, self._compiled[expression], variables, R4_MODEL, {"traceFn": _quiet}
        )
        return result


class _Run:
    """One validation: the bundle's resources by reference, the issues found."""

    def __init__(self, validator: Validator, root: dict[str, Any]):
        self.v = validator
        self.d = validator.d
        self.root = root
        self.report = Report()
        self.by_reference: dict[str, dict[str, Any]] = {}
        self.conforms: dict[tuple[int, str], bool] = {}
        if root.get("resourceType") == "Bundle":
            for entry in _listed(root.get("entry")):
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if not isinstance(resource, dict):
                    continue
                if isinstance(entry.get("fullUrl"), str):
                    self.by_reference[entry["fullUrl"]] = resource
                if "id" in resource and "resourceType" in resource:
                    self.by_reference[f"{resource['resourceType']}/{resource['id']}"] = resource

    def error(self, path: str, message: str) -> None:
        self.report.issues.append(Issue("error", path, message))

    def warning(self, path: str, message: str) -> None:
        self.report.issues.append(Issue("warning", path, message))

    # -- resources ----------------------------------------------------------------------

    def resource(
        self, resource: dict[str, Any], path: str, extra_profiles: Iterable[str] = ()
    ) -> None:
        rtype = resource.get("resourceType")
        if not isinstance(rtype, str) or self.d.structure(BASE + rtype) is None:
            self.error(path, f"unknown resourceType {rtype!r}")
            return
        declared = [
            p for p in _listed((resource.get("meta") or {}).get("profile")) if isinstance(p, str)
        ]
        known = []
        for url in [*declared, *extra_profiles]:
            sd = self.d.structure(url)
            if sd is None:
                self.warning(path, f"profile {url} is not in the fetched packages")
            elif sd.get("type") != rtype:
                self.error(path, f"profile {url} is for {sd.get('type')}, not {rtype}")
            elif url not in known:
                known.append(url)
        if not known:
            known = [BASE + rtype]
        for url in known:
            sd = self.d.structure(url)
            assert sd is not None
            self.against(resource, sd, path, resource)

    def against(
        self, value: dict[str, Any], sd: dict[str, Any], path: str, resource: dict[str, Any]
    ) -> None:
        """A resource, data type or extension value against a structure's root element."""
        root = sd["snapshot"]["element"][0]
        self.constraints(value, root, root["path"], path, resource)
        self.node(
            value, sd, root["id"], root["path"], path, resource, is_resource="resourceType" in value
        )

    def conforms_to(self, resource: dict[str, Any], url: str) -> bool:
        key = (id(resource), url)
        if key not in self.conforms:
            self.conforms[key] = True  # cycles
            sd = self.d.structure(url)
            if sd is None:
                ok = True
            else:
                probe = _Run(self.v, self.root)
                probe.by_reference = self.by_reference
                probe.conforms = self.conforms
                probe.against(resource, sd, "", resource)
                ok = not probe.report.errors
            self.conforms[key] = ok
        return self.conforms[key]

    # -- elements -----------------------------------------------------------------------

    def node(
        self,
        value: dict[str, Any],
        sd: dict[str, Any],
        context_id: str,
        fhir_path: str,
        path: str,
        resource: dict[str, Any],
        *,
        is_resource: bool = False,
    ) -> None:
        children, by_id = self.d.index(sd)
        used = {"resourceType"} if is_resource else set()
        owner = by_id.get(context_id, {})
        owner_types = [t["code"] for t in owner.get("type", [])]
        owner_type = owner_types[0] if len(owner_types) == 1 else fhir_path
        for element in children.get(context_id, []):
            name = element["path"].rsplit(".", 1)[1]
            if ":" in element["id"].rsplit(".", 1)[1]:
                continue  # a slice: checked with its base element
            items: list[tuple[Any, Any, str, str]] = []  # (value, _value, type, key)
            types = [t["code"] for t in element.get("type", [])]
            if name.endswith("[x]"):
                stem = name[:-3]
                for key in list(value):
                    bare = key[1:] if key.startswith("_") else key
                    if not bare.startswith(stem) or not bare[len(stem) : len(stem) + 1].isupper():
                        continue
                    suffix = bare[len(stem) :]
                    match = [t for t in types if _upper(t) == suffix]
                    used.add(key)
                    if not match:
                        self.error(f"{path}.{key}", f"type {suffix} is not allowed for {name}")
                        continue
                    if key.startswith("_") and bare in value:
                        continue
                    items.append((value.get(bare), value.get("_" + bare), match[0], bare))
            else:
                raw, ext = value.get(name), value.get("_" + name)
                if raw is None and ext is None:
                    pass
                else:
                    used.update({name, "_" + name})
                    type_code = types[0] if types else "BackboneElement"
                    if isinstance(raw, list) or isinstance(ext, list):
                        if element.get("max") == "1" and element["base"].get("max") == "1":
                            self.error(f"{path}.{name}", "must not be an array")
                        raws, exts = _listed(raw), _listed(ext)
                        for i in range(max(len(raws), len(exts))):
                            items.append(
                                (
                                    raws[i] if i < len(raws) else None,
                                    exts[i] if i < len(exts) else None,
                                    type_code,
                                    f"{name}[{i}]",
                                )
                            )
                    else:
                        if element["base"].get("max") not in ("0", "1"):
                            self.error(f"{path}.{name}", "must be an array")
                        items.append((raw, ext, type_code, name))
            self.cardinality(element, len(items), f"{path}.{name}")
            for raw, ext, type_code, key in items:
                self.item(
                    raw,
                    ext,
                    type_code,
                    element,
                    sd,
                    f"{fhir_path}.{name}",
                    f"{path}.{key}",
                    resource,
                    owner_type=owner_type,
                )
            if "slicing" in element and items:
                self.slices(items, element, sd, by_id, fhir_path, path, resource, owner_type)
        for key in value:
            if key not in used and key != "fhir_comments":
                self.error(f"{path}.{key}", "is not an element of " + fhir_path)

    def cardinality(self, element: dict[str, Any], count: int, path: str) -> None:
        low, high = element.get("min", 0), element.get("max", "*")
        label = element["id"].rsplit(".", 1)[1]
        if count < low:
            self.error(path, f"{label}: at least {low} required, found {count}")
        if high != "*" and count > int(high):
            self.error(path, f"{label}: at most {high} allowed, found {count}")

    def item(
        self,
        raw: Any,
        ext: Any,
        type_code: str,
        element: dict[str, Any],
        sd: dict[str, Any],
        fhir_path: str,
        path: str,
        resource: dict[str, Any],
        *,
        children_of: str | None = None,
        owner_type: str = "",
    ) -> None:
        """One value of an element: type, fixed/pattern, binding, invariants, children."""
        if ext is not None:
            if not isinstance(ext, dict):
                self.error(path, "the _element must be an object")
            else:
                self.primitive_extras(ext, fhir_path, path, resource)
        if raw is None:
            if ext is None:
                self.error(path, "null is not a FHIR value")
            return
        if _is_primitive(type_code):
            self.primitive(raw, type_code, path)
        elif not isinstance(raw, dict):
            self.error(path, f"{type_code} must be an object")
            return
        elif not raw or set(raw) <= {"id"}:
            self.error(path, "ele-1: All FHIR elements must have a @value or children")
        fixed = _prefixed(element, "fixed")
        if fixed is not None and raw != fixed[1]:
            self.error(path, f"must be exactly {json.dumps(fixed[1])} ({fixed[0]})")
        pattern = _prefixed(element, "pattern")
        if pattern is not None and not _matches_pattern(raw, pattern[1]):
            self.error(path, f"must match {json.dumps(pattern[1])} ({pattern[0]})")
        self.binding(raw, type_code, element, path)
        if _is_primitive(type_code):
            return
        base = type_code if "[x]" in fhir_path else fhir_path
        self.constraints(raw, element, base, path, resource)
        if type_code == "Reference":
            self.reference(raw, element, path)
        profiles = [
            p
            for t in element.get("type", [])
            if t["code"] == type_code
            for p in t.get("profile", [])
        ]
        if type_code == "Extension":
            if ":" in str(raw.get("url", "")):
                self.extension(raw, fhir_path.rsplit(".", 1)[0], owner_type, path, resource)
                return
            if children_of is None:
                return  # a relative url: checked against its slice
        elif type_code == "Resource" or type_code in self.resource_types():
            if "resourceType" in raw:
                where = path + f"/*{raw.get('resourceType')}/{raw.get('id', '')}*/"
                self.resource(raw, where, extra_profiles=profiles)
            else:
                self.error(path, "a resource needs resourceType")
            return
        children, _ = self.d.index(sd)
        context = children_of or element["id"]
        if "contentReference" in element:
            context = element["contentReference"].split("#", 1)[1]
        if children.get(context):
            self.node(
                raw,
                sd,
                context,
                element["path"] if "contentReference" not in element else context,
                path,
                resource,
            )
            return
        target = self.d.structure(profiles[0]) if profiles else self.d.structure(BASE + type_code)
        if target is None:
            self.error(path, f"no definition for type {type_code}")
            return
        root = target["snapshot"]["element"][0]
        self.constraints(raw, root, root["path"], path, resource)
        self.node(raw, target, root["id"], root["path"], path, resource)

    def resource_types(self) -> set[str]:
        if not hasattr(self, "_resource_types"):
            self._resource_types = {
                sd["type"]
                for sd in self.d.structures.values()
                if sd.get("kind") == "resource" and sd.get("derivation") == "specialization"
            }
        return self._resource_types

    def primitive(self, raw: Any, type_code: str, path: str) -> None:
        expected = PRIMITIVE_JSON.get(type_code, (str,))
        if isinstance(raw, bool) and bool not in expected:
            self.error(path, f"{type_code} must not be a boolean")
            return
        if not isinstance(raw, expected):
            self.error(path, f"{type_code} must be a JSON {expected[0].__name__}")
            return
        if isinstance(raw, str):
            padded = raw != raw.strip() and type_code not in ("string", "markdown")
            if raw.strip() == "" or padded:
                self.error(path, f"{type_code} must not be empty or padded")
                return
            pattern = self.d.regex(type_code) if type_code != FHIRPATH_STRING else None
            if pattern is not None and not pattern.match(raw):
                self.error(path, f"{raw!r} is not a valid {type_code}")

    def primitive_extras(
        self, ext: dict[str, Any], fhir_path: str, path: str, resource: dict[str, Any]
    ) -> None:
        for key in ext:
            if key not in ("id", "extension"):
                self.error(f"{path}._{key}", "only id and extension are allowed on a primitive")
        for i, extension in enumerate(_listed(ext.get("extension"))):
            if isinstance(extension, dict):
                self.extension(extension, fhir_path, "", f"{path}.extension[{i}]", resource)

    # -- slices -------------------------------------------------------------------------

    def slices(
        self,
        items: list[tuple[Any, Any, str, str]],
        element: dict[str, Any],
        sd: dict[str, Any],
        by_id: dict[str, Any],
        fhir_path: str,
        path: str,
        resource: dict[str, Any],
        owner_type: str,
    ) -> None:
        slicing = element["slicing"]
        prefix = element["id"] + ":"
        slices = [
            e
            for e in sd["snapshot"]["element"]
            if e["id"].startswith(prefix)
            and "." not in e["id"][len(prefix) :]
            and "/" not in e["id"][len(prefix) :]
        ]
        counts = {s["id"]: 0 for s in slices}
        undecidable = set()
        name = element["path"].rsplit(".", 1)[1]
        for raw, _ext, type_code, key in items:
            matched = None
            for candidate in slices:
                verdict = self.in_slice(raw, type_code, candidate, slicing, by_id)
                if verdict is None:
                    undecidable.add(candidate["id"])
                elif verdict:
                    matched = candidate
                    break
            if matched is None:
                if slicing.get("rules") == "closed" and not undecidable:
                    self.error(
                        f"{path}.{key}", f"matches no slice of the closed slicing {element['id']}"
                    )
                continue
            counts[matched["id"]] += 1
            if type_code != "Extension" or ":" not in str(raw.get("url", "")):
                self.item(
                    raw,
                    None,
                    type_code,
                    matched,
                    sd,
                    f"{fhir_path}.{name}",
                    f"{path}.{key}",
                    resource,
                    children_of=matched["id"],
                    owner_type=owner_type,
                )
        for candidate in slices:
            if candidate["id"] not in undecidable:
                self.cardinality(candidate, counts[candidate["id"]], f"{path}.{name}")

    def in_slice(
        self,
        raw: Any,
        type_code: str,
        candidate: dict[str, Any],
        slicing: dict[str, Any],
        by_id: dict[str, Any],
    ) -> bool | None:
        """Whether a value belongs to a slice; None when the discriminator is not supported."""
        for discriminator in slicing.get("discriminator", []):
            kind, where = discriminator["type"], discriminator["path"]
            if kind == "type":
                allowed = {t["code"] for t in candidate.get("type", [])}
                if where == "$this":
                    actual = type_code
                else:
                    found = _navigate(raw, where)
                    actual = (
                        found[0].get("resourceType")
                        if found and isinstance(found[0], dict)
                        else None
                    )
                if actual not in allowed and not (where != "$this" and allowed == {"Resource"}):
                    child = by_id.get(f"{candidate['id']}.{where}")
                    child_types = {t["code"] for t in (child or {}).get("type", [])}
                    if actual not in child_types:
                        return False
                continue
            if kind == "profile":
                child = candidate if where == "$this" else by_id.get(f"{candidate['id']}.{where}")
                if child is None:
                    return None
                urls = [p for t in child.get("type", []) for p in t.get("profile", [])]
                found = _navigate(raw, where) if where != "$this" else [raw]
                if not urls or not found or not isinstance(found[0], dict):
                    return False
                if not any(self.conforms_to(found[0], u) for u in urls):
                    return False
                continue
            if kind not in ("value", "pattern", "exists"):
                return None
            if where == "url" and type_code == "Extension":
                urls = [p for t in candidate.get("type", []) for p in t.get("profile", [])]
                child = by_id.get(f"{candidate['id']}.url")
                if child is not None and "fixedUri" in child:
                    urls = [child["fixedUri"]]
                if not urls:
                    return None
                if not isinstance(raw, dict) or raw.get("url") not in urls:
                    return False
                continue
            child = candidate if where == "$this" else by_id.get(f"{candidate['id']}.{where}")
            if child is None:
                return None
            found = [raw] if where == "$this" else _navigate(raw, where)
            if kind == "exists":
                should = child.get("min", 0) > 0
                if bool(found) != should and not (child.get("max") != "0" and not should):
                    return False
                continue
            expected = _prefixed(child, "fixed") or _prefixed(child, "pattern")
            if expected is None:
                binding = child.get("binding")
                if binding and binding.get("strength") == "required":
                    codes = self.d.expand(binding.get("valueSet", ""))
                    if codes is None:
                        return None
                    if not any(_codes_in(f, codes) for f in found):
                        return False
                    continue
                return None
            if not any(_matches_pattern(f, expected[1]) for f in found):
                return False
        return True

    # -- bindings, invariants, references, extensions ------------------------------------

    def binding(self, raw: Any, type_code: str, element: dict[str, Any], path: str) -> None:
        binding = element.get("binding")
        if not binding or binding.get("strength") != "required" or "valueSet" not in binding:
            return
        if type_code not in ("code", "Coding", "CodeableConcept", "string", "uri", "Quantity"):
            return
        codes = self.d.expand(binding["valueSet"])
        if codes is None:
            self.report.skipped_bindings.add(binding["valueSet"].split("|")[0])
            return
        if type_code in ("code", "string", "uri"):
            if raw not in {code for _, code in codes}:
                self.error(path, f"{raw!r} is not in the required value set {binding['valueSet']}")
            return
        if type_code == "CodeableConcept" and not _listed(raw.get("coding")):
            self.error(path, f"no coding from the required value set {binding['valueSet']}")
            return
        if not _codes_in(raw, codes):
            shown = [(c.get("system"), c.get("code")) for c in _codings(raw)]
            self.error(path, f"{shown} is not in the required value set {binding['valueSet']}")

    def constraints(
        self,
        raw: dict[str, Any],
        element: dict[str, Any],
        base: str,
        path: str,
        resource: dict[str, Any],
    ) -> None:
        for constraint in element.get("constraint", []):
            key, expression = constraint.get("key"), constraint.get("expression")
            if not expression or key in NATIVE:
                continue
            if any(f in expression for f in UNSUPPORTED_FUNCTIONS):
                self.report.skipped_invariants.add(str(key))
                continue
            try:
                variables = {"resource": resource, "rootResource": self.root}
                result = self.v.evaluate(raw, base, expression, variables)
            except Exception:  # an expression fhirpathpy cannot evaluate
                self.report.skipped_invariants.add(str(key))
                continue
            # An empty result is not a failure (a display-only reference leaves ref-1 empty).
            if result == [False]:
                message = f"{key}: {constraint.get('human', expression)}"
                if constraint.get("severity") == "error":
                    self.error(path, message)
                else:
                    self.warning(path, message)
        if isinstance(raw, dict) and "extension" in raw:
            for extension in _listed(raw["extension"]):
                has_value = isinstance(extension, dict) and any(
                    k.startswith("value") for k in extension
                )
                if isinstance(extension, dict) and has_value == bool(extension.get("extension")):
                    self.error(path, "ext-1: Must have either extensions or value[x], not both")

    def reference(self, raw: dict[str, Any], element: dict[str, Any], path: str) -> None:
        target_url = raw.get("reference")
        if not isinstance(target_url, str):
            return
        target = self.by_reference.get(target_url)
        if target is None:
            if target_url.startswith(("urn:uuid:", "urn:oid:")):
                self.error(path, f"{target_url} is not in the bundle")
            elif not target_url.startswith("#"):
                self.warning(path, f"{target_url} is not in the bundle (not checked)")
            return
        profiles = [
            p
            for t in element.get("type", [])
            if t["code"] == "Reference"
            for p in t.get("targetProfile", [])
        ]
        if not profiles:
            return
        rtype = target.get("resourceType")
        for url in profiles:
            sd = self.d.structure(url)
            if sd is None:
                # A profile outside the packages (US Core): the resource type only.
                stem = url.rsplit("/", 1)[-1].removeprefix("us-core-").replace("-", "").lower()
                if isinstance(rtype, str) and stem.startswith(rtype.lower()):
                    return
                continue
            if sd.get("type") != rtype:
                continue
            if sd.get("derivation") == "specialization" or self.conforms_to(target, url):
                return
        self.error(path, f"{target_url} ({rtype}) is not one of {profiles}")

    def extension(
        self,
        raw: dict[str, Any],
        parent_path: str,
        parent_type: str,
        path: str,
        resource: dict[str, Any],
    ) -> None:
        url = raw.get("url")
        if not isinstance(url, str):
            self.error(path, "an extension needs a url")
            return
        sd = self.d.structure(url)
        if sd is None:
            if url.startswith(OUTSIDE_PACKAGES):
                self.warning(path, f"extension {url} is in a package not fetched (not checked)")
            elif "hl7.org" in url:
                self.error(path, f"unknown extension {url}")
            else:
                self.warning(path, f"extension {url} is not defined in the packages")
            return
        contexts = sd.get("context", [])
        if contexts and not any(self.in_context(c, parent_path, parent_type) for c in contexts):
            allowed = [c.get("expression") for c in contexts]
            self.error(path, f"extension {url} is not allowed on {parent_path} (only {allowed})")
        self.against(raw, sd, path, resource)

    def in_context(self, context: dict[str, Any], parent_path: str, parent_type: str) -> bool:
        expression = context.get("expression", "")
        if context.get("type") != "element":
            return True  # fhirpath and extension contexts are not checked
        if expression in ("Element", "Base", parent_path, parent_type):
            return True
        if expression in ("Resource", "DomainResource"):
            return parent_path in self.resource_types()
        return False


def _quiet(*_args: Any) -> None:
    """FHIRPath trace() output is not wanted."""


def _codings(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [c for c in _listed(value["coding"]) if isinstance(c, dict)]
    return [value]


def _codes_in(value: Any, codes: frozenset[tuple[str, str]]) -> bool:
    if isinstance(value, str):
        return value in {code for _, code in codes}
    if isinstance(value, dict) and "code" in value and "system" in value and "coding" not in value:
        return (value.get("system"), value.get("code")) in codes
    return any((c.get("system"), c.get("code")) in codes for c in _codings(value))


def _navigate(value: Any, where: str) -> list[Any]:
    """Values at a simple dotted path (with `extension('url')` steps)."""
    current = [value]
    for step in re.findall(r"extension\('[^']*'\)|[^.]+", where):
        found: list[Any] = []
        for item in current:
            if not isinstance(item, dict):
                continue
            if step.startswith("extension('"):
                url = step[len("extension('") : -2]
                found += [
                    e
                    for e in _listed(item.get("extension"))
                    if isinstance(e, dict) and e.get("url") == url
                ]
            elif step in item:
                found += _listed(item[step])
            else:
                found += [
                    v
                    for k, v in item.items()
                    if k.startswith(step) and k[len(step) : len(step) + 1].isupper()
                ]
        current = found
    return current
