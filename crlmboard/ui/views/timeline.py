"""The Timeline tab: draws the domain's timeline model — the same model, colours, line
styles and legend the PDF draws — on one date axis: milestones, procedures and reviews on
top (labels stacked so none collide), chemotherapy cycles coloured by regimen (a dark cap
when a biologic was given), immunotherapy doses, the sum of target diameters with its
RECIST category (one line per episode: a liver-clearing operation starts a new one), the
sum of all lesions, and CEA on a second axis, with ticks and gridlines on both.  Empty
years are a marked break in the axis.

Hover shows the values; a click asks the workspace to show that record.  The chart takes
keyboard focus: Left/Right (Home/End) walk through every drawn point in date order, the
point's values are its accessible description, and Enter or Space asks for its record to be
opened (`record_requested`), as a double click does.  Readable on a dark palette."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QVBoxLayout, QWidget

from crlmboard.domain.case import Case
from crlmboard.domain.engine.readmodel import EvaluationView
from crlmboard.domain.labels import response_text, value_label
from crlmboard.domain.timeline import (
    INKS,
    LINE_STYLES,
    RESPONSE_INKS,
    VALUE_INTERVALS,
    Box,
    Ink,
    LegendEntry,
    Timeline,
    build_timeline,
    free_box,
    month_label,
    regimen_ink,
    spaced_ticks,
    stack_labels,
    value_scale,
    value_text,
)
from crlmboard.ui.forms import locale_date


@dataclass(frozen=True)
class Stop:
    """A drawn record the keyboard can reach: what it is, when, its text, the record."""

    kind: str
    """`chemotherapy`, `immunotherapy`, `imaging`, `procedure`, `cea`, `review`, `milestone`."""
    when: date
    text: str
    record: Any


@dataclass(frozen=True)
class HitArea:
    """Something drawn that hover, click and the keyboard know about."""

    rect: QRectF
    kind: str
    when: date
    text: str
    stop: int
    """Its index in the canvas's `stops`."""


KIND_ORDER = {
    "milestone": 0,
    "procedure": 1,
    "review": 2,
    "chemotherapy": 3,
    "immunotherapy": 4,
    "imaging": 5,
    "cea": 6,
}


def stops_of(timeline: Timeline) -> list[Stop]:
    """Every record the chart draws, in date order (then top to bottom), with its text."""
    stops: list[Stop] = []
    for m in timeline.milestones:
        stops.append(Stop("milestone", m.date, f"{locale_date(m.date)}: {m.label}", m.record))
    for p in timeline.procedures:
        segments = f" (segments {', '.join(map(str, p.segments))})" if p.segments else ""
        episode = " — starts a new episode" if p.liver_clearing else ""
        stops.append(
            Stop(
                "procedure",
                p.date,
                f"{locale_date(p.date)}: {p.label}{segments}{episode}",
                p.record,
            )
        )
    for r in timeline.reviews:
        what = value_label(r.recommendation) if r.recommendation else "no recommendation"
        signed = "signed" if r.signed else "not signed"
        stops.append(
            Stop(
                "review",
                r.date,
                f"{locale_date(r.date)}: board review — {what} ({signed})",
                r.record,
            )
        )
    for c in timeline.chemotherapy:
        text = (
            f"{locale_date(c.date)}: {value_label(c.regimen)} cycle {c.cycle} "
            f"(line {c.line}, {value_label(c.setting).lower()})"
        )
        if c.biologic:
            text += f" + {value_label(c.biologic)}"
        if c.dose_percent != 100:
            text += f", dose {c.dose_percent:g} %"
        stops.append(Stop("chemotherapy", c.date, text, c.record))
    for d in timeline.immunotherapy:
        cycle = f" cycle {d.cycle}" if d.cycle else ""
        stops.append(
            Stop(
                "immunotherapy",
                d.date,
                f"{locale_date(d.date)}: {value_label(d.agent)}{cycle} "
                f"({value_label(d.setting).lower()})",
                d.record,
            )
        )
    for i in timeline.imaging:
        text = (
            f"{locale_date(i.date)}: {value_label(i.modality) if i.modality else 'Imaging'}, "
            f"episode {i.episode} — {i.lesion_count} lesion(s)"
        )
        if i.target_sum_mm is not None:
            text += f", target sum {i.target_sum_mm:g} mm"
        if i.total_diameter_mm is not None:
            text += f", all lesions {i.total_diameter_mm:g} mm"
        if i.baseline:
            text += ", RECIST baseline"
        elif i.response:
            text += f", RECIST {response_text(i.response)}"
        if i.new_lesions:
            text += ", new lesions"
        if i.flr_percent is not None:
            text += f", FLR {i.flr_percent:g} %"
        stops.append(Stop("imaging", i.date, text, i.record))
    for v in timeline.cea:
        stops.append(Stop("cea", v.date, f"{locale_date(v.date)}: CEA {v.value:g} ng/mL", v.record))
    stops.sort(key=lambda s: (s.when, KIND_ORDER[s.kind]))
    return stops


