"""Episodes: each augmented exchange's shareable prose, kept beside the memories extracted from it.

Extraction keeps only clean, self-contained statements, so what it cannot rewrite (a photo
caption, a reply that leans on its context) would be lost to recall. An episode keeps the exchange
as it was said (memory/extraction/episodes.py decides what of it may be shared), so recall can
still find it whole. Shared per entity like facts; one per exchange at most.
"""

from __future__ import annotations

from django.db import models

from memory.models.conversations import Exchange
from memory.models.identity import Entity, Process, Session


class Episode(models.Model):
    # Indexed with the id below (recall reads an entity's episodes, and their ids alone on refresh).
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="episodes", db_index=False)
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="episodes")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="episodes")
    exchange = models.OneToOneField(Exchange, on_delete=models.CASCADE, related_name="episode")
    content = models.TextField()
    occurred_at = models.DateTimeField(help_text="When the exchange took place (its original time).")
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["entity", "id"], name="episode_entity_ids")]

    def __str__(self) -> str:
        return f"episode of exchange {self.exchange_id}: {self.content[:60]}"
