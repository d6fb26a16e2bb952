"""The timeline chart as vector graphics: `timeline_drawing(timeline, width)` draws the
domain `Timeline` model (the same one the app's timeline view draws, with the same
encoding: `crlmboard.domain.timeline.INKS`, line styles and legend) as a reportlab
`Drawing`, a flowable that goes straight into a PDF story.

From top to bottom: events (milestones, procedures, board reviews) as labelled flags with
dashed guides, in as many rows as their labels need to stay apart; chemotherapy cycles as
bars coloured by regimen with a dark cap when a biologic was given; immunotherapy doses;
the plot — the sum of target diameters with its RECIST categories (one line per episode:
a liver-clearing operation starts a new one and no line crosses it), the sum of all
lesions, CEA on the right axis, gridlines at the ticks of both value axes; the date axis
(empty years shortened to a marked break); and the legend of what is drawn.  All text is
real text in the bundled font.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pdfgeom import bezierArc

from crlmboard.domain.timeline import (
    INKS,
    LINE_STYLES,
    RESPONSE_INKS,
    VALUE_INTERVALS,
    Box,
    Ink,
    LegendEntry,
    Timeline,
    free_box,
    month_label,
    regimen_ink,
    spaced_ticks,
    stack_labels,
    value_scale,
    value_text,
)
from crlmboard.report.fonts import SANS, SANS_BOLD, register_fonts
from crlmboard.report.text import fill_operator, fp, show

T = TypeVar("T")

LABEL_SIZE = 6.5
EVENT_ROW = 9.0


def _ink(ink: Ink) -> colors.Color:
    return colors.HexColor(ink.light)


INK = _ink(INKS["text"])
MUTED = _ink(INKS["muted"])
RULE = _ink(INKS["frame"])
GRID = _ink(INKS["grid"])


def _factory(kind: type[T], fields: tuple[str, ...], *example: Any) -> Callable[..., T]:
    """A maker of `kind` shapes taking the constructor's arguments: the attributes the
    constructor sets for `example`, then the given ones, without reportlab validating every
    attribute of every shape again (a chart has hundreds; tests verify them)."""
    defaults = dict(kind(*example).__dict__)

    def make(*args: Any, **attributes: Any) -> T:
        shape = kind.__new__(kind)
        values = shape.__dict__
        values.update(defaults)
        values.update(zip(fields, args, strict=False))
        values.update(attributes)
        return shape

    return make


_rect = _factory(Rect, ("x", "y", "width", "height", "rx", "ry"), 0, 0, 0, 0)
_line = _factory(Line, ("x1", "y1", "x2", "y2"), 0, 0, 0, 0)
_polygon = _factory(Polygon, ("points",), [])
_polyline = _factory(PolyLine, ("points",), [])
_circle = _factory(Circle, ("cx", "cy", "r"), 0, 0, 0)
_string = _factory(String, ("x", "y", "text"), 0, 0, "")


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = LABEL_SIZE,
    colour: colors.Color = INK,
    anchor: str = "start",
    bold: bool = False,
) -> String:
    return _string(
        x,
        y,
        text,
        fontName=SANS_BOLD if bold else SANS,
        fontSize=size,
        fillColor=colour,
        textAnchor=anchor,
    )


def _width(text: str, size: float = LABEL_SIZE, bold: bool = False) -> float:
    return float(stringWidth(text, SANS_BOLD if bold else SANS, size))


def _dash(key: str, width: float) -> list[float] | None:
    pattern = LINE_STYLES[key]
    return [d * max(width, 1.0) for d in pattern] if pattern else None


def _event_marker(drawing: Drawing, kind: str, x: float, y: float, colour: Any) -> None:
    """The flag of an event at (x, y): milestone ●, procedure ▼, liver-clearing operation
    ▼ (in its colour), review ■."""
    if kind == "review":
        drawing.add(_rect(x - 2, y - 0.5, 4, 4, fillColor=colour, strokeColor=None))
    elif kind == "milestone":
        drawing.add(_circle(x, y + 1.5, 2.1, fillColor=colour, strokeColor=None))
    else:
        drawing.add(
            _polygon(
                [x - 2.4, y + 3.6, x + 2.4, y + 3.6, x, y - 0.6],
                fillColor=colour,
                strokeColor=None,
            )
        )


def timeline_drawing(timeline: Timeline, width: float, *, plot_height: float = 120) -> Drawing:
    """The chart of `timeline`, `width` points wide (its height follows from the content)."""
    register_fonts()
    left, right = 34.0, 34.0
    plot_left, plot_right = left, width - right
    plot_width = plot_right - plot_left
    axis = timeline.axis

    def x_of(when: date) -> float:
        return plot_left + max(0.0, min(1.0, axis.fraction(when))) * plot_width

    # event labels: as many rows as it takes for no two labels to overlap
    events = _events(timeline)
    spans: list[tuple[float, float]] = []
    flips: list[bool] = []
    for when, _kind, label in events:
        x = x_of(when)
        label_width = _width(label) + 6
        flipped = x + label_width > width  # near the right edge: label left of the flag
        spans.append((x - label_width, x) if flipped else (x - 3, x + label_width))
        flips.append(flipped)
    rows = stack_labels(spans)
    row_count = max(rows, default=-1) + 1

    has_chemo = bool(timeline.chemotherapy)
    has_immuno = bool(timeline.immunotherapy)
    lane_chemo = 13.0 if has_chemo else 0.0
    lane_immuno = 11.0 if has_immuno else 0.0
    legend_rows = _legend_layout(timeline.legend(), width)

    # bottom-up: legend, date axis, plot, therapy lanes, event flags
    legend_y = 2.0 + max(len(legend_rows) - 1, 0) * 10
    axis_y = legend_y + (22.0 if legend_rows else 12.0)
    plot_bottom = axis_y
    plot_top = plot_bottom + plot_height
    immuno_bottom = plot_top + 3
    chemo_bottom = immuno_bottom + lane_immuno
    chemo_top = chemo_bottom + lane_chemo
    top = chemo_top + 2 + row_count * EVENT_ROW
    height = top + 2
    drawing = Chart(width, height, initialFontName=SANS, initialFontSize=LABEL_SIZE)
    frame = _rect(
        plot_left,
        plot_bottom,
        plot_width,
        plot_top - plot_bottom,
        strokeColor=RULE,
        fillColor=None,
        strokeWidth=0.5,
    )

    if timeline.empty:
        drawing.add(frame)
        drawing.add(
            _text(
                width / 2,
                (plot_top + plot_bottom) / 2,
                "No dated records yet",
                size=8,
                colour=MUTED,
                anchor="middle",
            )
        )
        return drawing

    # episodes after the first: a light band from the operation on
    for episode in timeline.episodes[1:]:
        assert episode.operation_date is not None
        x = x_of(episode.operation_date)
        if episode.number % 2 == 0:
            following = [e for e in timeline.episodes if e.number == episode.number + 1]
            until = following[0].operation_date if following else None
            right_edge = x_of(until) if until is not None else plot_right
            drawing.add(
                _rect(
                    x,
                    plot_bottom,
                    right_edge - x,
                    plot_top - plot_bottom,
                    fillColor=_ink(INKS["episode"]),
                    strokeColor=None,
                )
            )

    # value axes: ticks on both sides, shared gridlines (both have VALUE_INTERVALS steps)
    inner_top = plot_top - 12  # room for RECIST labels
    inner_height = inner_top - plot_bottom
    for i in range(1, VALUE_INTERVALS + 1):
        y = plot_bottom + inner_height * i / VALUE_INTERVALS
        drawing.add(_line(plot_left, y, plot_right, y, strokeColor=GRID, strokeWidth=0.4))

    # month grid, the date axis and its breaks
    ticks = spaced_ticks(axis.ticks(max(2, int(plot_width // 62))), x_of, _width("Mmm 0000") + 4)
    for tick in ticks:
        x = x_of(tick)
        drawing.add(_line(x, plot_bottom, x, chemo_top, strokeColor=GRID, strokeWidth=0.4))
        drawing.add(_line(x, axis_y - 2.5, x, axis_y, strokeColor=MUTED, strokeWidth=0.5))
        drawing.add(_text(x, axis_y - 9, month_label(tick), colour=MUTED, anchor="middle"))
    drawing.add(frame)
    for gap_start, gap_end in axis.breaks:
        x0, x1 = x_of(gap_start), x_of(gap_end)
        drawing.add(
            _rect(
                x0,
                plot_bottom - 1,
                x1 - x0,
                chemo_top - plot_bottom + 2,
                fillColor=colors.white,
                strokeColor=None,
            )
        )
        for x in (x0, x1):
            drawing.add(
                _line(x - 1.5, axis_y - 3, x + 1.5, axis_y + 3, strokeColor=MUTED, strokeWidth=0.7)
            )
        years = f"{gap_start.year}–{gap_end.year}" if gap_end.year > gap_start.year + 1 else ""
        if years and _width(years, 5.5) < x1 - x0 + 20:
            drawing.add(
                _text((x0 + x1) / 2, axis_y + 3, years, size=5.5, colour=MUTED, anchor="middle")
            )

    # episode boundaries: a line at the operation, the episode named inside the plot
    for episode in timeline.episodes[1:]:
        assert episode.operation_date is not None
        x = x_of(episode.operation_date)
        clearing = _ink(INKS["liver_clearing"])
        drawing.add(_line(x, plot_bottom, x, plot_top, strokeColor=clearing, strokeWidth=0.8))
        drawing.add(_text(x + 2.5, plot_top - 7, episode.label, size=6, colour=clearing))

    # events: dashed guides, flag and label
    for (when, kind, label), row, flipped in zip(events, rows, flips, strict=True):
        x = x_of(when)
        colour = _ink(INKS[kind])
        y_label = top - (row + 1) * EVENT_ROW + 2
        drawing.add(
            _line(
                x,
                plot_bottom,
                x,
                y_label - 1.5,
                strokeColor=colour,
                strokeWidth=0.5,
                strokeDashArray=[1.5, 1.5],
            )
        )
        _event_marker(drawing, kind, x, y_label, colour)
        if flipped:
            drawing.add(_text(x - 3.5, y_label, label, colour=colour, anchor="end"))
        else:
            drawing.add(_text(x + 3.5, y_label, label, colour=colour))

    # chemotherapy cycles
    if has_chemo:
        drawing.add(_text(plot_left - 3, chemo_bottom + 3.5, "Chemo", colour=MUTED, anchor="end"))
        biologic = _ink(INKS["biologic"])
        for cycle in timeline.chemotherapy:
            x0, x1 = x_of(cycle.date), x_of(cycle.end)
            drawing.add(
                _rect(
                    x0,
                    chemo_bottom + 1.5,
                    max(x1 - x0 - 0.6, 0.8),
                    lane_chemo - 4,
                    fillColor=_ink(regimen_ink(timeline, cycle.regimen)),
                    strokeColor=None,
                )
            )
            if cycle.biologic:
                drawing.add(
                    _rect(
                        x0,
                        chemo_bottom + lane_chemo - 5,
                        max(x1 - x0 - 0.6, 0.8),
                        2.5,
                        fillColor=biologic,
                        strokeColor=None,
                    )
                )
    if has_immuno:
        drawing.add(_text(plot_left - 3, immuno_bottom + 3, "IO", colour=MUTED, anchor="end"))
        for dose in timeline.immunotherapy:
            x = x_of(dose.date)
            y = immuno_bottom + lane_immuno / 2
            drawing.add(
                _polygon(
                    [x, y - 3.5, x + 3, y, x, y + 3.5, x - 3, y],
                    fillColor=_ink(INKS["immunotherapy"]),
                    strokeColor=colors.white,
                    strokeWidth=0.3,
                )
            )

    # size (left axis): all lesions dotted, target sums solid, one run per episode
    size_colour = _ink(INKS["target_sum"])
    top_mm, step_mm = value_scale(timeline.max_sum_mm)
    if timeline.max_sum_mm is not None:
        _value_axis(
            drawing,
            plot_left,
            plot_bottom,
            inner_height,
            top_mm,
            step_mm,
            "mm",
            size_colour,
            side="left",
        )
    else:
        drawing.add(_text(plot_left + 4, plot_top - 10, "No lesion measurements", colour=MUTED))

    def y_sum(value: float) -> float:
        return plot_bottom + value / top_mm * inner_height

    points: dict[date, tuple[float, float]] = {}
    taken: list[Box] = []  # what a RECIST tag must not cover: points, CEA values, tags
    all_colour = _ink(INKS["all_lesions"])
    for run in timeline.series("all_lesions"):
        xy = [(x_of(m.date), y_sum(m.total_diameter_mm or 0.0)) for m in run]
        if len(xy) > 1:
            drawing.add(
                _polyline(
                    [c for point in xy for c in point],
                    strokeColor=all_colour,
                    strokeWidth=0.8,
                    strokeDashArray=_dash("all_lesions", 0.8),
                )
            )
        for mark, (x, y) in zip(run, xy, strict=True):
            drawing.add(
                _circle(x, y, 1.6, fillColor=colors.white, strokeColor=all_colour, strokeWidth=0.7)
            )
            points[mark.date] = (x, y)
            taken.append((x - 1.8, y - 1.8, x + 1.8, y + 1.8))
    for run in timeline.series("target_sum"):
        xy = [(x_of(m.date), y_sum(m.target_sum_mm or 0.0)) for m in run]
        if len(xy) > 1:
            drawing.add(
                _polyline(
                    [c for point in xy for c in point], strokeColor=size_colour, strokeWidth=1.4
                )
            )
        for mark, (x, y) in zip(run, xy, strict=True):
            drawing.add(
                _circle(x, y, 2.2, fillColor=size_colour, strokeColor=colors.white, strokeWidth=0.5)
            )
            points[mark.date] = (x, y)
            taken.append((x - 2.2, y - 2.2, x + 2.2, y + 2.2))
    for mark in timeline.imaging:  # imaging ticks along the bottom of the plot
        x = x_of(mark.date)
        drawing.add(
            _line(x, plot_bottom, x, plot_bottom + 3, strokeColor=size_colour, strokeWidth=0.8)
        )

    # CEA (right axis): dashed, squares
    max_cea = timeline.max_cea
    if max_cea is not None:
        cea_colour = _ink(INKS["cea"])
        top_cea, step_cea = value_scale(max_cea)
        _value_axis(
            drawing,
            plot_right,
            plot_bottom,
            inner_height,
            top_cea,
            step_cea,
            "CEA",
            cea_colour,
            side="right",
        )
        cea_points = [
            (x_of(m.date), plot_bottom + m.value / top_cea * inner_height) for m in timeline.cea
        ]
        if len(cea_points) > 1:
            drawing.add(
                _polyline(
                    [c for point in cea_points for c in point],
                    strokeColor=cea_colour,
                    strokeWidth=1.0,
                    strokeDashArray=_dash("cea", 1.0),
                )
            )
        for x, y in cea_points:
            drawing.add(_rect(x - 1.5, y - 1.5, 3, 3, fillColor=cea_colour, strokeColor=None))
            taken.append((x - 2, y - 2, x + 2, y + 2))

    # RECIST tags (BL, PR …) above their point, else below, right or left, inside the plot;
    # never over another tag, a point or a CEA value
    for mark in timeline.imaging:
        tag = mark.tag
        if not tag or mark.date not in points:
            continue
        x, y = points[mark.date]
        tag_width = _width(tag, 6.5, bold=True) + 1
        half = tag_width / 2
        side = min(max(y - 3, plot_bottom + 0.5), plot_top - 7.5)  # beside, kept inside
        options: list[Box] = [
            box
            for box in (
                (x - half, y + 3, x + half, y + 10),
                (x - half, y - 10, x + half, y - 3),
                (x + 3.5, side, x + 3.5 + tag_width, side + 7),
                (x - 3.5 - tag_width, side, x - 3.5, side + 7),
            )
            if box[1] >= plot_bottom and box[3] <= plot_top
        ]
        choice = free_box(options, taken)
        if choice is None:
            continue  # the category is in the imaging table
        box = options[choice]
        taken.append(box)
        drawing.add(
            _text(
                (box[0] + box[2]) / 2,
                box[1] + 1,
                tag,
                size=6.5,
                bold=True,
                anchor="middle",
                colour=_ink(RESPONSE_INKS.get(tag, INKS["target_sum"])),
            )
        )

    if timeline.as_of_shown:
        assert timeline.as_of is not None
        x = x_of(timeline.as_of)
        as_of = _ink(INKS["as_of"])
        drawing.add(
            _line(
                x,
                plot_bottom,
                x,
                plot_top,
                strokeColor=as_of,
                strokeWidth=0.6,
                strokeDashArray=[3, 2],
            )
        )
        drawing.add(_text(x - 1.5, plot_top - 7, "as of", size=6, colour=as_of, anchor="end"))

    _draw_legend(drawing, legend_rows, legend_y)
    return drawing


class Chart(Drawing):  # type: ignore[misc]
    """The timeline's Drawing, drawn by `_operators` — the PDF operators reportlab's renderer
    writes for its rectangles, lines, polygons, circles and strings, without the renderer's
    per-shape state machinery (a chart has hundreds of shapes).  Anything else it holds is
    drawn by reportlab's renderer."""

    def draw(self, showBoundary: Any = None) -> None:
        code = _operators(self.canv, self)
        if code is None:
            super().draw()
        else:
            self.canv.addLiteral(code)


