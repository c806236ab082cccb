"""Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, Ollama, ...)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from memory.embedding.base import EmbeddingUnavailable, normalize_rows


class OpenAIEmbedder:
    """Calls `client.embeddings.create` in batches of `batch_size` texts.

    Blank texts are not sent (the API rejects empty input) and get zero rows. Rows are
    re-normalised because compatible servers do not all return unit vectors. `dimensions` is
    asked of the server with one probe request when not given.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        dimensions: int | None = None,
        batch_size: int = 256,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        from openai import OpenAI

        if not model:
            raise ValueError("OpenAIEmbedder needs a model name")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model = model
        self.batch_size = batch_size
        self.name = f"openai:{model}"
        self._dimensions = dimensions
        self._client = OpenAI(
            base_url=base_url or None,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self.model!r}, base_url={str(self._client.base_url)!r})"

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:
            self._dimensions = len(self._request(["dimensions probe"])[0])
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        if len(texts) == 0:
            return np.zeros((0, self._dimensions or 0), dtype=np.float32)
        rows = [i for i, text in enumerate(texts) if text and text.strip()]
        vectors: list[list[float]] = []
        for start in range(0, len(rows), self.batch_size):
            vectors.extend(self._request([texts[i] for i in rows[start : start + self.batch_size]]))
        if vectors and self._dimensions is None:
            self._dimensions = len(vectors[0])
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if any(len(vector) != self.dimensions for vector in vectors):
            raise EmbeddingUnavailable(f"{self.name} returned vectors that are not all {self.dimensions}-dimensional")
        if vectors:
            out[rows] = np.asarray(vectors, dtype=np.float32)
        return normalize_rows(out)

    def _request(self, batch: list[str]) -> list[list[float]]:
        from openai import OpenAIError

        try:
            response = self._client.embeddings.create(model=self.model, input=batch, encoding_format="float")
        except OpenAIError as exc:
            raise EmbeddingUnavailable(f"{self.name} at {self._client.base_url}: {exc}") from exc
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(batch):
            raise EmbeddingUnavailable(f"{self.name} returned {len(data)} vectors for {len(batch)} inputs")
        return [item.embedding for item in data]