class TimelineCanvas(QWidget):
    """Paints one timeline; keeps the drawn marks for hover, click and the keyboard."""

    record_clicked = Signal(str, object)  # kind, date: show that record
    record_requested = Signal(str, object)  # kind, record: open that record

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.timeline: Timeline | None = None
        self.stops: list[Stop] = []
        self.hits: list[HitArea] = []
        self.current: int | None = None
        # what the last paint drew, for the accessible summary and the tests
        self.runs: dict[str, list[list[date]]] = {}
        self.value_ticks: dict[str, list[str]] = {}
        self.legend_labels: list[str] = []
        self.labels: list[QRectF] = []
        self.setMouseTracking(True)
        self.setMinimumHeight(420)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Timeline")
        self.setAccessibleDescription("Nothing dated to show yet.")

    def set_timeline(self, timeline: Timeline | None, title: str = "") -> None:
        self.timeline = timeline
        self.stops = stops_of(timeline) if timeline is not None else []
        self.current = None
        self.setAccessibleName(f"Timeline of {title}" if title else "Timeline")
        self.setAccessibleDescription(
            f"{len(self.stops)} dated records; Left and Right move between them, Enter opens one."
            if self.stops
            else "Nothing dated to show yet."
        )
        self.update()

    # -- colours ----------------------------------------------------------------------

    @property
    def dark(self) -> bool:
        """Whether the window palette is dark (its base colour)."""
        return self.palette().base().color().lightness() < 128

    def colour(self, ink: Ink) -> QColor:
        return QColor(ink.on(self.dark))

    # -- geometry ---------------------------------------------------------------------

    def _x(self, when: date, plot: QRectF) -> float:
        assert self.timeline is not None
        fraction = max(0.0, min(1.0, self.timeline.axis.fraction(when)))
        return plot.left() + fraction * plot.width()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        self.hits = []
        self.runs, self.value_ticks, self.legend_labels, self.labels = {}, {}, [], []
        timeline = self.timeline
        if timeline is None or timeline.empty:
            painter.setPen(self.palette().text().color())
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "Nothing dated to show yet."
            )
            return
        metrics = painter.fontMetrics()
        line = float(metrics.height())
        left = right = float(metrics.horizontalAdvance("0000.0") + 22)
        width = self.width() - left - right
        # the event labels decide how tall the top band is
        events = self._events(timeline)
        spans: list[tuple[float, float]] = []
        flips: list[bool] = []
        for when, _kind, short, _stop in events:
            x = left + max(0.0, min(1.0, timeline.axis.fraction(when))) * width
            label = metrics.horizontalAdvance(short) + 10
            flip = x + label > self.width() - 4
            spans.append((x - label, x + 4) if flip else (x - 4, x + label))
            flips.append(flip)
        rows = stack_labels(spans)
        row_count = max(rows, default=-1) + 1
        legend_rows = self._legend_rows(timeline.legend(), metrics, self.width() - 16)
        top = 6.0
        events_band = QRectF(left, top, width, row_count * line)
        lanes = top + row_count * line + 4
        chemo = QRectF(left, lanes, width, 16 if timeline.chemotherapy else 0)
        immuno = QRectF(left, chemo.bottom(), width, 14 if timeline.immunotherapy else 0)
        bottom_room = line + 10 + len(legend_rows) * (line + 2) + 6
        plot_top = immuno.bottom() + 4
        plot = QRectF(left, plot_top, width, max(self.height() - plot_top - bottom_room, 120.0))
        self._draw_background(painter, timeline, plot, chemo)
        self._draw_events(painter, events, rows, flips, events_band, plot, line)
        self._draw_therapy(painter, timeline, chemo, immuno)
        self._draw_plot(painter, timeline, plot, line)
        self._draw_legend(painter, legend_rows, plot.bottom() + line + 10, line)
        self._draw_focus(painter)

    # -- drawing ----------------------------------------------------------------------

    def _events(self, timeline: Timeline) -> list[tuple[date, str, str, int]]:
        """(date, ink key, short label, stop index) of every flagged event."""
        index = {id(s.record): i for i, s in enumerate(self.stops) if s.record is not None}
        items: list[tuple[date, str, str, int]] = []
        # milestones keep their order among the stops (a stable sort by date)
        milestone_stops = [i for i, s in enumerate(self.stops) if s.kind == "milestone"]
        for m, stop in zip(timeline.milestones, milestone_stops, strict=True):
            items.append((m.date, "milestone", m.short_label, stop))
        for p in timeline.procedures:
            kind = "liver_clearing" if p.liver_clearing else "procedure"
            items.append((p.date, kind, p.short_label, index[id(p.record)]))
        for r in timeline.reviews:
            label = "Board" + ("" if r.signed else " (draft)")
            items.append((r.date, "review", label, index[id(r.record)]))
        items.sort(key=lambda item: (item[0], item[1]))
        return items

    def _draw_background(
        self, painter: QPainter, timeline: Timeline, plot: QRectF, chemo: QRectF
    ) -> None:
        """Episode bands, gridlines of both value axes, month gridlines, the frame."""
        for episode in timeline.episodes[1:]:
            if episode.number % 2 or episode.operation_date is None:
                continue
            x = self._x(episode.operation_date, plot)
            following = [e for e in timeline.episodes if e.number == episode.number + 1]
            until = following[0].operation_date if following else None
            end = self._x(until, plot) if until is not None else plot.right()
            painter.fillRect(
                QRectF(x, plot.top(), end - x, plot.height()), self.colour(INKS["episode"])
            )
        grid = QPen(self.colour(INKS["grid"]), 1)
        painter.setPen(grid)
        inner = self._inner(plot)
        for i in range(1, VALUE_INTERVALS + 1):
            y = inner.bottom() - inner.height() * i / VALUE_INTERVALS
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        metrics = painter.fontMetrics()
        ticks = spaced_ticks(
            timeline.axis.ticks(max(int(plot.width() / 90), 2)),
            lambda d: self._x(d, plot),
            metrics.horizontalAdvance("Mmm 0000") + 12,
        )
        for tick in ticks:
            x = self._x(tick, plot)
            painter.setPen(grid)
            painter.drawLine(QPointF(x, chemo.top()), QPointF(x, plot.bottom() + 4))
            painter.setPen(self.colour(INKS["muted"]))
            painter.drawText(
                QRectF(x - 50, plot.bottom() + 5, 100, metrics.height()),
                Qt.AlignmentFlag.AlignHCenter,
                month_label(tick),
            )
        painter.setPen(QPen(self.colour(INKS["frame"]), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)
        for gap_start, gap_end in timeline.axis.breaks:
            x0, x1 = self._x(gap_start, plot), self._x(gap_end, plot)
            painter.fillRect(
                QRectF(x0, chemo.top(), x1 - x0, plot.bottom() - chemo.top() + 1),
                self.palette().base(),
            )
            painter.setPen(QPen(self.colour(INKS["muted"]), 1.5))
            for x in (x0, x1):
                painter.drawLine(
                    QPointF(x - 3, plot.bottom() + 5), QPointF(x + 3, plot.bottom() - 5)
                )
            if gap_end.year > gap_start.year + 1:
                years = f"{gap_start.year}–{gap_end.year}"
                if metrics.horizontalAdvance(years) < x1 - x0 + 30:
                    painter.drawText(
                        QRectF(
                            x0 - 30,
                            plot.bottom() - metrics.height() - 6,
                            x1 - x0 + 60,
                            metrics.height(),
                        ),
                        Qt.AlignmentFlag.AlignHCenter,
                        years,
                    )
        for episode in timeline.episodes[1:]:
            if episode.operation_date is None:
                continue
            x = self._x(episode.operation_date, plot)
            colour = self.colour(INKS["liver_clearing"])
            painter.setPen(QPen(colour, 1.5))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            painter.drawText(QPointF(x + 4, plot.top() + metrics.ascent() + 2), episode.label)

    def _inner(self, plot: QRectF) -> QRectF:
        """The part of the plot the value axes span (below the units and RECIST labels)."""
        return plot.adjusted(0, self.fontMetrics().height() * 1.5 + 4, 0, 0)

    def _marker(self, painter: QPainter, kind: str, centre: QPointF, colour: QColor) -> None:
        """Milestone ●, procedure and liver-clearing operation ▼, review ■ (as the PDF)."""
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        x, y = centre.x(), centre.y()
        if kind == "review":
            painter.drawRect(QRectF(x - 3.5, y - 3.5, 7, 7))
        elif kind == "milestone":
            painter.drawEllipse(centre, 3.8, 3.8)
        else:
            path = QPainterPath()
            path.moveTo(x - 4.5, y - 3.5)
            path.lineTo(x + 4.5, y - 3.5)
            path.lineTo(x, y + 4)
            path.closeSubpath()
            painter.drawPath(path)

    def _draw_events(
        self,
        painter: QPainter,
        events: list[tuple[date, str, str, int]],
        rows: list[int],
        flips: list[bool],
        band: QRectF,
        plot: QRectF,
        line: float,
    ) -> None:
        metrics = painter.fontMetrics()
        for (when, kind, short, stop), row, flip in zip(events, rows, flips, strict=True):
            colour = self.colour(INKS[kind])
            x = self._x(when, band)
            y = band.top() + row * line + line / 2
            painter.setPen(QPen(colour, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(x, y + 4), QPointF(x, plot.bottom()))
            self._marker(painter, kind, QPointF(x, y), colour)
            label = metrics.horizontalAdvance(short)
            text_x = x - 8 - label if flip else x + 8
            painter.setPen(colour)
            painter.drawText(QPointF(text_x, y + metrics.ascent() / 2 - 1), short)
            rect = QRectF(min(text_x, x - 6), y - line / 2, label + 14, line)
            self.labels.append(QRectF(text_x, y - line / 2, label, line))
            self.hits.append(
                HitArea(rect, self.stops[stop].kind, when, self.stops[stop].text, stop)
            )

    def _draw_therapy(
        self, painter: QPainter, timeline: Timeline, chemo: QRectF, immuno: QRectF
    ) -> None:
        muted = self.colour(INKS["muted"])
        stop_of = {id(s.record): i for i, s in enumerate(self.stops) if s.record is not None}
        if timeline.chemotherapy:
            painter.setPen(muted)
            painter.drawText(
                QRectF(0, chemo.top(), chemo.left() - 6, chemo.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                "Chemo",
            )
            biologic = self.colour(INKS["biologic"])
            for cycle in timeline.chemotherapy:
                x0, x1 = self._x(cycle.date, chemo), self._x(cycle.end, chemo)
                rect = QRectF(x0, chemo.top() + 2, max(x1 - x0 - 1, 2), chemo.height() - 4)
                painter.fillRect(rect, self.colour(regimen_ink(timeline, cycle.regimen)))
                if cycle.biologic:
                    painter.fillRect(QRectF(rect.left(), rect.top(), rect.width(), 4), biologic)
                stop = stop_of[id(cycle.record)]
                self.hits.append(
                    HitArea(rect, "chemotherapy", cycle.date, self.stops[stop].text, stop)
                )
        if timeline.immunotherapy:
            painter.setPen(muted)
            painter.drawText(
                QRectF(0, immuno.top(), immuno.left() - 6, immuno.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                "IO",
            )
            colour = self.colour(INKS["immunotherapy"])
            for dose in timeline.immunotherapy:
                x = self._x(dose.date, immuno)
                cy = immuno.center().y()
                path = QPainterPath()
                path.moveTo(x, cy - 5)
                path.lineTo(x + 4.5, cy)
                path.lineTo(x, cy + 5)
                path.lineTo(x - 4.5, cy)
                path.closeSubpath()
                painter.fillPath(path, colour)
                stop = stop_of[id(dose.record)]
                self.hits.append(
                    HitArea(
                        QRectF(x - 6, cy - 6, 12, 12),
                        "immunotherapy",
                        dose.date,
                        self.stops[stop].text,
                        stop,
                    )
                )

    def _draw_plot(self, painter: QPainter, timeline: Timeline, plot: QRectF, line: float) -> None:
        metrics = painter.fontMetrics()
        inner = self._inner(plot)  # room for the units and RECIST labels at the top
        stop_of = {id(s.record): i for i, s in enumerate(self.stops) if s.record is not None}
        size = self.colour(INKS["target_sum"])
        top_mm, step_mm = value_scale(timeline.max_sum_mm)
        if timeline.max_sum_mm is not None:
            self._value_axis(painter, inner, top_mm, step_mm, "mm", size, left=True)
        else:
            painter.setPen(self.colour(INKS["muted"]))
            painter.drawText(QPointF(plot.left() + 6, plot.top() + line), "No lesion measurements")

        def y_mm(value: float) -> float:
            return inner.bottom() - value / top_mm * inner.height()

        points: dict[date, QPointF] = {}
        taken: list[Box] = []
        all_colour = self.colour(INKS["all_lesions"])
        for key in ("all_lesions", "target_sum"):
            self.runs[key] = [[m.date for m in run] for run in timeline.series(key)]
        for run in timeline.series("all_lesions"):
            xy = [QPointF(self._x(m.date, plot), y_mm(m.total_diameter_mm or 0.0)) for m in run]
            pen = QPen(all_colour, 1.5)
            pen.setDashPattern(list(LINE_STYLES["all_lesions"]))
            painter.setPen(pen)
            for a, b in itertools.pairwise(xy):
                painter.drawLine(a, b)
            painter.setPen(QPen(all_colour, 1.5))
            painter.setBrush(self.palette().base())
            for mark, point in zip(run, xy, strict=True):
                painter.drawEllipse(point, 3.5, 3.5)
                points[mark.date] = point
                taken.append((point.x() - 4, point.y() - 4, point.x() + 4, point.y() + 4))
        for run in timeline.series("target_sum"):
            xy = [QPointF(self._x(m.date, plot), y_mm(m.target_sum_mm or 0.0)) for m in run]
            painter.setPen(QPen(size, 2.5))
            for a, b in itertools.pairwise(xy):
                painter.drawLine(a, b)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(size)
            for mark, point in zip(run, xy, strict=True):
                painter.drawEllipse(point, 4.5, 4.5)
                points[mark.date] = point
                taken.append((point.x() - 5, point.y() - 5, point.x() + 5, point.y() + 5))
        for mark in timeline.imaging:
            stop = stop_of[id(mark.record)]
            x = self._x(mark.date, plot)
            painter.setPen(QPen(size, 1.5))
            painter.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() - 5))
            point = points.get(mark.date, QPointF(x, plot.bottom() - 3))
            self.hits.append(
                HitArea(
                    QRectF(point.x() - 7, point.y() - 7, 14, 14),
                    "imaging",
                    mark.date,
                    self.stops[stop].text,
                    stop,
                )
            )

        if timeline.cea:
            cea = self.colour(INKS["cea"])
            top_cea, step_cea = value_scale(timeline.max_cea)
            self._value_axis(painter, inner, top_cea, step_cea, "CEA ng/mL", cea, left=False)
            xy = [
                QPointF(self._x(v.date, plot), inner.bottom() - v.value / top_cea * inner.height())
                for v in timeline.cea
            ]
            pen = QPen(cea, 1.5)
            pen.setDashPattern(list(LINE_STYLES["cea"]))
            painter.setPen(pen)
            for a, b in itertools.pairwise(xy):
                painter.drawLine(a, b)
            for value, point in zip(timeline.cea, xy, strict=True):
                painter.fillRect(QRectF(point.x() - 3, point.y() - 3, 6, 6), cea)
                taken.append((point.x() - 3, point.y() - 3, point.x() + 3, point.y() + 3))
                stop = stop_of[id(value.record)]
                self.hits.append(
                    HitArea(
                        QRectF(point.x() - 6, point.y() - 6, 12, 12),
                        "cea",
                        value.date,
                        self.stops[stop].text,
                        stop,
                    )
                )

        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        bold_metrics = painter.fontMetrics()
        for mark in timeline.imaging:
            tag = mark.tag
            found = points.get(mark.date)
            if not tag or found is None:
                continue
            point = found
            wide = bold_metrics.horizontalAdvance(tag) + 2
            half = wide / 2
            height = bold_metrics.height()
            x, y = point.x(), point.y()
            side = min(max(y - height / 2, plot.top() + 1), plot.bottom() - height - 1)
            options: list[Box] = [  # above, below, right, left — inside the plot
                box
                for box in (
                    (x - half, y - 6 - height, x + half, y - 6),
                    (x - half, y + 6, x + half, y + 6 + height),
                    (x + 7, side, x + 7 + wide, side + height),
                    (x - 7 - wide, side, x - 7, side + height),
                )
                if box[1] >= plot.top() and box[3] <= plot.bottom()
            ]
            choice = free_box(options, taken)
            if choice is None:
                continue  # the category is in the tooltip and the Imaging tab
            box = options[choice]
            taken.append(box)
            self.labels.append(QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]))
            painter.setPen(self.colour(RESPONSE_INKS.get(tag, INKS["target_sum"])))
            painter.drawText(
                QRectF(box[0], box[1], box[2] - box[0], height), Qt.AlignmentFlag.AlignCenter, tag
            )
        painter.setFont(self.font())

        if timeline.as_of_shown:
            assert timeline.as_of is not None
            x = self._x(timeline.as_of, plot)
            colour = self.colour(INKS["as_of"])
            painter.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            label = "as of"
            painter.drawText(
                QPointF(
                    x - metrics.horizontalAdvance(label) - 4, plot.top() + metrics.ascent() + 2
                ),
                label,
            )

    def _value_axis(
        self,
        painter: QPainter,
        inner: QRectF,
        top: float,
        step: float,
        unit: str,
        colour: QColor,
        *,
        left: bool,
    ) -> None:
        """Ticks and labels at every step from 0 to `top`, on the left or right of the plot."""
        metrics = painter.fontMetrics()
        painter.setPen(QPen(colour, 1))
        steps = round(top / step)
        x = inner.left() if left else inner.right()
        self.value_ticks[unit] = [value_text(step * i) for i in range(steps + 1)]
        for i in range(steps + 1):
            y = inner.bottom() - inner.height() * i / steps
            painter.drawLine(QPointF(x, y), QPointF(x + (-5 if left else 5), y))
            text = value_text(step * i)
            if left:
                rect = QRectF(0, y - metrics.height() / 2, x - 8, metrics.height())
                painter.drawText(
                    rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text
                )
            else:
                rect = QRectF(x + 8, y - metrics.height() / 2, 200, metrics.height())
                painter.drawText(
                    rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
                )
        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        y = inner.top() - metrics.height() * 1.5 - 2
        if left:
            painter.drawText(
                QRectF(0, y, x - 8, metrics.height()), Qt.AlignmentFlag.AlignRight, unit
            )
        else:
            painter.drawText(
                QRectF(x + 8, y, 200, metrics.height()), Qt.AlignmentFlag.AlignLeft, unit.split()[0]
            )
        painter.setFont(self.font())

    def _legend_rows(
        self, entries: list[LegendEntry], metrics: Any, width: float
    ) -> list[list[tuple[float, LegendEntry]]]:
        rows: list[list[tuple[float, LegendEntry]]] = [[]] if entries else []
        x = 0.0
        for entry in entries:
            item = 24 + metrics.horizontalAdvance(entry.label) + 18
            if x + item > width and rows[-1]:
                rows.append([])
                x = 0.0
            rows[-1].append((x, entry))
            x += item
        return rows

    def _draw_legend(
        self,
        painter: QPainter,
        rows: list[list[tuple[float, LegendEntry]]],
        top: float,
        line: float,
    ) -> None:
        metrics = painter.fontMetrics()
        text = self.palette().text().color()
        for number, row in enumerate(rows):
            y = top + number * (line + 2) + line / 2
            for x0, entry in row:
                x = 8 + x0
                colour = self.colour(entry.ink)
                shape = entry.shape
                if shape == "bar":
                    painter.fillRect(QRectF(x, y - 5, 18, 10), colour)
                elif shape == "cap":
                    painter.fillRect(QRectF(x, y - 5, 18, 10), QColor("#9aa3aa"))
                    painter.fillRect(QRectF(x, y - 5, 18, 4), colour)
                elif shape == "diamond":
                    path = QPainterPath()
                    path.moveTo(x + 9, y - 5)
                    path.lineTo(x + 13.5, y)
                    path.lineTo(x + 9, y + 5)
                    path.lineTo(x + 4.5, y)
                    path.closeSubpath()
                    painter.fillPath(path, colour)
                elif shape in ("line", "dotted", "dashed"):
                    key = {"line": "target_sum", "dotted": "all_lesions", "dashed": "cea"}[shape]
                    pen = QPen(colour, 2.5 if shape == "line" else 1.5)
                    if LINE_STYLES[key]:
                        pen.setDashPattern(list(LINE_STYLES[key]))
                    painter.setPen(pen)
                    painter.drawLine(QPointF(x, y), QPointF(x + 18, y))
                    if shape == "line":
                        painter.setPen(Qt.PenStyle.NoPen)
                        painter.setBrush(colour)
                        painter.drawEllipse(QPointF(x + 9, y), 4.5, 4.5)
                    elif shape == "dotted":
                        painter.setPen(QPen(colour, 1.5))
                        painter.setBrush(self.palette().base())
                        painter.drawEllipse(QPointF(x + 9, y), 3.5, 3.5)
                    else:
                        painter.fillRect(QRectF(x + 6, y - 3, 6, 6), colour)
                elif shape in ("milestone", "procedure", "clearing", "review"):
                    kind = "liver_clearing" if shape == "clearing" else shape
                    self._marker(painter, kind, QPointF(x + 9, y), colour)
                    if shape == "clearing":
                        painter.setPen(QPen(colour, 1.5))
                        painter.drawLine(QPointF(x + 16, y - 6), QPointF(x + 16, y + 6))
                elif shape == "as_of":
                    painter.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
                    painter.drawLine(QPointF(x + 9, y - 6), QPointF(x + 9, y + 6))
                elif shape == "break":
                    painter.setPen(QPen(colour, 1.5))
                    for dx in (5, 12):
                        painter.drawLine(QPointF(x + dx - 3, y + 5), QPointF(x + dx + 3, y - 5))
                painter.setPen(text)
                painter.drawText(QPointF(x + 24, y + metrics.ascent() / 2 - 1), entry.label)
                self.legend_labels.append(entry.label)

    def _draw_focus(self, painter: QPainter) -> None:
        if self.current is None or not self.hasFocus():
            return
        hit = next((h for h in self.hits if h.stop == self.current), None)
        if hit is None:
            return
        pen = QPen(self.palette().highlight().color(), 2)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(hit.rect.adjusted(-3, -3, 3, 3), 3, 3)

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
            self.select(hit.stop)
            self.record_clicked.emit(hit.kind, hit.when)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self.hit_at(event.position())
        if hit is not None:
            self.select(hit.stop)
            self.open_current()

    def select(self, stop: int | None) -> None:
        """Make `stop` the current point: outlined, described, its values shown."""
        if not self.stops or stop is None:
            self.current = None
            self.update()
            return
        self.current = max(0, min(stop, len(self.stops) - 1))
        current = self.stops[self.current]
        self.setAccessibleDescription(
            f"{current.text} ({self.current + 1} of {len(self.stops)}; Enter opens it)"
        )
        self.update()
        hit = next((h for h in self.hits if h.stop == self.current), None)
        if hit is not None and self.isVisible():
            QToolTip.showText(self.mapToGlobal(hit.rect.bottomLeft().toPoint()), current.text, self)

    def open_current(self) -> None:
        """Ask for the current point's record to be opened."""
        if self.current is not None:
            stop = self.stops[self.current]
            self.record_requested.emit(stop.kind, stop.record)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if self.current is None and self.stops:
            self.select(0)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        QToolTip.hideText()
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        count = len(self.stops)
        if not count:
            super().keyPressEvent(event)
            return
        current = -1 if self.current is None else self.current
        moves = {
            Qt.Key.Key_Right: current + 1,
            Qt.Key.Key_Down: current + 1,
            Qt.Key.Key_Left: current - 1 if current >= 0 else 0,
            Qt.Key.Key_Up: current - 1 if current >= 0 else 0,
            Qt.Key.Key_Home: 0,
            Qt.Key.Key_End: count - 1,
        }
        if key in moves:
            self.select(moves[Qt.Key(key)])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            if self.current is None:
                self.select(0)
            self.open_current()
        else:
            super().keyPressEvent(event)


class TimelineView(QWidget):
    """The Timeline tab."""

    record_clicked = Signal(str, object)  # kind, date
    record_requested = Signal(str, object)  # kind, record

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.canvas = TimelineCanvas()
        self.canvas.record_clicked.connect(self.record_clicked)
        self.canvas.record_requested.connect(self.record_requested)
        layout.addWidget(self.canvas)
        self.setFocusProxy(self.canvas)

    def show_case(self, case: Case, evaluation: EvaluationView | None) -> None:
        facts = evaluation.facts.raw if evaluation is not None else None
        as_of = evaluation.as_of if evaluation is not None else None
        patient = case.patient
        name = ", ".join(
            part for part in ((patient.family_name or "").upper(), patient.given_name or "") if part
        )
        title = f"{name} ({case.mrn})" if name else case.mrn
        self.canvas.set_timeline(build_timeline(case, facts, as_of=as_of), title)
