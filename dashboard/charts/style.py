"""What every chart shares: the colours and the base layout of the Plotly figures.

A process has one colour everywhere: ``process_color`` derives it from the process id by a stable
hash onto ``PALETTE``, so an agent keeps its colour across charts, cards, pages and entities whatever
else is on the page. Kinds of memory (and other series that are not processes) are drawn in greys
with patterns, never in a process's colour. Backgrounds and font colours are left to the page
script, which applies the light or dark theme the reader's system uses.
"""

from __future__ import annotations

import hashlib

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
