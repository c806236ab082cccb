"""Conversations: isolated per entity + process + session. An exchange is one recorded LLM call."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from memory.models.identity import Entity, Process, Session


class Conversation(models.Model):
    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="conversation")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="conversations")
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="conversations")
    started_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_message_at"]
        indexes = [models.Index(fields=["entity", "process"], name="conversation_entity_process")]

    def __str__(self) -> str:
        return f"{self.entity} / {self.process} / {self.session_id}"


class Exchange(models.Model):
    """One LLM call as recorded: the new messages, the reply, model, usage and latency."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="exchanges")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="exchanges")
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="exchanges")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="exchanges")
    # Client-supplied id: a retried POST with the same id never records twice.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    recall_event = models.ForeignKey(
        "memory.RecallEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="exchanges"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "idempotency_key"], name="exchange_idempotency_per_entity"),
        ]
        indexes = [
            # process too: the dashboard's counts per (day, entity, process) read only this index.
            models.Index(fields=["entity", "-occurred_at", "process"], name="exchange_entity_time_process"),
            models.Index(fields=["entity", "process"], name="exchange_entity_process"),
            models.Index(fields=["-occurred_at"], name="exchange_time"),
        ]

    def __str__(self) -> str:
        return f"exchange {self.pk} ({self.process} on {self.entity})"


class Message(models.Model):
    class Role(models.TextChoices):
        SYSTEM = "system"
        DEVELOPER = "developer"
        USER = "user"
        ASSISTANT = "assistant"
        TOOL = "tool"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="messages")
    position = models.PositiveIntegerField(help_text="Order within the conversation, from 0.")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    tool_calls = models.JSONField(null=True, blank=True)
    tool_call_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "position"], name="message_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"
