"""The Graph Explorer's network figure: nodes, edges coloured by their process, every drawn edge's
relation written on it (the strongest ones when there are many), and edges whose statement is in
conflict drawn apart: contradicted (two processes disagree) in red dashes, superseded (a later value
replaced it) in grey dots."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from dashboard.charts.style import NEUTRAL, figure_layout, process_color

NODE_LABELS = 40  # node names written on the drawing (the most mentioned); the others on hover
EDGE_LABELS = 60  # relation names written on their edge: conflicting ones first, then the strongest
CONTRADICTED_COLOR = "#D62728"
SUPERSEDED_COLOR = "#8C93A3"


def _edge_state(edge: Mapping) -> str:
    return "contradicted" if edge["contradicted"] else "superseded" if edge["superseded"] else ""


def _lines(edges: Sequence[Mapping], position: Mapping) -> tuple[list, list]:
    xs, ys = [], []
    for edge in edges:
        (x0, y0), (x1, y1) = position[edge["source"]], position[edge["target"]]
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    return xs, ys


def edge_label(edge: Mapping) -> str:
    """What is written on an edge: its relation, in words ("pays_with" → "pays with")."""
    words = edge["predicate"].replace("_", " ")
    state = _edge_state(edge)
    return f"⚠ {words}" if state == "contradicted" else f"{words} (old)" if state == "superseded" else words


def colour_key(edges: Sequence[Mapping]) -> list[tuple[str, str]]:
    """(process, colour) for every process that contributed a drawn edge, for the page's key."""
    return [
        (process, process_color(process) if process != "unknown" else NEUTRAL)
        for process in sorted({edge["process"] for edge in edges})
    ]


def knowledge_network(nodes: Sequence[Mapping], edges: Sequence[Mapping]) -> dict:
    """The knowledge graph as a network.

    ``nodes``: {id, name, x, y, mentions, process}; ``edges``: {source, target, predicate, process,
    mentions, content, contradicted, superseded} with source/target node ids. Current edges are drawn
    one trace per process (the page prints the colour key, which wraps on a phone where Plotly's
    legend overflowed the drawing); conflicting edges in a trace per
    state. A text trace at the edges' midpoints writes the relation and carries the hover text.
    """
    position = {node["id"]: (node["x"], node["y"]) for node in nodes}
    data = []
    current = [edge for edge in edges if not _edge_state(edge)]
    for process in sorted({edge["process"] for edge in current}):
        xs, ys = _lines([edge for edge in current if edge["process"] == process], position)
        data.append(
            {"type": "scatter", "mode": "lines", "name": process, "x": xs, "y": ys, "hoverinfo": "skip",
             "line": {"color": process_color(process) if process != "unknown" else NEUTRAL, "width": 1.6},
             "legendgroup": process}
        )  # fmt: skip
    for state, color, dash in (("contradicted", CONTRADICTED_COLOR, "dash"), ("superseded", SUPERSEDED_COLOR, "dot")):
        xs, ys = _lines([edge for edge in edges if _edge_state(edge) == state], position)
        if xs:
            data.append(
                {"type": "scatter", "mode": "lines", "name": state, "x": xs, "y": ys, "hoverinfo": "skip",
                 "line": {"color": color, "width": 2.4, "dash": dash}}
            )  # fmt: skip
    data += _edge_labels(edges, position)
    data.append(_node_markers(nodes))
    hidden_axis = {"showgrid": False, "zeroline": False, "showticklabels": False, "showline": False,
                   "range": [-1.2, 1.2]}  # fmt: skip
    layout = figure_layout("", xaxis=hidden_axis, yaxis=hidden_axis, height=620, dragmode="pan", showlegend=False)
    layout["margin"] = {"l": 8, "r": 8, "t": 8, "b": 8}
    return {"data": data, "layout": layout}


