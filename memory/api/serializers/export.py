"""The entity export document: the output of export and the input of import (one schema)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from memory.api.fields import (
    CleanTextField,
    ExternalIdField,
    StorableJSONField,
    StrictBooleanField,
    StrictFloatField,
    StrictIntegerField,
    validate_storable_json,
)
from memory.extraction.episodes import MAX_EPISODE_CHARS
from memory.models import AugmentationJob, Contradiction, MemoryKind, Message
from memory.services.editing import MAX_MEMORY_CHARS
from memory.services.export import EXPORT_FORMAT, EXPORT_VERSION
from memory.services.recording import MAX_MESSAGE_CHARS

MAX_ROWS = 100_000
# Not empty: "" is the other form of a field that may be blank.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$"
REF = {"min_value": 1, "max_value": 2**63 - 1}
COUNT = {"min_value": 0, "max_value": 2_147_483_647}


def _ref(**kwargs):
    return StrictIntegerField(**REF, **kwargs)


class MentionDocSerializer(serializers.Serializer):
    process_id = ExternalIdField()
    session_id = serializers.UUIDField(allow_null=True)
    exchange_ref = _ref(allow_null=True)
    message_ref = _ref(allow_null=True)
    job_exchange_ref = _ref(allow_null=True)
    source = CleanTextField(max_length=20)
    mentioned_at = serializers.DateTimeField()


class StatsDocSerializer(serializers.Serializer):
    ref = _ref()
    content = CleanTextField(max_length=MAX_MEMORY_CHARS)
    first_process_id = ExternalIdField(allow_null=True)
    mention_count = StrictIntegerField(**COUNT)
    recall_count = StrictIntegerField(**COUNT)
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    last_recalled_at = serializers.DateTimeField(allow_null=True)
    is_contradicted = StrictBooleanField()
    embedding = serializers.CharField(
        allow_null=True,
        allow_blank=True,  # none, like null
        help_text="float32 vector, base64",
        max_length=1_000_000,
        validators=[RegexValidator(BASE64_PATTERN, message="must be base64.")],
    )
    embedding_model = CleanTextField(allow_blank=True, max_length=100)
    mentions = serializers.ListField(child=MentionDocSerializer(), max_length=MAX_ROWS)


class ClaimDocSerializer(serializers.Serializer):
    subject = CleanTextField(max_length=200)
    attribute = CleanTextField(max_length=100)
    value = CleanTextField(max_length=300)
    value_type = CleanTextField(max_length=20)


class MemoryDocSerializer(StatsDocSerializer):
    kind = serializers.ChoiceField(choices=MemoryKind.choices)
    process_id = ExternalIdField(allow_null=True, help_text="Attributes only: the owning process.")
    # Validity (absent from older exports: valid from first_seen_at, current, no claim).
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_to = serializers.DateTimeField(required=False, allow_null=True)
    superseded_by_ref = _ref(required=False, allow_null=True)
    claim = ClaimDocSerializer(required=False, allow_null=True)


class TripleDocSerializer(StatsDocSerializer):
    subject = CleanTextField(max_length=300)
    subject_type = CleanTextField(max_length=50)
    predicate = CleanTextField(max_length=100)
    object = CleanTextField(max_length=300)
    object_type = CleanTextField(max_length=50)


class MessageDocSerializer(serializers.Serializer):
    ref = _ref()
    position = StrictIntegerField(**COUNT)
    role = serializers.ChoiceField(choices=Message.Role.choices)
    content = CleanTextField(allow_blank=True, max_length=MAX_MESSAGE_CHARS, trim_whitespace=False)
    name = CleanTextField(allow_blank=True, max_length=200)
    tool_calls = StorableJSONField(allow_null=True)
    tool_call_id = CleanTextField(allow_blank=True, max_length=200)
    created_at = serializers.DateTimeField()


class JobDocSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AugmentationJob.Status.choices)
    attempts = StrictIntegerField(**COUNT)
    error = CleanTextField(allow_blank=True, trim_whitespace=False, max_length=100_000)
    extractor = CleanTextField(allow_blank=True, max_length=100)
    result = serializers.DictField()
    queued_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def validate_result(self, value):
        return validate_storable_json(value)


class EpisodeDocSerializer(serializers.Serializer):
    content = CleanTextField(max_length=MAX_EPISODE_CHARS * 2)
    occurred_at = serializers.DateTimeField()
    embedding = serializers.CharField(
        allow_null=True,
        allow_blank=True,  # none, like null
        help_text="float32 vector, base64",
        max_length=1_000_000,
        validators=[RegexValidator(BASE64_PATTERN, message="must be base64.")],
    )
    embedding_model = CleanTextField(allow_blank=True, max_length=100)


class ExchangeDocSerializer(serializers.Serializer):
    ref = _ref()
    idempotency_key = ExternalIdField(allow_null=True, max_length=100)
    model = CleanTextField(allow_blank=True, max_length=200)
    prompt_tokens = StrictIntegerField(allow_null=True, **COUNT)
    completion_tokens = StrictIntegerField(allow_null=True, **COUNT)
    latency_ms = StrictFloatField(allow_null=True, min_value=0, max_value=1e12)
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    job = JobDocSerializer(allow_null=True)
    messages = serializers.ListField(child=MessageDocSerializer(), max_length=MAX_ROWS)
    # Absent from older exports, and null for an exchange with nothing shareable or not augmented yet.
    episode = EpisodeDocSerializer(required=False, allow_null=True)


class ConversationDocSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField()
    exchanges = serializers.ListField(child=ExchangeDocSerializer(), max_length=MAX_ROWS)


class SessionDocSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    process_id = ExternalIdField()
    started_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    conversation = ConversationDocSerializer(allow_null=True)


class ContradictionDocSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Contradiction.Reason.choices)
    memory_a_ref = _ref(allow_null=True)
    memory_b_ref = _ref(allow_null=True)
    triple_a_ref = _ref(allow_null=True)
    triple_b_ref = _ref(allow_null=True)
    detected_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_note = CleanTextField(allow_blank=True, trim_whitespace=False, max_length=100_000)


class EntityDocSerializer(serializers.Serializer):
    entity_id = ExternalIdField()
    created_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()


class EntityExportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=[EXPORT_FORMAT])
    version = serializers.ChoiceField(choices=[EXPORT_VERSION])
    exported_at = serializers.DateTimeField()
    entity = EntityDocSerializer()
    sessions = serializers.ListField(child=SessionDocSerializer(), max_length=MAX_ROWS)
    memories = serializers.ListField(child=MemoryDocSerializer(), max_length=MAX_ROWS)
    triples = serializers.ListField(child=TripleDocSerializer(), max_length=MAX_ROWS)
    contradictions = serializers.ListField(child=ContradictionDocSerializer(), max_length=MAX_ROWS)
