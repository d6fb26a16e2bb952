"""The Timeline tab: draws the domain's timeline model (the same model the PDF draws) on one
date axis — milestones, procedures and reviews on top, chemotherapy cycles coloured by
regimen (a dot when a biologic was given), immunotherapy, the sum of target diameters with
the RECIST category at each imaging timepoint, and CEA on a second axis.  Hover shows the
values; a click asks the workspace to show that record."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QVBoxLayout, QWidget

from crlmboard.domain.case import Case
from crlmboard.domain.labels import response_text
from crlmboard.domain.timeline import Timeline, build_timeline

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
SIZE_COLOUR = QColor("#1a1a1a")
CEA_COLOUR = QColor("#c0392b")


@dataclass(frozen=True)
class HitArea:
    """Something drawn that hover and click know about."""

    rect: QRectF
    kind: str  # "chemotherapy" | "imaging" | "procedure" | "cea" | "review" | "milestone"
    when: date
    text: str


class TimelineCanvas(QWidget):
    """Paints one timeline; keeps the drawn marks for hover and click."""

    record_clicked = Signal(str, object)  # kind, date

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.timeline: Timeline | None = None
        self.hits: list[HitArea] = []
        self.setMouseTracking(True)
        self.setMinimumHeight(420)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_timeline(self, timeline: Timeline | None) -> None:
        self.timeline = timeline
        self.update()

    # -- geometry ---------------------------------------------------------------------

    def _x(self, when: date, plot: QRectF) -> float:
        assert self.timeline is not None
        return plot.left() + self.timeline.axis.fraction(when) * plot.width()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        self.hits = []
        timeline = self.timeline
        if timeline is None or timeline.empty:
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "Nothing dated to show yet."
            )
            return
        metrics = painter.fontMetrics()
        line_height = metrics.height()
        left, right = 70.0, 70.0
        width = self.width() - left - right
        events_top = 8.0
        events = QRectF(left, events_top, width, line_height * 4.5)
        chemo = QRectF(left, events.bottom() + 8, width, line_height * 2.2)
        chart = QRectF(
            left,
            chemo.bottom() + line_height * 1.2,
            width,
            max(self.height() - chemo.bottom() - line_height * 4.5 - 30, 120),
        )
        self._draw_axis(painter, timeline, chart, events)
        self._draw_events(painter, timeline, events)
        self._draw_chemotherapy(painter, timeline, chemo)
        self._draw_chart(painter, timeline, chart)
        self._draw_legend(painter, timeline, chart)

    def _draw_axis(
        self, painter: QPainter, timeline: Timeline, chart: QRectF, events: QRectF
    ) -> None:
        painter.setPen(QPen(QColor("#c8c8c8"), 1, Qt.PenStyle.DotLine))
        for tick in timeline.axis.ticks(max_ticks=max(int(chart.width() / 110), 2)):
            x = self._x(tick, chart)
            painter.drawLine(QPointF(x, events.top()), QPointF(x, chart.bottom()))
            painter.setPen(self.palette().text().color())
            painter.drawText(
                QRectF(x - 40, chart.bottom() + 4, 80, 18),
                Qt.AlignmentFlag.AlignHCenter,
                tick.strftime("%b %Y"),
            )
            painter.setPen(QPen(QColor("#c8c8c8"), 1, Qt.PenStyle.DotLine))
        if (
            timeline.as_of is not None
            and timeline.axis.start <= timeline.as_of <= timeline.axis.end
        ):
            x = self._x(timeline.as_of, chart)
            painter.setPen(QPen(QColor("#555555"), 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, events.top()), QPointF(x, chart.bottom()))
            painter.drawText(QPointF(x + 3, chart.bottom() - 4), "today")

    def _draw_events(self, painter: QPainter, timeline: Timeline, band: QRectF) -> None:
        items: list[tuple[date, str, str, str, QColor]] = []
        for m in timeline.milestones:
            items.append((m.date, m.short_label, m.label, "milestone", QColor("#34495e")))
        for p in timeline.procedures:
            colour = QColor("#8e44ad") if p.liver_clearing else QColor("#2c7873")
            segments = f" (segments {', '.join(map(str, p.segments))})" if p.segments else ""
            items.append((p.date, p.short_label, p.label + segments, "procedure", colour))
        for r in timeline.reviews:
            text = f"Board review: {(r.recommendation or 'no recommendation').replace('_', ' ')}"
            items.append(
                (
                    r.date,
                    "MDT",
                    text + (" (signed)" if r.signed else ""),
                    "review",
                    QColor("#7f8c8d"),
                )
            )
        items.sort(key=lambda item: item[0])
        metrics = painter.fontMetrics()
        rows: list[float] = []  # right edge of the last label in each row
        height = metrics.height()
        for when, short, text, kind, colour in items:
            x = self._x(when, band)
            label_width = metrics.horizontalAdvance(short) + 6
            # near the right edge the label goes to the left of its mark
            flip = x + label_width > self.width() - 4
            start = x - label_width - 4 if flip else x
            row = next((i for i, edge in enumerate(rows) if start > edge), len(rows))
            if row == len(rows):
                rows.append(0.0)
            rows[row] = start + label_width + 6
            y = band.top() + row * height
            painter.setPen(QPen(colour, 2))
            painter.drawLine(QPointF(x, y + height), QPointF(x, band.bottom() + 4))
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(x, y + height * 0.5), 3.5, 3.5)
            painter.setPen(colour.darker(130))
            painter.drawText(QPointF(start + (0 if flip else 6), y + height * 0.8), short)
            self.hits.append(
                HitArea(
                    QRectF(start - 5, y, label_width + 12, height),
                    kind,
                    when,
                    f"{when.isoformat()}: {text}",
                )
            )

    def _draw_chemotherapy(self, painter: QPainter, timeline: Timeline, band: QRectF) -> None:
        colours = {
            reg: QColor(PALETTE[i % len(PALETTE)]) for i, reg in enumerate(timeline.regimens)
        }
        bar = QRectF(0, band.top() + band.height() * 0.35, 0, band.height() * 0.45)
        painter.setPen(self.palette().text().color())
        painter.drawText(
            QRectF(0, band.top(), band.left() - 6, band.height()),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            "Systemic",
        )
        for cycle in timeline.chemotherapy:
            x0, x1 = self._x(cycle.date, band), self._x(cycle.end, band)
            rect = QRectF(x0, bar.top(), max(x1 - x0 - 1, 2), bar.height())
            painter.fillRect(rect, colours[cycle.regimen])
            text = (
                f"{cycle.date.isoformat()}: {cycle.regimen.upper()} cycle {cycle.cycle} "
                f"(line {cycle.line}, {cycle.setting})"
            )
            if cycle.biologic:
                painter.setBrush(QColor("#000000"))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.drawEllipse(QPointF(x0 + 3, bar.top() - 5), 2.5, 2.5)
                text += f" + {cycle.biologic.replace('_', ' ')}"
            if cycle.dose_percent != 100:
                text += f", dose {cycle.dose_percent:g} %"
            self.hits.append(HitArea(rect.adjusted(0, -8, 0, 0), "chemotherapy", cycle.date, text))
        for dose in timeline.immunotherapy:
            x = self._x(dose.date, band)
            path = QPainterPath()
            cy = band.top() + band.height() * 0.15
            path.moveTo(x, cy - 4)
            path.lineTo(x + 4, cy)
            path.lineTo(x, cy + 4)
            path.lineTo(x - 4, cy)
            path.closeSubpath()
            painter.fillPath(path, QColor("#16a085"))
            self.hits.append(
                HitArea(
                    QRectF(x - 5, cy - 5, 10, 10),
                    "immunotherapy",
                    dose.date,
                    f"{dose.date.isoformat()}: {dose.agent.replace('_', ' + ')} ({dose.setting})",
                )
            )

    def _draw_chart(self, painter: QPainter, timeline: Timeline, chart: QRectF) -> None:
        painter.setPen(QPen(QColor("#999999"), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(chart)
        top_size = (timeline.max_sum_mm or 10) * 1.15
        top_cea = (timeline.max_cea or 5) * 1.15

        def y_size(value: float) -> float:
            return chart.bottom() - value / top_size * chart.height()

        def y_cea(value: float) -> float:
            return chart.bottom() - value / top_cea * chart.height()

        painter.setPen(SIZE_COLOUR)
        painter.drawText(
            QRectF(0, chart.top() - 2, chart.left() - 6, 36),
            Qt.AlignmentFlag.AlignRight,
            f"{top_size:.0f} mm",
        )
        painter.drawText(
            QRectF(0, chart.bottom() - 16, chart.left() - 6, 16), Qt.AlignmentFlag.AlignRight, "0"
        )
        painter.setPen(CEA_COLOUR)
        painter.drawText(
            QRectF(chart.right() + 6, chart.top() - 2, 64, 36),
            Qt.AlignmentFlag.AlignLeft,
            f"{top_cea:.0f}\nCEA ng/mL",
        )

        points: list[tuple[QPointF, Any]] = []
        for mark in timeline.imaging:
            value = mark.target_sum_mm if mark.target_sum_mm is not None else mark.total_diameter_mm
            x = self._x(mark.date, chart)
            if value is None:
                painter.setPen(QPen(QColor("#777777"), 1, Qt.PenStyle.DashLine))
                painter.drawLine(QPointF(x, chart.top()), QPointF(x, chart.bottom()))
                continue
            points.append((QPointF(x, y_size(value)), mark))
        painter.setPen(QPen(SIZE_COLOUR, 2))
        for (a, _), (b, _) in itertools.pairwise(points):
            painter.drawLine(a, b)
        bold = QFont(painter.font())
        bold.setBold(True)
        for point, mark in points:
            painter.setBrush(SIZE_COLOUR)
            painter.drawEllipse(point, 4, 4)
            label = "BL" if mark.baseline else (mark.response or "")
            if label:
                painter.setFont(bold)
                painter.drawText(point + QPointF(-8, -9), label)
                painter.setFont(self.font())
            value = mark.target_sum_mm if mark.target_sum_mm is not None else mark.total_diameter_mm
            kind = "target sum" if mark.target_sum_mm is not None else "sum of diameters"
            text = (
                f"{mark.date.isoformat()}: {(mark.modality or 'imaging').upper()} — "
                f"{mark.lesion_count} lesion(s), {kind} {value:g} mm"
            )
            if mark.response:
                text += f", RECIST {response_text(mark.response)}"
            if mark.new_lesions:
                text += ", new lesions"
            if mark.flr_percent is not None:
                text += f", FLR {mark.flr_percent:g} %"
            self.hits.append(
                HitArea(QRectF(point.x() - 7, point.y() - 20, 14, 28), "imaging", mark.date, text)
            )
        cea_points = [QPointF(self._x(c.date, chart), y_cea(c.value)) for c in timeline.cea]
        painter.setPen(QPen(CEA_COLOUR, 1.5, Qt.PenStyle.DashLine))
        for a, b in itertools.pairwise(cea_points):
            painter.drawLine(a, b)
        painter.setBrush(CEA_COLOUR)
        for point, cea in zip(cea_points, timeline.cea, strict=True):
            painter.setPen(CEA_COLOUR)
            painter.drawRect(QRectF(point.x() - 3, point.y() - 3, 6, 6))
            self.hits.append(
                HitArea(
                    QRectF(point.x() - 6, point.y() - 6, 12, 12),
                    "cea",
                    cea.date,
                    f"{cea.date.isoformat()}: CEA {cea.value:g} ng/mL",
                )
            )

    def _draw_legend(self, painter: QPainter, timeline: Timeline, chart: QRectF) -> None:
        metrics = painter.fontMetrics()
        y = chart.bottom() + 24 + metrics.height()
        x = chart.left()
        entries: list[tuple[QColor, str, str]] = [
            (QColor(PALETTE[i % len(PALETTE)]), regimen.upper(), "bar")
            for i, regimen in enumerate(timeline.regimens)
        ]
        entries += [
            (QColor("#000000"), "biologic given", "dot"),
            (SIZE_COLOUR, "sum of target diameters (RECIST)", "line"),
            (CEA_COLOUR, "CEA", "dash"),
        ]
        for colour, text, shape in entries:
            if shape == "bar":
                painter.fillRect(QRectF(x, y - 8, 14, 8), colour)
            elif shape == "dot":
                painter.setBrush(colour)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.drawEllipse(QPointF(x + 7, y - 4), 2.5, 2.5)
            else:
                style = Qt.PenStyle.DashLine if shape == "dash" else Qt.PenStyle.SolidLine
                painter.setPen(QPen(colour, 2, style))
                painter.drawLine(QPointF(x, y - 4), QPointF(x + 14, y - 4))
            painter.setPen(self.palette().text().color())
            painter.drawText(QPointF(x + 18, y), text)
            x += 30 + metrics.horizontalAdvance(text)

    # -- interaction ------------------------------------------------------------------

    def hit_at(self, point: QPointF) -> HitArea | None:
        for hit in reversed(self.hits):
            if hit.rect.contains(point):
                return hit
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.hit_at(event.position())
        if hit is None:
            QToolTip.hideText()
            self.unsetCursor()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), hit.text, self)
            self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.hit_at(event.position())
        if hit is not None:
            self.record_clicked.emit(hit.kind, hit.when)


class TimelineView(QWidget):
    """The Timeline tab."""

    record_clicked = Signal(str, object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.canvas = TimelineCanvas()
        self.canvas.record_clicked.connect(self.record_clicked)
        layout.addWidget(self.canvas)

    def show_case(self, case: Case, evaluation: dict[str, Any] | None) -> None:
        facts = (evaluation or {}).get("facts")
        as_of = None
        if evaluation and evaluation.get("as_of"):
            as_of = date.fromisoformat(evaluation["as_of"])
        self.canvas.set_timeline(build_timeline(case, facts, as_of=as_of))
