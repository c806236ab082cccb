"""Augmentation jobs: one per recorded exchange, written in the same transaction (the outbox)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from memory.models.conversations import Exchange
from memory.models.identity import Entity, Process


class AugmentationJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    exchange = models.OneToOneField(Exchange, on_delete=models.CASCADE, related_name="augmentation_job")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="augmentation_jobs")
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="augmentation_jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    extractor = models.CharField(max_length=100, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Counts of what the job produced.")
    queued_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["entity", "status"], name="job_entity_status"),
            models.Index(fields=["status", "queued_at"], name="job_status_queued"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
