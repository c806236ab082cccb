"""Server-side network layout: Fruchterman–Reingold with numpy, deterministic for a given graph.

Each connected component is laid out on its own and the components are then packed side by side,
largest first, each given room in proportion to its size: laying out everything at once let a few
small islands far away squeeze the main cluster (and its labels) into the middle of the drawing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

GAP = 1.0  # between packed components, in the radius of a one-node component: room for their labels


def spring_layout(node_count: int, edges: Sequence[tuple[int, int, float]], *, seed: int = 7) -> np.ndarray:
    """Positions (n, 2) in [-1, 1]. ``edges`` are (i, j, weight) index pairs; heavier edges pull harder.

    Work is O(iterations * n^2) per component; the iteration count shrinks as a component grows so
    a capped graph (a few hundred nodes) lays out in tens of milliseconds.
    """
    if node_count == 0:
        return np.zeros((0, 2))
    merged: dict[tuple[int, int], float] = {}
    for i, j, weight in edges:  # two relations between the same nodes pull as one, a little harder
        if i != j:
            merged[(min(i, j), max(i, j))] = merged.get((min(i, j), max(i, j)), 0.0) + weight
    edges = [(i, j, weight) for (i, j), weight in merged.items()]
    components = connected_components(node_count, edges)
    placed = np.zeros((node_count, 2))
    boxes = []
    for members in components:
        index = {node: position for position, node in enumerate(members)}
        local = [(index[i], index[j], w) for i, j, w in edges if i in index and j in index]
        boxes.append((members, _component_layout(len(members), local, seed=seed)))
    for (members, positions), (cx, cy, radius) in zip(boxes, _pack([len(m) for m, _ in boxes]), strict=True):
        placed[members] = positions * radius + np.array([cx, cy])
    centre = (placed.max(axis=0) + placed.min(axis=0)) / 2
    placed -= centre
    span = np.abs(placed).max() or 1.0
    return placed / span


def connected_components(node_count: int, edges: Sequence[tuple[int, int, float]]) -> list[list[int]]:
    """Node indices per component, largest component first (ties: lowest index first)."""
    parent = list(range(node_count))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for i, j, _ in edges:
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for node in range(node_count):
        groups.setdefault(root(node), []).append(node)
    return sorted(groups.values(), key=lambda members: (-len(members), members[0]))


def _pack(sizes: list[int]) -> list[tuple[float, float, float]]:
    """(centre x, centre y, radius) per component, in rows about as wide as the whole is tall. A
    component's radius grows a little faster than the square root of its node count: labels do not
    shrink with the drawing, so a big cluster needs more room per node than a pair does."""
    radii = [size**0.65 for size in sizes]
    width = max(max(radii) * 2, math.sqrt(sum((2 * r) ** 2 for r in radii)) * 1.25)
    boxes, x, y, row_height = [], 0.0, 0.0, 0.0
    for radius in radii:
        if x > 0 and x + 2 * radius > width:
            x, y, row_height = 0.0, y - row_height, 0.0
        boxes.append((x + radius, y - radius, radius))
        x += 2 * radius + GAP
        row_height = max(row_height, 2 * radius + GAP)
    return boxes


def _component_layout(node_count: int, edges: Sequence[tuple[int, int, float]], *, seed: int) -> np.ndarray:
    """One connected component's positions, scaled to fit the unit disc."""
    if node_count == 1:
        return np.zeros((1, 2))
    if node_count == 2:
        return np.array([[-0.8, 0.0], [0.8, 0.0]])
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1.0, 1.0, size=(node_count, 2)).astype(np.float32)
    k = np.float32(1.6 / math.sqrt(node_count))
    iterations = int(max(12, min(60, 6_000_000 // (node_count * node_count))))
    temperature = np.float32(0.15)
    source = np.fromiter((edge[0] for edge in edges), dtype=np.int64)
    target = np.fromiter((edge[1] for edge in edges), dtype=np.int64)
    weight = np.fromiter((edge[2] for edge in edges), dtype=np.float32)
    weight = 1.0 + np.log1p(weight) / 2
    k_sq = k * k
    for _ in range(iterations):
        x, y = pos[:, 0], pos[:, 1]
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        repulsion = k_sq / (dx * dx + dy * dy + np.float32(1e-4))
        displacement = np.stack(((dx * repulsion).sum(axis=1), (dy * repulsion).sum(axis=1)), axis=1)
        pull = pos[source] - pos[target]
        length = np.sqrt((pull * pull).sum(axis=1)) + np.float32(1e-4)
        force = pull * (length * weight / k)[:, None]
        np.add.at(displacement, source, -force)
        np.add.at(displacement, target, force)
        displacement -= pos * np.float32(0.05 * node_count * k)
        length = np.sqrt((displacement * displacement).sum(axis=1)) + np.float32(1e-6)
        pos += displacement * (np.minimum(length, temperature) / length)[:, None]
        temperature *= np.float32(0.93)
    pos -= pos.mean(axis=0)
    span = np.sqrt((pos * pos).sum(axis=1)).max() or 1.0
    return pos / span
