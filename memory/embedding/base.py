"""The contract every embedder meets, so recall can compare vectors by a plain dot product."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


class EmbeddingUnavailable(RuntimeError):
    """The embedder could not produce vectors (e.g. its server is down or answered nonsense)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors.

    `embed` returns float32 of shape (len(texts), dimensions) whose rows have L2 norm 1, so that
    cosine similarity is a dot product; a text with nothing to embed (empty, whitespace) gets a
    zero row, never NaN. `name` identifies the vector space: vectors from embedders with
    different names must not be compared.
    """

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """float32 copy with unit-length rows; all-zero (or non-finite) rows become zero rows."""
    out = np.nan_to_num(np.asarray(matrix, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if out.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {out.shape}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out
