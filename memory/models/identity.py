"""Who memory belongs to: entities, the processes (agents) that work for them, their sessions."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from memory.models.tenancy import Tenant

EXTERNAL_ID_MAX_LENGTH = 200


class Entity(models.Model):
    """A project, customer or repo: the unit that shares facts, preferences, skills and the graph."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="entities")
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Bumped on every write to this entity's memory, so in-process recall caches of every web
    # server and worker process see a new memory at once (one cheap read per recall).
    memory_version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "entities"
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="entity_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.external_id


class Process(models.Model):
    """An agent identity (e.g. research_agent); one per tenant, working for any of its entities."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="processes")
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "processes"
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="process_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.external_id


class Session(models.Model):
    """One run of one process for one entity; its conversation is isolated from all others."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="sessions")
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="sessions")
    uuid = models.UUIDField(default=uuid.uuid4)
    started_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "process", "uuid"], name="session_unique_per_entity_process"),
        ]
        indexes = [models.Index(fields=["entity", "-last_activity_at"], name="session_entity_activity")]

    def __str__(self) -> str:
        return str(self.uuid)
