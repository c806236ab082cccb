"""Plotly figure builders: pure functions from plain data to figure dicts (JSON-ready).

A process has one colour everywhere: ``process_color`` derives it from the process id by a stable
hash onto ``PALETTE``, so an agent keeps its colour across charts, cards, pages and entities whatever
else is on the page. Kinds of memory (and other series that are not processes) are drawn in greys
with patterns, never in a process's colour. Backgrounds and font colours are left to the page
script, which applies the light or dark theme the reader's system uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

PALETTE = (  # Tableau 20 without its greys, and six more: 24 colours for the hash to land on
    "#4E79A7", "#A0CBE8", "#F28E2B", "#FFBE7D", "#59A14F", "#8CD17D", "#B6992D", "#F1CE63",
    "#499894", "#86BCB6", "#E15759", "#FF9D9A", "#D37295", "#FABFD2", "#B07AA1", "#D4A6C8",
    "#9D7660", "#D7B5A6", "#17BECF", "#7F3C8D", "#CF1C90", "#2E5EAA", "#BCBD22", "#8C564B",
)  # fmt: skip
NEUTRAL = "#9AA3B5"
# Kinds of memory: greys told apart by their pattern, so that no kind reads as a process.
KIND_STYLES = (
    ("#6B7384", ""), ("#8F97A8", "/"), ("#A9B0BF", "x"), ("#7C8598", "."), ("#C2C8D3", "-"),
)  # fmt: skip
SERIES_COLORS = ("#3B82F6", "#D97706", "#10B981")  # overview trend lines: not processes either
MARKER_COLOR = "#C0392B"
BASE_LAYOUT = {"margin": {"l": 48, "r": 16, "t": 36, "b": 40}, "hovermode": "closest"}


def process_color(process_id: str) -> str:
    """The colour of a process, the same on every page and for every entity: a stable hash of its
    id onto PALETTE (two processes may share a colour; their names tell them apart)."""
    digest = hashlib.blake2b(process_id.encode(), digest_size=4).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def figure_layout(title: str, **extra) -> dict:
    return {**BASE_LAYOUT, "title": {"text": title, "font": {"size": 14}}, **extra}


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


def contributions_by_kind(counts: Mapping[str, Mapping[str, int]], *, kinds: Sequence[str]) -> dict:
    """Horizontal stacked bars: per process, how many facts, preferences, ... it contributed. Kinds
    are greys with patterns (KIND_STYLES); the process names on the axis carry their colour."""
    processes = sorted(counts, reverse=True)  # top to bottom in name order
    data = []
    for index, kind in enumerate(kinds):
        color, shape = KIND_STYLES[index % len(KIND_STYLES)]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": kind,
                "y": processes,
                "x": [counts[process].get(kind, 0) for process in processes],
                "marker": {
                    "color": color,
                    "pattern": {"shape": shape, "fillmode": "overlay", "fgcolor": "rgba(20,24,32,0.55)", "size": 7},
                },
            }
        )
    height = max(260, 80 + 26 * len(processes))
    layout = figure_layout(
        "Contributed first, by kind", barmode="stack", height=height, legend={"orientation": "h", "y": 1.0,
        "yanchor": "bottom", "x": 0, "traceorder": "normal"}
    )  # fmt: skip
    layout["title"]["y"] = 0.99
    layout["title"]["yanchor"] = "top"
    layout["margin"] = {"l": 8, "r": 16, "t": 64, "b": 32}
    layout["yaxis"] = {"automargin": True, "tickfont": {"size": 12}}
    return {"data": data, "layout": layout}


def recall_flow_sankey(flows: Sequence[tuple[str, str, int]]) -> dict:
    """Who recalled whose memories: left = contributing process, right = recalling process.

    Labels are the bare process names (the column headings say which side is which), in the
    process's colour, without Plotly's halo, so twelve or more agents stay readable."""
    sources = sorted({source for source, _, _ in flows})
    targets = sorted({target for _, target, _ in flows})
    labels = sources + targets
    source_index = {name: index for index, name in enumerate(sources)}
    target_index = {name: len(sources) + index for index, name in enumerate(targets)}
    link = {
        "source": [source_index[source] for source, _, _ in flows],
        "target": [target_index[target] for _, target, _ in flows],
        "value": [weight for _, _, weight in flows],
        "color": [_translucent(process_color(source)) for source, _, _ in flows],
        "hovertemplate": "%{source.label} → %{target.label}: %{value} items received<extra></extra>",
    }
    rows = max(len(sources), len(targets))
    sankey = {
        "type": "sankey",
        "arrangement": "fixed",
        "node": {
            "label": labels,
            "color": [process_color(name) for name in labels],
            "pad": 8 if rows > 8 else 14,
            "thickness": 14,
            "line": {"width": 0},
            "hovertemplate": "%{label}: %{value} items<extra></extra>",
        },
        "link": link,
        "textfont": {"size": 12, "shadow": "none"},
    }
    layout = figure_layout("Recall flow between processes", height=max(320, 90 + 30 * rows))
    layout["margin"] = {"l": 8, "r": 8, "t": 56, "b": 8}
    layout["annotations"] = [
        {"text": "<b>contributed by</b>", "x": 0, "y": 1.0, "xref": "paper", "yref": "paper", "xanchor": "left",
         "yanchor": "bottom", "showarrow": False, "font": {"size": 12}},
        {"text": "<b>received by</b>", "x": 1, "y": 1.0, "xref": "paper", "yref": "paper", "xanchor": "right",
         "yanchor": "bottom", "showarrow": False, "font": {"size": 12}},
    ]  # fmt: skip
    return {"data": [sankey], "layout": layout}


def _translucent(hex_color: str, alpha: float = 0.45) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"
