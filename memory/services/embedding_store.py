"""Computing the stored embedding of a memory or triple, once, at write time."""

from __future__ import annotations

import logging

from django.db.models import F

from memory.models import Entity

logger = logging.getLogger(__name__)


def embed_for_storage(texts: list[str]) -> tuple[list[bytes | None], str]:
    """Embeddings as float32 bytes plus the embedder's name; ``None`` entries if embedding failed."""
    from memory.embedding.registry import get_embedder, to_bytes

    embedder = get_embedder()
    try:
        vectors = embedder.embed(texts)
    except Exception:
        logger.exception("Embedding %d texts with %s failed; stored without embeddings.", len(texts), embedder.name)
        return [None] * len(texts), ""
    return [to_bytes(vector) for vector in vectors], embedder.name


def bump_memory_version(*entity_ids: int) -> None:
    """Tell every process's recall cache that these entities' memory changed (rows updated in id
    order, as every writer locks them)."""
    Entity.objects.filter(pk__in=sorted(entity_ids)).update(memory_version=F("memory_version") + 1)
