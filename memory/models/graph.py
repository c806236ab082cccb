"""The knowledge graph, shared per entity: nodes, predicates and deduplicated triples."""

from __future__ import annotations

from django.db import models

from memory.models.identity import Entity, Process
from memory.models.memories import RecallStats


class Node(models.Model):
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="nodes")
    name = models.CharField(max_length=300)
    normalized_name = models.CharField(max_length=300, editable=False)
    node_type = models.CharField(max_length=50, default="concept")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "normalized_name"], name="node_unique_per_entity"),
        ]

    def __str__(self) -> str:
        return self.name


class Predicate(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Triple(RecallStats):
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="triples")
    subject = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="subject_of")
    predicate = models.ForeignKey(Predicate, on_delete=models.PROTECT, related_name="triples")
    object = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="object_of")
    content = models.TextField(help_text="The triple as a sentence, what recall injects.")
    first_process = models.ForeignKey(
        Process, null=True, blank=True, on_delete=models.SET_NULL, related_name="first_triples"
    )
    is_contradicted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "subject", "predicate", "object"], name="triple_unique"),
        ]
        indexes = [
            models.Index(fields=["entity", "-last_seen_at"], name="triple_entity_seen"),
            models.Index(fields=["entity", "subject", "predicate"], name="triple_entity_subj_pred"),
        ]

    def __str__(self) -> str:
        return self.content
