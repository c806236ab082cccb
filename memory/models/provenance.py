"""Every mention of a memory or triple: which process, session, message and job, and when."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from memory.models.conversations import Exchange, Message
from memory.models.graph import Triple
from memory.models.identity import Entity, Process, Session
from memory.models.memories import Memory


class Provenance(models.Model):
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="provenance")
    memory = models.ForeignKey(Memory, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions")
    triple = models.ForeignKey(Triple, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions")
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="mentions")
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    exchange = models.ForeignKey(Exchange, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions")
    job = models.ForeignKey(
        "memory.AugmentationJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    source = models.CharField(max_length=20, default="augmentation", help_text="augmentation, api, admin, import")
    mentioned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "provenance"
        ordering = ["mentioned_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(memory__isnull=False) & Q(triple__isnull=True))
                | (Q(memory__isnull=True) & Q(triple__isnull=False)),
                name="provenance_of_memory_xor_triple",
            ),
            # A job run twice must not add a mention twice (idempotent augmentation).
            models.UniqueConstraint(
                fields=["job", "memory"], condition=Q(job__isnull=False, memory__isnull=False), name="prov_job_memory"
            ),
            models.UniqueConstraint(
                fields=["job", "triple"], condition=Q(job__isnull=False, triple__isnull=False), name="prov_job_triple"
            ),
        ]
        indexes = [
            models.Index(fields=["entity", "process", "-mentioned_at"], name="prov_entity_process_time"),
            models.Index(fields=["entity", "-mentioned_at"], name="prov_entity_time"),
        ]

    def __str__(self) -> str:
        target = self.memory_id and f"memory {self.memory_id}" or f"triple {self.triple_id}"
        return f"{target} by {self.process} at {self.mentioned_at:%Y-%m-%d %H:%M}"


class Contradiction(models.Model):
    """Two memories or triples of one entity that conflict; recorded, never silently overwritten."""

    class Reason(models.TextChoices):
        SAME_SUBJECT_PREDICATE = "same_subject_predicate", "Same subject and predicate, different object"
        EXTRACTOR = "extractor", "Marked as contradicting by the extractor"

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="contradictions")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    memory_a = models.ForeignKey(Memory, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    memory_b = models.ForeignKey(Memory, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    triple_a = models.ForeignKey(Triple, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    triple_b = models.ForeignKey(Triple, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    detected_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(fields=["memory_a", "memory_b"], name="contradiction_memory_pair"),
            models.UniqueConstraint(fields=["triple_a", "triple_b"], name="contradiction_triple_pair"),
        ]
        indexes = [models.Index(fields=["entity", "resolved_at"], name="contradiction_entity_open")]

    def __str__(self) -> str:
        return f"contradiction {self.pk} ({self.reason})"