_PAINT = {(False, False): "n", (True, False): "S", (False, True): "f*", (True, True): "B*"}
"""The painting operator by (stroke, fill), even-odd fill as reportlab's canvas has it."""


class _Pen:
    """The PDF graphics and text state written so far, to write only what changes."""

    def __init__(self, canvas: Canvas):
        self.canvas = canvas
        self.parts: list[str] = ["q 0 J 0 j [] 0 d"]  # renderPDF's initial state
        self.stroke_colour: Any = None
        self.fill_colour: Any = None
        self.width: float | None = None
        self.dash: Any = ()

    def fill(self, colour: Any) -> bool:
        if colour != self.fill_colour:
            code = fill_operator(colour)
            if code is None:
                return False
            self.parts.append(code)
            self.fill_colour = colour
        return True

    def stroke(self, shape: Any) -> bool:
        colour = shape.strokeColor
        if colour != self.stroke_colour:
            code = fill_operator(colour)
            if code is None:
                return False
            self.parts.append(code[:-2] + "RG")
            self.stroke_colour = colour
        if shape.strokeWidth != self.width:
            self.parts.append(f"{fp(shape.strokeWidth)} w")
            self.width = shape.strokeWidth
        dash = tuple(shape.strokeDashArray or ())
        if dash != self.dash:
            self.parts.append(f"[{' '.join(fp(d) for d in dash)}] 0 d")
            self.dash = dash
        return True


