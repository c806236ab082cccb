"""What an entity knows: facts, preferences, skills (shared) and attributes (per process)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from memory.models.identity import Entity, Process


class MemoryKind(models.TextChoices):
    FACT = "fact", "Fact"
    PREFERENCE = "preference", "Preference"
    SKILL = "skill", "Skill"
    ATTRIBUTE = "attribute", "Attribute"


SHARED_KINDS = (MemoryKind.FACT, MemoryKind.PREFERENCE, MemoryKind.SKILL)


class RecallStats(models.Model):
    """Usage counters shared by everything recall can return."""

    mention_count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_recalled_at = models.DateTimeField(null=True, blank=True)
    recall_count = models.PositiveIntegerField(default=0)
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        abstract = True


class Memory(RecallStats):
    """A fact, preference or skill shared by every process of the entity, or an attribute owned
    by one process (``owner_process`` set). Dedup is a database constraint on the content hash."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="memories")
    kind = models.CharField(max_length=16, choices=MemoryKind.choices, db_index=True)
    owner_process = models.ForeignKey(
        Process,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attributes",
        help_text="Only for attributes: the process they are isolated to.",
    )
    content = models.TextField()
    normalized = models.TextField(editable=False)
    content_hash = models.CharField(max_length=64, editable=False)
    first_process = models.ForeignKey(
        Process, null=True, blank=True, on_delete=models.SET_NULL, related_name="first_memories"
    )
    is_contradicted = models.BooleanField(default=False)
    # Validity: when the statement was first made (its first mention's original time, not the
    # import time) and, once a later memory states another value of the same claim, when it stopped
    # holding and which memory replaced it (memory/services/supersession.py).
    valid_from = models.DateTimeField(null=True, blank=True, help_text="When it was first said.")
    valid_to = models.DateTimeField(null=True, blank=True, help_text="When a later memory superseded it.")
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    # The state claim it makes (memory/extraction/types.py StateClaim), normalized; blank for events.
    claim_subject = models.CharField(max_length=200, blank=True, default="")
    claim_attribute = models.CharField(max_length=100, blank=True, default="")
    claim_value = models.CharField(max_length=300, blank=True, default="")
    claim_value_type = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        verbose_name_plural = "memories"
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "content_hash"],
                condition=Q(owner_process__isnull=True),
                name="shared_memory_unique_content",
            ),
            models.UniqueConstraint(
                fields=["entity", "owner_process", "content_hash"],
                condition=Q(owner_process__isnull=False),
                name="attribute_unique_content_per_process",
            ),
            models.CheckConstraint(
                condition=(Q(kind=MemoryKind.ATTRIBUTE) & Q(owner_process__isnull=False))
                | (~Q(kind=MemoryKind.ATTRIBUTE) & Q(owner_process__isnull=True)),
                name="attribute_iff_owner_process",
            ),
        ]
        indexes = [
            models.Index(fields=["entity", "kind", "-last_seen_at"], name="memory_entity_kind_seen"),
            models.Index(fields=["entity", "owner_process"], name="memory_entity_owner"),
            models.Index(fields=["entity", "-first_seen_at"], name="memory_entity_first_seen"),
            models.Index(fields=["-first_seen_at"], name="memory_first_seen"),
            models.Index(fields=["entity", "first_process", "-last_seen_at"], name="memory_entity_first_process"),
            # The Entity Timeline's "as of": memories valid at a moment, newest first, counted from the index.
            models.Index(fields=["entity", "valid_from", "valid_to"], name="memory_entity_validity"),
            # Supersession looks up an entity's current claims about a subject.
            models.Index(
                fields=["entity", "claim_subject"],
                condition=Q(valid_to__isnull=True) & ~Q(claim_subject=""),
                name="memory_current_claims",
            ),
            # Recall's refresh check reads these of every memory of an entity, from the index alone.
            models.Index(
                fields=["entity", "content_hash", "kind", "owner_process"],
                include=["id"],
                name="memory_entity_fingerprints",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.content[:80]}"

    @property
    def is_shared(self) -> bool:
        return self.owner_process_id is None

    @property
    def is_current(self) -> bool:
        """Not superseded by a later memory."""
        return self.valid_to is None
