"""Plotly figure builders: pure functions from plain data to figure dicts (JSON-ready).

Colours are fixed per process for a page (``process_colors``) so the same agent has the same colour in
every chart. Backgrounds and font colours are left to the page script, which applies the light or dark
theme the reader's system uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

PALETTE = (
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2",
    "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D", "#8CD17D",
)  # fmt: skip
NEUTRAL = "#9AA3B5"
BASE_LAYOUT = {"margin": {"l": 48, "r": 16, "t": 36, "b": 40}, "hovermode": "closest"}


def process_colors(process_names: Iterable[str]) -> dict[str, str]:
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(sorted(set(process_names)))}


def _layout(title: str, **extra) -> dict:
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
                "line": {"color": PALETTE[index % len(PALETTE)]},
            }
        )
    return {"data": data, "layout": _layout(title, legend={"orientation": "h", "y": -0.2})}


def stacked_bars(
    series_by_process: Mapping[str, Mapping[datetime, int]], *, title: str, colors: Mapping[str, str]
) -> dict:
    """Counts per time bucket stacked by process."""
    data = []
    for process in sorted(series_by_process):
        points = series_by_process[process]
        buckets = sorted(points)
        data.append(
            {
                "type": "bar",
                "name": process,
                "x": buckets,
                "y": [points[bucket] for bucket in buckets],
                "marker": {"color": colors.get(process, NEUTRAL)},
            }
        )
    return {"data": data, "layout": _layout(title, barmode="stack", legend={"orientation": "h", "y": -0.2})}


def cumulative_growth(points: Sequence[tuple[datetime, int]], *, title: str, marker_at: datetime | None = None) -> dict:
    """Running total over time; an optional vertical line marks the "as of" moment."""
    total, xs, ys = 0, [], []
    for bucket, count in points:
        total += count
        xs.append(bucket)
        ys.append(total)
    layout = _layout(title, showlegend=False)
    if marker_at is not None:
        layout["shapes"] = [
            {"type": "line", "xref": "x", "yref": "paper", "x0": marker_at, "x1": marker_at, "y0": 0, "y1": 1,
             "line": {"color": PALETTE[3], "dash": "dot", "width": 2}}
        ]  # fmt: skip
    return {
        "data": [{"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "tozeroy", "name": "memories"}],
        "layout": layout,
    }


def contributions_by_kind(counts: Mapping[str, Mapping[str, int]], *, kinds: Sequence[str], colors: Mapping[str, str]):
    """Horizontal stacked bars: per process, how many facts, preferences, ... it contributed."""
    processes = sorted(counts)
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": kind,
            "y": processes,
            "x": [counts[process].get(kind, 0) for process in processes],
            "marker": {"color": PALETTE[index % len(PALETTE)]},
        }
        for index, kind in enumerate(kinds)
    ]
    height = max(260, 60 + 36 * len(processes))
    layout = _layout(
        "Contributed first, by kind", barmode="stack", height=height, legend={"orientation": "h", "y": -0.25}
    )
    layout["margin"] = {"l": 140, "r": 16, "t": 36, "b": 40}
    return {"data": data, "layout": layout}


def recall_flow_sankey(flows: Sequence[tuple[str, str, int]], *, colors: Mapping[str, str]) -> dict:
    """Who recalled whose memories: left = contributing process, right = recalling process."""
    sources = sorted({source for source, _, _ in flows})
    targets = sorted({target for _, target, _ in flows})
    labels = [f"{name} (wrote)" for name in sources] + [f"{name} (recalled)" for name in targets]
    node_colors = [colors.get(name, NEUTRAL) for name in sources] + [colors.get(name, NEUTRAL) for name in targets]
    source_index = {name: index for index, name in enumerate(sources)}
    target_index = {name: len(sources) + index for index, name in enumerate(targets)}
    link = {
        "source": [source_index[source] for source, _, _ in flows],
        "target": [target_index[target] for _, target, _ in flows],
        "value": [weight for _, _, weight in flows],
        "color": [_translucent(colors.get(source, NEUTRAL)) for source, _, _ in flows],
        "hovertemplate": "%{source.label} → %{target.label}: %{value} recalled memories<extra></extra>",
    }
    sankey = {
        "type": "sankey",
        "node": {"label": labels, "color": node_colors, "pad": 18, "thickness": 16},
        "link": link,
    }
    return {"data": [sankey], "layout": _layout("Recall flow between processes", height=max(300, 70 * len(labels)))}


def _translucent(hex_color: str, alpha: float = 0.45) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def knowledge_network(nodes: Sequence[Mapping], edges: Sequence[Mapping], *, colors: Mapping[str, str]) -> dict:
    """The knowledge graph as a network.

    ``nodes``: {id, name, x, y, mentions, process}; ``edges``: {source, target, predicate, process,
    mentions, content} with source/target node ids. Edges are drawn one trace per process (so the legend
    doubles as a colour key); an invisible marker at each edge's midpoint carries its hover text.
    """
    position = {node["id"]: (node["x"], node["y"]) for node in nodes}
    data = []
    for process in sorted({edge["process"] for edge in edges}):
        xs, ys = [], []
        for edge in edges:
            if edge["process"] == process:
                (x0, y0), (x1, y1) = position[edge["source"]], position[edge["target"]]
                xs += [x0, x1, None]
                ys += [y0, y1, None]
        data.append(
            {"type": "scatter", "mode": "lines", "name": process, "x": xs, "y": ys, "hoverinfo": "skip",
             "line": {"color": colors.get(process, NEUTRAL), "width": 1.6}, "legendgroup": process}
        )  # fmt: skip
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "relations",
            "showlegend": False,
            "x": [(position[e["source"]][0] + position[e["target"]][0]) / 2 for e in edges],
            "y": [(position[e["source"]][1] + position[e["target"]][1]) / 2 for e in edges],
            "text": [
                f"{e['content']}<br>{e['predicate']} · {e['mentions']} mentions · by {e['process']}" for e in edges
            ],
            "hoverinfo": "text",
            "marker": {"size": 6, "opacity": 0.0},
        }
    )
    largest = sorted(nodes, key=lambda node: node["mentions"], reverse=True)[:40]
    labelled = {node["id"] for node in largest}
    data.append(
        {
            "type": "scatter",
            "mode": "markers+text",
            "name": "nodes",
            "showlegend": False,
            "x": [node["x"] for node in nodes],
            "y": [node["y"] for node in nodes],
            "customdata": [node["id"] for node in nodes],
            "text": [node["name"] if node["id"] in labelled else "" for node in nodes],
            "hovertext": [
                f"{node['name']}<br>{node['mentions']} mentions · mostly {node['process']}" for node in nodes
            ],
            "hoverinfo": "text",
            "textposition": "top center",
            "marker": {
                "size": [min(42, 9 + 5 * math.sqrt(node["mentions"])) for node in nodes],
                "color": [colors.get(node["process"], NEUTRAL) for node in nodes],
                "line": {"width": 1, "color": "rgba(255,255,255,0.8)"},
            },
        }
    )
    hidden_axis = {"showgrid": False, "zeroline": False, "showticklabels": False, "showline": False,
                   "range": [-1.3, 1.3]}  # fmt: skip
    layout = _layout("", xaxis=hidden_axis, yaxis=hidden_axis, height=620, dragmode="pan",
                     legend={"orientation": "h", "y": -0.05, "title": {"text": "Contributed by"}})  # fmt: skip
    layout["margin"] = {"l": 8, "r": 8, "t": 8, "b": 8}
    return {"data": data, "layout": layout}
