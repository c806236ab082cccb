"""Server-side network layout: Fruchterman–Reingold with numpy, deterministic for a given graph."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def spring_layout(node_count: int, edges: Sequence[tuple[int, int, float]], *, seed: int = 7) -> np.ndarray:
    """Positions (n, 2) in [-1, 1]. ``edges`` are (i, j, weight) index pairs; heavier edges pull harder.

    Work is O(iterations * n^2); the iteration count shrinks as the graph grows so a capped graph
    (a few hundred nodes) lays out in tens of milliseconds. A weak pull to the centre keeps
    disconnected clusters on screen.
    """
    if node_count == 0:
        return np.zeros((0, 2))
    if node_count == 1:
        return np.zeros((1, 2))
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1.0, 1.0, size=(node_count, 2)).astype(np.float32)
    k = np.float32(1.6 / math.sqrt(node_count))
    iterations = int(max(12, min(60, 6_000_000 // (node_count * node_count))))
    temperature = np.float32(0.15)
    if edges:
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
        if edges:
            pull = pos[source] - pos[target]
            length = np.sqrt((pull * pull).sum(axis=1)) + np.float32(1e-4)
            force = pull * (length * weight / k)[:, None]
            np.add.at(displacement, source, -force)
            np.add.at(displacement, target, force)
        displacement -= pos * np.float32(0.05 * node_count * k)
        length = np.sqrt((displacement * displacement).sum(axis=1)) + np.float32(1e-6)
        pos += displacement * (np.minimum(length, temperature) / length)[:, None]
        temperature *= np.float32(0.93)
    span = np.abs(pos).max() or 1.0
    return pos / span
