"""The rule catalogue: every rule, its severity, thresholds from the profile in force, and
its sources with full references."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStyle,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

SEVERITY_MARK = {"critical": "Critical", "warning": "Warning", "advice": "Advice", "info": "Info"}
SEVERITY_ICON = {
    "critical": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "advice": QStyle.StandardPixmap.SP_MessageBoxInformation,
    "info": QStyle.StandardPixmap.SP_FileDialogInfoView,
}


class RuleCatalogueDialog(QDialog):
    """All rules on the left, the chosen rule in full on the right."""

    def __init__(
        self, rules: list[dict[str, Any]], profile_name: str, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.setWindowTitle(f"Rule catalogue — profile {profile_name}")
        self.resize(1100, 680)
        self.rules = rules
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "The engine supports the board; it decides nothing. Each rule "
                "lists the thresholds it reads from the institution profile "
                "and the sources it rests on."
            )
        )
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter rules…")
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        splitter = QSplitter()
        self.list = QListWidget()
        for rule in rules:
            item = QListWidgetItem(
                f"{rule['id']}\n{SEVERITY_MARK.get(rule['severity'], '')}: {rule['title']}"
            )
            if rule["severity"] in SEVERITY_ICON:
                item.setIcon(self.style().standardIcon(SEVERITY_ICON[rule["severity"]]))
            item.setData(Qt.ItemDataRole.UserRole, rule["id"])
            self.list.addItem(item)
        self.list.currentRowChanged.connect(self._show)
        self.detail = QTextBrowser()
        self.detail.setOpenExternalLinks(False)
        splitter.addWidget(self.list)
        splitter.addWidget(self.detail)
        splitter.setSizes([420, 680])
        layout.addWidget(splitter, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if rules:
            self.list.setCurrentRow(0)

    def select_rule(self, rule_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == rule_id:
                self.list.setCurrentRow(row)
                return

    def _filter(self, text: str) -> None:
        needle = text.casefold()
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(needle not in item.text().casefold())

    def _show(self, row: int) -> None:
        if not 0 <= row < len(self.rules):
            return
        rule = self.rules[row]
        e = html.escape
        parts = [
            f"<h2>{e(rule['title'])}</h2>",
            f"<p><b>{e(rule['id'])}</b> — {e(SEVERITY_MARK.get(rule['severity'], ''))}</p>",
            f"<p>{e(rule['description'])}</p>",
        ]
        if rule["profile_keys"]:
            parts.append("<h3>Thresholds (institution profile)</h3><ul>")
            for key in rule["profile_keys"]:
                unit = f" {e(str(key['unit']))}" if key.get("unit") else ""
                parts.append(
                    f"<li><code>{e(key['key'])}</code> = {key['value']:g}{unit} — "
                    f"{e(str(key.get('meaning', '')))}</li>"
                )
            parts.append("</ul>")
        parts.append("<h3>Sources</h3><ul>")
        for source in rule["sources"]:
            parts.append(f"<li><b>{e(source['key'])}</b>: {e(source['reference'])}</li>")
        parts.append("</ul>")
        self.detail.setHtml("".join(parts))
