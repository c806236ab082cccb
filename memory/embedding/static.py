"""The default, offline embedder: static token vectors distilled from all-MiniLM-L6-v2.

A text's embedding is the normalised sum of its WordPiece tokens' vectors (see data/README.md for
how the vectors were made). It needs numpy and `tokenizers` only, no model download and no torch,
and embeds thousands of sentences per second on one core.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from memory.embedding.base import normalize_rows

DATA_DIR = Path(__file__).resolve().parent / "data"

# WordPiece ids below this are [PAD], [unusedN], [UNK], [CLS], [SEP] and [MASK]: no meaning.
_FIRST_CONTENT_ID = 104


@dataclass(frozen=True)
class _StaticModel:
    tokenizer: Tokenizer
    vectors: np.ndarray  # (vocab, dims) float32


_lock = threading.Lock()
_tokenizers: dict[Path, Tokenizer] = {}
_models: dict[Path, _StaticModel] = {}


def load_tokenizer(data_dir: Path = DATA_DIR) -> Tokenizer:
    """The shipped WordPiece tokenizer, loaded once per process (no truncation, no padding)."""
    tokenizer = _tokenizers.get(data_dir)
    if tokenizer is None:
        with _lock:
            tokenizer = _tokenizers.get(data_dir)
            if tokenizer is None:
                tokenizer = Tokenizer.from_file(str(data_dir / "tokenizer.json"))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                _tokenizers[data_dir] = tokenizer
    return tokenizer


def _load_model(data_dir: Path) -> _StaticModel:
    model = _models.get(data_dir)
    if model is None:
        tokenizer = load_tokenizer(data_dir)
        with _lock:
            model = _models.get(data_dir)
            if model is None:
                vectors = np.load(data_dir / "vectors.npy").astype(np.float32)
                vectors[:_FIRST_CONTENT_ID] = 0.0
                model = _StaticModel(tokenizer=tokenizer, vectors=vectors)
                _models[data_dir] = model
    return model


class StaticEmbedder:
    """Embeds with the vectors in `data_dir`; the files are read on the first `embed` call."""

    def __init__(self, data_dir: Path | str = DATA_DIR) -> None:
        self.data_dir = Path(data_dir).resolve()
        config = json.loads((self.data_dir / "config.json").read_text(encoding="utf-8"))
        self.name: str = config["name"]
        self.dimensions: int = int(config["dimensions"])

    def __repr__(self) -> str:
        return f"StaticEmbedder(name={self.name!r}, dimensions={self.dimensions})"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if len(texts) == 0:
            return out
        model = _load_model(self.data_dir)
        # encode_batch spreads the texts over Rust threads (after a fork, `tokenizers` falls back
        # to one thread by itself).
        encodings = model.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = np.asarray(encoding.ids, dtype=np.int64)
            if ids.size:
                out[row] = model.vectors[ids].sum(axis=0)
        return normalize_rows(out)
