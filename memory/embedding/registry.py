"""Which embedder this process uses, and how vectors are stored.

`MEMORI_EMBEDDER` (Django setting if Django is configured, else the environment) is `static`
(default: offline, shipped with the package), `openai` (any OpenAI-compatible endpoint, configured by
`MEMORI_EMBEDDING_BASE_URL`, `MEMORI_EMBEDDING_API_KEY`, `MEMORI_EMBEDDING_MODEL`), or the dotted
path of a class or factory that takes no arguments and returns an `Embedder`.
"""

from __future__ import annotations

import importlib
import os
import threading

import numpy as np

from memory.embedding.base import Embedder

_STORAGE_DTYPE = np.dtype("<f4")
_DEFAULT_OPENAI_MODEL = "text-embedding-3-small"


class EmbedderConfigError(ValueError):
    """`MEMORI_EMBEDDER` names nothing we can build."""


_lock = threading.Lock()
_embedder: Embedder | None = None


def get_embedder() -> Embedder:
    """The process-wide embedder, built on first use from the settings."""
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                _embedder = build_embedder()
    return _embedder


def reset_embedder() -> None:
    """Forget the process-wide embedder so the next `get_embedder()` reads the settings again."""
    global _embedder
    with _lock:
        _embedder = None


def build_embedder(choice: str | None = None) -> Embedder:
    """A new embedder for `choice` (default: the `MEMORI_EMBEDDER` setting)."""
    choice = (choice or _setting("MEMORI_EMBEDDER") or "static").strip()
    if choice == "static":
        from memory.embedding.static import StaticEmbedder

        return StaticEmbedder()
    if choice == "openai":
        from memory.embedding.openai_embedder import OpenAIEmbedder

        return OpenAIEmbedder(
            base_url=_setting("MEMORI_EMBEDDING_BASE_URL"),
            api_key=_setting("MEMORI_EMBEDDING_API_KEY"),
            model=_setting("MEMORI_EMBEDDING_MODEL") or _DEFAULT_OPENAI_MODEL,
        )
    if "." in choice:
        return _import_factory(choice)()
    raise EmbedderConfigError(f"MEMORI_EMBEDDER={choice!r}: use 'static', 'openai' or a dotted path to a class")


def to_bytes(vector: np.ndarray) -> bytes:
    """One 1-D vector as little-endian float32 bytes (4 bytes per dimension)."""
    array = np.asarray(vector, dtype=_STORAGE_DTYPE)
    if array.ndim != 1:
        raise ValueError(f"to_bytes takes one 1-D vector, got shape {array.shape}")
    return array.tobytes()


def from_bytes(data: bytes, dims: int) -> np.ndarray:
    """The float32 vector stored by `to_bytes`; raises ValueError if its length is not `dims`."""
    if len(data) != dims * _STORAGE_DTYPE.itemsize:
        raise ValueError(f"expected {dims} float32 values, got {len(data)} bytes")
    return np.frombuffer(data, dtype=_STORAGE_DTYPE).astype(np.float32)


def _setting(name: str) -> str | None:
    """Django's setting when Django is configured and has it, else the environment variable."""
    value = None
    if _django_configured():
        from django.conf import settings

        value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    return value or None


def _django_configured() -> bool:
    try:
        from django.conf import settings
    except ImportError:
        return False
    return settings.configured or bool(os.environ.get("DJANGO_SETTINGS_MODULE"))


def _import_factory(path: str):
    module_name, _, attribute = path.rpartition(".")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise EmbedderConfigError(f"MEMORI_EMBEDDER={path!r} cannot be imported: {exc}") from exc
    if not callable(factory):
        raise EmbedderConfigError(f"MEMORI_EMBEDDER={path!r} is not a class or function")
    return factory