def _operators(canvas: Canvas, drawing: Drawing) -> str | None:
    """The operators that draw `drawing` (its origin at the current origin); None when it
    holds a shape, option or colour this does not write."""
    if (
        getattr(canvas, "_enforceColorSpace", None) is not None
        or getattr(drawing, "renderScale", 1) != 1
        or getattr(drawing, "background", None) is not None
        or getattr(drawing, "transform", (1, 0, 0, 1, 0, 0)) != (1, 0, 0, 1, 0, 0)
    ):
        return None
    pen = _Pen(canvas)
    parts = pen.parts
    for shape in drawing.contents:
        kind = type(shape)
        options: dict[str, Any] = shape.__dict__
        if (
            options.get("fillOpacity") not in (None, 1)
            or options.get("strokeOpacity") not in (None, 1)
            or options.get("strokeLineCap")
            or options.get("strokeLineJoin")
        ):
            return None
        stroke = shape.strokeColor is not None if hasattr(shape, "strokeColor") else False
        fill = getattr(shape, "fillColor", None) is not None
        if (stroke and not pen.stroke(shape)) or (fill and not pen.fill(shape.fillColor)):
            return None
        if kind is Rect:
            if shape.rx or shape.ry:
                return None
            parts.append(
                f"n {fp(shape.x)} {fp(shape.y)} {fp(shape.width)} "
                f"{fp(shape.height)} re {_PAINT[stroke, fill]}"
            )
        elif kind is Line:
            if stroke:
                parts.append(f"n {fp(shape.x1)} {fp(shape.y1)} m {fp(shape.x2)} {fp(shape.y2)} l S")
        elif kind in (Polygon, PolyLine):
            points = shape.points
            if len(points) < 4 or (kind is PolyLine and not stroke):
                continue
            path = [f"n {fp(points[0])} {fp(points[1])} m"]
            path += [f"{fp(points[i])} {fp(points[i + 1])} l" for i in range(2, len(points), 2)]
            if kind is Polygon:
                path.append("h")
                path.append(_PAINT[stroke, fill])
            else:
                path.append("S")
            parts.append(" ".join(path))
        elif kind is Circle:
            r = shape.r
            curves = bezierArc(shape.cx - r, shape.cy - r, shape.cx + r, shape.cy + r, 0, 360)
            path = [f"n {fp(curves[0][0])} {fp(curves[0][1])} m"]
            path += [" ".join(fp(c) for c in curve[2:]) + " c" for curve in curves]
            path.append(_PAINT[stroke, fill])
            parts.append(" ".join(path))
        elif kind is String:
            if not fill or options.get("textRenderMode"):
                continue
            x = shape.x
            if shape.textAnchor in ("end", "middle"):
                length = stringWidth(shape.text, shape.fontName, shape.fontSize)
                x -= length if shape.textAnchor == "end" else length * 0.5
            elif shape.textAnchor not in ("start", "inherited"):
                return None
            shown = show(canvas, shape.text, shape.fontName, shape.fontSize)
            if shown is None:
                return None
            parts.append(f"BT 1 0 0 1 {fp(x)} {fp(shape.y)} Tm {shown} ET")
        else:
            return None  # a Group, Path, Image …: reportlab's renderer
    parts.append("Q")
    return " ".join(parts)


