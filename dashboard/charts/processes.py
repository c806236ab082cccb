"""Process View figures: what each process contributed by kind, and who recalled whose memories.

Pure functions from plain data to Plotly figure dicts (JSON-ready).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dashboard.charts.style import KIND_STYLES, figure_layout, process_color


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
