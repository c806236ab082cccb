"""Re-embed every memory, triple and episode with the current embedder (after changing MEMORI_EMBEDDER).

Rows are read and written in batches by primary key, so it runs in constant memory and can be
interrupted and re-run (`--stale-only` then skips what is already done). Every entity touched gets
its memory_version bumped, so every process's recall cache reloads the new vectors.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F

from memory.embedding import get_embedder, to_bytes
from memory.models import Entity, Episode, Memory, Triple


class Command(BaseCommand):
    help = "Re-embed all memories, triples and episodes with the current embedder, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=512)
        parser.add_argument("--stale-only", action="store_true", help="Only rows not embedded by the current embedder.")

    def handle(self, *args, batch_size=512, stale_only=False, **options):
        embedder = get_embedder()
        touched: set[int] = set()
        for model in (Memory, Triple, Episode):
            rows = model.objects.all()
            if stale_only:
                rows = rows.exclude(embedding_model=embedder.name, embedding__isnull=False)
            total = rows.count()
            with progress_bar(total, f"{model._meta.verbose_name_plural} ({embedder.name})") as bar:
                last_pk = 0
                while True:
                    batch = list(
                        rows.filter(pk__gt=last_pk).order_by("pk").only("pk", "entity_id", "content")[:batch_size]
                    )
                    if not batch:
                        break
                    vectors = embedder.embed([row.content for row in batch])
                    for row, vector in zip(batch, vectors, strict=True):
                        row.embedding, row.embedding_model = to_bytes(vector), embedder.name
                    with transaction.atomic():
                        model.objects.bulk_update(batch, ["embedding", "embedding_model"])
                    touched.update(row.entity_id for row in batch)
                    last_pk = batch[-1].pk
                    bar.update(len(batch))
        Entity.objects.filter(pk__in=touched).update(memory_version=F("memory_version") + 1)
        self.stdout.write(f"Re-embedded with {embedder.name}; {len(touched)} entities' recall caches refreshed.")


def progress_bar(total: int, label: str):
    """tqdm when installed, else a plain counter on stderr."""
    try:
        from tqdm import tqdm

        return tqdm(total=total, desc=label, unit="row")
    except ImportError:
        return _PlainProgress(total, label)


class _PlainProgress:
    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        sys.stderr.write("\n")

    def update(self, count: int) -> None:
        self.done += count
        percent = 100 * self.done / self.total if self.total else 100
        sys.stderr.write(f"\r{self.label}: {self.done}/{self.total} ({percent:.0f}%)")
        sys.stderr.flush()