def _events(timeline: Timeline) -> list[tuple[date, str, str]]:
    """(date, kind, label) of every flagged event, in date order; kind is `milestone`,
    `procedure`, `liver_clearing` or `review` (a key of INKS)."""
    events: list[tuple[date, str, str]] = []
    events += [(m.date, "milestone", m.short_label) for m in timeline.milestones]
    events += [
        (p.date, "liver_clearing" if p.liver_clearing else "procedure", p.short_label)
        for p in timeline.procedures
    ]
    events += [
        (r.date, "review", "Board" + ("" if r.signed else " (draft)")) for r in timeline.reviews
    ]
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def _value_axis(
    drawing: Drawing,
    x: float,
    bottom: float,
    height: float,
    top_value: float,
    step: float,
    unit: str,
    colour: colors.Color,
    *,
    side: str,
) -> None:
    """A labelled tick at every step from 0 to `top_value` on one side of the plot."""
    sign = -1 if side == "left" else 1
    anchor = "end" if side == "left" else "start"
    steps = round(top_value / step)
    for i in range(steps + 1):
        y = bottom + height * i / steps
        drawing.add(_line(x, y, x + 2.5 * sign, y, strokeColor=colour, strokeWidth=0.5))
        drawing.add(_text(x + 4 * sign, y - 2, value_text(step * i), colour=colour, anchor=anchor))
    drawing.add(
        _text(x + 4 * sign, bottom + height + 6, unit, colour=colour, anchor=anchor, bold=True)
    )


