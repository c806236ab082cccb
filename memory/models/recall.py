"""Recall events: what was asked, what came back with which scores, and what was still pending."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from memory.models.episodes import Episode
from memory.models.graph import Triple
from memory.models.identity import Entity, Process, Session
from memory.models.memories import Memory


class RecallEvent(models.Model):
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="recall_events")
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="recall_events")
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    query = models.TextField(blank=True)
    limit = models.PositiveIntegerField(default=20)
    token_budget = models.PositiveIntegerField(default=700)
    token_count = models.PositiveIntegerField(default=0, help_text="Tokens of the injected block.")
    injected_block = models.TextField(blank=True)
    latency_ms = models.FloatField(default=0)
    embed_ms = models.FloatField(default=0)
    search_ms = models.FloatField(default=0)
    fetch_ms = models.FloatField(default=0)
    pending_job_ids = models.JSONField(default=list, blank=True)
    pending_context_served = models.BooleanField(default=False)
    pending_exchange_ids = models.JSONField(default=list, blank=True, help_text="Exchanges served raw.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["entity", "-created_at"], name="recall_entity_time"),
            models.Index(fields=["entity", "process"], name="recall_entity_process"),
            models.Index(fields=["-created_at"], name="recall_time"),
        ]

    def __str__(self) -> str:
        return f"recall {self.pk} by {self.process}"


class RecallHit(models.Model):
    """One memory, triple or episode returned by a recall, with its scores (snapshot kept if it is deleted)."""

    event = models.ForeignKey(RecallEvent, on_delete=models.CASCADE, related_name="hits")
    rank = models.PositiveIntegerField()
    memory = models.ForeignKey(Memory, null=True, blank=True, on_delete=models.SET_NULL, related_name="recall_hits")
    triple = models.ForeignKey(Triple, null=True, blank=True, on_delete=models.SET_NULL, related_name="recall_hits")
    episode = models.ForeignKey(Episode, null=True, blank=True, on_delete=models.SET_NULL, related_name="recall_hits")
    kind = models.CharField(max_length=16)
    content = models.TextField()
    dense_score = models.FloatField(null=True, blank=True)
    lexical_score = models.FloatField(null=True, blank=True)
    fused_score = models.FloatField(default=0)
    contributing_processes = models.JSONField(default=list, blank=True)
    via = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Why it was recalled without matching the query: 'co-mentioned with memory 12' (extracted "
        "with a stronger match) or 'handoff from <process>' (another agent's work of the last minutes).",
    )

    class Meta:
        ordering = ["event", "rank"]
        constraints = [models.UniqueConstraint(fields=["event", "rank"], name="recall_hit_rank_unique")]

    def __str__(self) -> str:
        return f"#{self.rank} {self.content[:60]}"
