"""The dense half of recall behind a small interface, so pgvector or an external engine can replace it.

`NumpyVectorIndex` keeps an entity's unit vectors in one float32 matrix: a query is one matrix-vector
product (100,000 x 256 is ~25M multiply-adds, a few milliseconds on one core). Rows without a usable
embedding are zero rows: they never match densely but lexical search still finds them.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np


class VectorIndex(Protocol):
    """Nearest rows by cosine (unit vectors, so a dot product) among the rows a caller may see."""

    @property
    def nbytes(self) -> int: ...

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best rows (best first) with their similarities; `allowed` is a boolean row mask."""
        ...

    def similarity(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Similarities of given rows (e.g. lexical hits the dense search did not return)."""
        ...

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The rows' unit vectors, to collapse near-duplicates among results."""
        ...

    def appended(self, vectors: np.ndarray) -> VectorIndex:
        """A new index with `vectors` as rows size, size+1, ... (this one is left as it is)."""
        ...


def new_vector_index(matrix: np.ndarray) -> VectorIndex:
    """The engine an entity's index is built with, from its rows' unit vectors (one row each, zero
    where a row has none): the one place another engine (pgvector, an ANN library) plugs in."""
    return NumpyVectorIndex(matrix)


class NumpyVectorIndex:
    """The default engine: every vector in one float32 matrix (see the module docstring)."""

    def __init__(self, matrix: np.ndarray) -> None:
        single_threaded_blas()
        matrix = np.asarray(matrix, dtype=np.float32)
        self._storage = _Storage(matrix)
        self._matrix = self._storage.rows[: matrix.shape[0]]

    @property
    def nbytes(self) -> int:
        return self._storage.rows.nbytes

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if not self._matrix.shape[0] or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self._matrix @ np.asarray(query, dtype=np.float32)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        rows = top_rows(scores, k)
        rows = rows[np.isfinite(scores[rows])]
        return rows, scores[rows]

    def similarity(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self._matrix[rows] @ np.asarray(query, dtype=np.float32)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self._matrix[rows]

    def appended(self, vectors: np.ndarray) -> NumpyVectorIndex:
        """Written into the spare rows when this index is the last one appended to its storage
        (the usual refresh after a write: no copy of the whole matrix), else a new matrix."""
        vectors = np.asarray(vectors, dtype=np.float32)
        start, count = self._matrix.shape[0], vectors.shape[0]
        if not self._storage.claim(start, count):
            return NumpyVectorIndex(np.concatenate([self._matrix, vectors]))
        self._storage.rows[start : start + count] = vectors
        new = object.__new__(NumpyVectorIndex)
        new._storage, new._matrix = self._storage, self._storage.rows[: start + count]
        return new


SPARE_ROWS_SHARE = 1 / 16  # room for new memories after the rows of a matrix (copying a small one is cheap)


class _Storage:
    """An entity's vectors with spare rows at the end, shared by the indexes `appended` makes.

    Each index reads only its own first rows, and rows are written only past `used`, which only
    grows, so no index ever sees a row change under it; an append from an index that is not the
    last one gets a copy instead."""

    def __init__(self, matrix: np.ndarray) -> None:
        count = matrix.shape[0]
        self.rows = np.empty((count + 16 + int(count * SPARE_ROWS_SHARE), *matrix.shape[1:]), dtype=np.float32)
        self.rows[:count] = matrix
        self.used = count
        self._lock = threading.Lock()

    def claim(self, start: int, count: int) -> bool:
        """Reserve rows start..start+count for the caller: only right after the last used row."""
        with self._lock:
            if start != self.used or start + count > self.rows.shape[0]:
                return False
            self.used = start + count
            return True


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` largest scores, best first, in O(n) plus O(k log k)."""
    if k >= scores.shape[0]:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


_blas_lock = threading.Lock()
_blas_limited = False


def single_threaded_blas() -> None:
    """Run BLAS on one thread in this process, once.

    A recall's matrix-vector product is small and memory-bound; OpenBLAS's default thread pool
    (one thread per core) makes it 5-10x slower on a busy server, where every core already serves
    a request (measured: 10,000 x 256 took 21 ms with 2 threads under load vs 1.7 ms with 1).
    """
    global _blas_limited
    if _blas_limited:
        return
    with _blas_lock:
        if not _blas_limited:
            try:
                from threadpoolctl import threadpool_limits

                threadpool_limits(limits=1, user_api="blas")
            except Exception:  # threadpoolctl missing or no BLAS found: keep numpy's default
                pass
            _blas_limited = True