def _legend_layout(items: list[LegendEntry], width: float) -> list[list[tuple[float, LegendEntry]]]:
    rows: list[list[tuple[float, LegendEntry]]] = [[]] if items else []
    x = 0.0
    for item in items:
        item_width = 14 + _width(item.label) + 10
        if x + item_width > width and rows[-1]:
            rows.append([])
            x = 0.0
        rows[-1].append((x, item))
        x += item_width
    return rows


def _draw_legend(drawing: Drawing, rows: list[list[tuple[float, LegendEntry]]], y: float) -> None:
    for row in rows:
        for x, entry in row:
            colour = _ink(entry.ink)
            shape = entry.shape
            if shape == "bar":
                drawing.add(_rect(x, y, 10, 5, fillColor=colour, strokeColor=None))
            elif shape == "cap":
                drawing.add(
                    _rect(x, y, 10, 5, fillColor=colors.HexColor("#c8ced3"), strokeColor=None)
                )
                drawing.add(_rect(x, y + 3, 10, 2, fillColor=colour, strokeColor=None))
            elif shape == "diamond":
                drawing.add(
                    _polygon(
                        [x + 5, y - 1, x + 8, y + 2.5, x + 5, y + 6, x + 2, y + 2.5],
                        fillColor=colour,
                        strokeColor=None,
                    )
                )
            elif shape == "line":
                drawing.add(_line(x, y + 2.5, x + 10, y + 2.5, strokeColor=colour, strokeWidth=1.4))
                drawing.add(_circle(x + 5, y + 2.5, 2, fillColor=colour, strokeColor=None))
            elif shape == "dotted":
                drawing.add(
                    _line(
                        x,
                        y + 2.5,
                        x + 10,
                        y + 2.5,
                        strokeColor=colour,
                        strokeWidth=0.8,
                        strokeDashArray=_dash("all_lesions", 0.8),
                    )
                )
                drawing.add(
                    _circle(
                        x + 5,
                        y + 2.5,
                        1.6,
                        fillColor=colors.white,
                        strokeColor=colour,
                        strokeWidth=0.7,
                    )
                )
            elif shape == "dashed":
                drawing.add(
                    _line(
                        x,
                        y + 2.5,
                        x + 10,
                        y + 2.5,
                        strokeColor=colour,
                        strokeWidth=1,
                        strokeDashArray=_dash("cea", 1.0),
                    )
                )
                drawing.add(_rect(x + 3.5, y + 1, 3, 3, fillColor=colour, strokeColor=None))
            elif shape in ("milestone", "procedure", "clearing", "review"):
                kind = "liver_clearing" if shape == "clearing" else shape
                _event_marker(drawing, kind, x + 5, y + 0.5, colour)
                if shape == "clearing":
                    drawing.add(
                        _line(x + 9, y - 1, x + 9, y + 6, strokeColor=colour, strokeWidth=0.8)
                    )
            elif shape == "as_of":
                drawing.add(
                    _line(
                        x + 5,
                        y - 1,
                        x + 5,
                        y + 6,
                        strokeColor=colour,
                        strokeWidth=0.6,
                        strokeDashArray=[3, 2],
                    )
                )
            elif shape == "break":
                for dx in (3, 7):
                    drawing.add(
                        _line(
                            x + dx - 1.5,
                            y - 0.5,
                            x + dx + 1.5,
                            y + 5.5,
                            strokeColor=colour,
                            strokeWidth=0.7,
                        )
                    )
            drawing.add(_text(x + 14, y + 0.5, entry.label, colour=INK))
        y -= 10
