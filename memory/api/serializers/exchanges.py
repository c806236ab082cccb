"""Input and output of recording exchanges (one, or many in a bulk import)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from memory.api.fields import (
    CleanTextField,
    ExternalIdField,
    StrictFloatField,
    StrictIntegerField,
    text_problem,
    validate_storable_json,
)
from memory.models import Message
from memory.services.recording import MAX_MESSAGE_CHARS, ExchangeInput, MessageInput

MAX_MESSAGES_PER_EXCHANGE = 1000
MAX_EXCHANGES_PER_BULK = 500
MAX_DB_INT = 2_147_483_647


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        ],
        "nullable": True,
        "description": "Text, or OpenAI-style content parts (their `text` parts are kept).",
    }
)
class MessageContentField(serializers.Field):
    """A message's content: a string, null, or a list of OpenAI content parts."""

    def to_internal_value(self, data):
        if data is None:
            return ""
        if isinstance(data, list):
            texts = []
            for part in data:
                if not isinstance(part, dict):
                    raise serializers.ValidationError("content parts must be objects like {'type': 'text', ...}.")
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
            data = "\n".join(texts)
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string or a list of parts, got {type(data).__name__}.")
        problem = text_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        if len(data) > MAX_MESSAGE_CHARS:
            raise serializers.ValidationError(f"must be at most {MAX_MESSAGE_CHARS} characters.")
        return data

    def to_representation(self, value):
        return value


class MessageInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Message.Role.choices)
    content = MessageContentField(required=False, allow_null=True, default="")
    name = CleanTextField(required=False, allow_blank=True, max_length=200, default="")
    tool_calls = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True, max_length=100, default=None
    )
    tool_call_id = CleanTextField(required=False, allow_blank=True, allow_null=True, max_length=200, default="")
    created_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_tool_calls(self, value):
        return validate_storable_json(value)


class UsageSerializer(serializers.Serializer):
    prompt_tokens = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_DB_INT)
    completion_tokens = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_DB_INT)


class ExchangeInputSerializer(serializers.Serializer):
    entity_id = ExternalIdField(help_text="Who the memory is about (a customer, project, repo).")
    process_id = ExternalIdField(help_text="The agent that made the LLM call.")
    session_id = serializers.UUIDField(required=False, allow_null=True, help_text="Omitted: a new session.")
    messages = serializers.ListField(child=MessageInputSerializer(), min_length=1, max_length=MAX_MESSAGES_PER_EXCHANGE)
    model = CleanTextField(required=False, allow_blank=True, max_length=200, default="")
    usage = UsageSerializer(required=False, allow_null=True)
    latency_ms = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=1e12)
    idempotency_key = ExternalIdField(
        required=False, allow_null=True, max_length=100, help_text="Sent again, the exchange is not recorded twice."
    )
    recall_event_id = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)

    def to_exchange_input(self) -> ExchangeInput:
        return exchange_input_from(self.validated_data)


def exchange_input_from(data: dict) -> ExchangeInput:
    usage = data.get("usage") or {}
    return ExchangeInput(
        entity_id=data["entity_id"],
        process_id=data["process_id"],
        session_id=data.get("session_id"),
        messages=[
            MessageInput(
                role=message["role"],
                content=message.get("content") or "",
                name=message.get("name") or "",
                tool_calls=message.get("tool_calls"),
                tool_call_id=message.get("tool_call_id") or "",
                created_at=message.get("created_at"),
            )
            for message in data["messages"]
        ],
        model=data.get("model") or "",
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        latency_ms=data.get("latency_ms"),
        idempotency_key=data.get("idempotency_key") or None,
        recall_event_id=data.get("recall_event_id"),
        occurred_at=data.get("occurred_at"),
    )


class BulkExchangeInputSerializer(serializers.Serializer):
    exchanges = serializers.ListField(child=ExchangeInputSerializer(), min_length=1, max_length=MAX_EXCHANGES_PER_BULK)


class RecordedExchangeSerializer(serializers.Serializer):
    exchange_id = serializers.IntegerField(source="exchange.pk")
    job_id = serializers.IntegerField(source="job.pk")
    session_id = serializers.UUIDField(source="exchange.session.uuid")
    created = serializers.BooleanField(help_text="False when this idempotency_key was already recorded.")


class BulkRecordedSerializer(serializers.Serializer):
    results = RecordedExchangeSerializer(many=True)
