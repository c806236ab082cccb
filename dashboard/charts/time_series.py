"""Figures over time: the overview's trend lines, the timeline's stacked bars and cumulative growth.

Pure functions from plain data to Plotly figure dicts (JSON-ready).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from dashboard.charts.style import MARKER_COLOR, SERIES_COLORS, figure_layout, process_color


def trend_lines(series: Mapping[str, Mapping[datetime, int]], *, title: str) -> dict:
    """One line per series over time buckets (e.g. exchanges, recalls, new memories per day)."""
    data = []
    for index, (name, points) in enumerate(series.items()):
        buckets = sorted(points)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": buckets,
                "y": [points[bucket] for bucket in buckets],
                "line": {"color": SERIES_COLORS[index % len(SERIES_COLORS)]},
            }
        )
    return {"data": data, "layout": figure_layout(title, legend={"orientation": "h", "y": -0.2})}


def stacked_bars(
    series_by_process: Mapping[str, Mapping[datetime, int]], *, title: str, bucket: timedelta | None = None
) -> dict:
    """Counts per time bucket stacked by process; with ``bucket`` (the bucket size) each bar fills
    its bucket, from its start to its end, instead of being centred on its start."""
    data = []
    for process in sorted(series_by_process):
        points = series_by_process[process]
        buckets = sorted(points)
        trace = {
            "type": "bar",
            "name": process,
            "x": buckets,
            "y": [points[start] for start in buckets],
            "marker": {"color": process_color(process)},
        }
        if bucket is not None:  # the bar spans its bucket: from its start (x) to the next bucket
            trace["width"] = bucket.total_seconds() * 1000 * 0.92
            trace["offset"] = 0
        data.append(trace)
    legend = {"orientation": "h", "y": -0.2, "traceorder": "normal"}  # by name, not reversed with the stack
    return {"data": data, "layout": figure_layout(title, barmode="stack", legend=legend)}


def cumulative_growth(
    points: Sequence[tuple[datetime, int]],
    *,
    title: str,
    x_range: tuple[datetime, datetime] | None = None,
    marker_at: datetime | None = None,
) -> dict:
    """Running total over time, drawn in steps (it only grows where memories were added, never as a
    ramp across a quiet stretch); an optional vertical line marks the "as of" moment."""
    total, xs, ys = 0, [], []
    for bucket, count in points:
        total += count
        xs.append(bucket)
        ys.append(total)
    if x_range is not None and xs and xs[-1] < x_range[1]:
        xs.append(x_range[1])
        ys.append(total)
    layout = figure_layout(title, showlegend=False)
    if x_range is not None:
        layout["xaxis"] = {"range": list(x_range), "type": "date"}
    if marker_at is not None:
        layout["shapes"] = [
            {"type": "line", "xref": "x", "yref": "paper", "x0": marker_at, "x1": marker_at, "y0": 0, "y1": 1,
             "line": {"color": MARKER_COLOR, "dash": "dot", "width": 2}}
        ]  # fmt: skip
    trace = {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "tozeroy", "name": "memories"}
    trace["line"] = {"shape": "hv", "color": SERIES_COLORS[0]}
    return {"data": [trace], "layout": layout}