def label_positions(edges: Sequence[Mapping], position: Mapping) -> list[tuple[float, float]]:
    """Where each edge's label goes: past the middle, towards the end with fewer edges (labels of a
    hub's edges would all crowd round the hub), and edges between the same two nodes fanned out
    across the line so that their labels do not print over each other."""
    degree: Counter = Counter()
    for edge in edges:
        degree[edge["source"]] += 1
        degree[edge["target"]] += 1
    seen_pairs: Counter = Counter()
    spots = []
    for edge in edges:
        (x0, y0), (x1, y1) = position[edge["source"]], position[edge["target"]]
        share = 0.5 if degree[edge["source"]] == degree[edge["target"]] else 0.62
        if degree[edge["source"]] < degree[edge["target"]]:
            share = 1 - share
        x, y = x0 + (x1 - x0) * share, y0 + (y1 - y0) * share
        pair = frozenset((edge["source"], edge["target"]))
        nth = seen_pairs[pair]
        seen_pairs[pair] += 1
        if nth:
            length = math.hypot(x1 - x0, y1 - y0) or 1.0
            offset = 0.045 * ((nth + 1) // 2) * (1 if nth % 2 else -1)
            x, y = x - (y1 - y0) / length * offset, y + (x1 - x0) / length * offset
        spots.append((round(x, 4), round(y, 4)))
    return spots


def _edge_labels(edges: Sequence[Mapping], position: Mapping) -> list[dict]:
    """Relation names on the edges (see label_positions), a trace per state (current ones in the
    page's text colour): all of them up to EDGE_LABELS, else the conflicting ones and the strongest
    (edges arrive strongest first); every label spot hovers with the sentence."""
    ranked = sorted(range(len(edges)), key=lambda i: (not _edge_state(edges[i]), i))
    written = set(ranked[:EDGE_LABELS])
    spots = label_positions(edges, position)
    traces = []
    for state, color in (("", None), ("contradicted", CONTRADICTED_COLOR), ("superseded", SUPERSEDED_COLOR)):
        chosen = [index for index, edge in enumerate(edges) if _edge_state(edge) == state]
        if not chosen:
            continue
        trace = {
            "type": "scatter",
            "mode": "text",
            "name": f"{state or 'current'} relations",
            "showlegend": False,
            "x": [spots[i][0] for i in chosen],
            "y": [spots[i][1] for i in chosen],
            "text": [edge_label(edges[i]) if i in written else "" for i in chosen],
            "hovertext": [_edge_hover(edges[i]) for i in chosen],
            "hoverinfo": "text",
            "textfont": {"size": 10, **({"color": color} if color else {})},
            "cliponaxis": False,
        }
        traces.append(trace)
    return traces


def _edge_hover(edge: Mapping) -> str:
    state = _edge_state(edge)
    return f"{edge['content']}<br>{edge['predicate']} · {edge['mentions']} mentions · by {edge['process']}" + (
        f"<br><b>{state}</b>" if state else ""
    )


def _node_markers(nodes: Sequence[Mapping]) -> dict:
    largest = sorted(nodes, key=lambda node: node["mentions"], reverse=True)[:NODE_LABELS]
    labelled = {node["id"] for node in largest}
    return {
        "type": "scatter",
        "mode": "markers+text",
        "name": "nodes",
        "showlegend": False,
        "x": [node["x"] for node in nodes],
        "y": [node["y"] for node in nodes],
        "customdata": [node["id"] for node in nodes],
        "meta": {"names": [node["name"] for node in nodes]},
        "text": [node["name"] if node["id"] in labelled else "" for node in nodes],
        "hovertext": [f"{node['name']}<br>{node['mentions']} mentions · mostly {node['process']}" for node in nodes],
        "hoverinfo": "text",
        "textposition": "top center",
        "textfont": {"size": 12},
        "marker": {
            "size": [min(42, 9 + 5 * math.sqrt(node["mentions"])) for node in nodes],
            "color": [process_color(node["process"]) if node["process"] != "unknown" else NEUTRAL for node in nodes],
            "line": {"width": 1, "color": "rgba(255,255,255,0.8)"},
        },
    }
