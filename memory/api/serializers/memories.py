"""Memories, attributes and triples: input for edits, output with provenance."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from memory.api.fields import EXTERNAL_ID_PATTERN, WORDS_TEXT_PATTERN, ExternalIdField, WordsTextField
from memory.models import Memory, MemoryKind, Provenance, Triple
from memory.services.editing import MAX_MEMORY_CHARS


class MentionSerializer(serializers.ModelSerializer):
    """One mention: which process said it, in which session, exchange and message, and when."""

    process_id = serializers.CharField(source="process.external_id")
    session_id = serializers.UUIDField(source="session.uuid", allow_null=True, default=None)

    class Meta:
        model = Provenance
        fields = ["process_id", "session_id", "exchange_id", "message_id", "job_id", "source", "mentioned_at"]


class ClaimSerializer(serializers.Serializer):
    subject = serializers.CharField()
    attribute = serializers.CharField(help_text='The relation, or "*" for a change of whatever holds.')
    value = serializers.CharField()
    value_type = serializers.CharField(help_text="date, money, number, name, place or other")


class MemorySerializer(serializers.ModelSerializer):
    entity_id = serializers.CharField(source="entity.external_id")
    process_id = serializers.CharField(
        source="owner_process.external_id", allow_null=True, default=None, help_text="Attributes only: their owner."
    )
    first_process_id = serializers.CharField(source="first_process.external_id", allow_null=True, default=None)
    valid_from = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was first said (its original time)."
    )
    valid_to = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When a later memory superseded it; null while it is current."
    )
    superseded_by = serializers.IntegerField(
        source="superseded_by_id", read_only=True, allow_null=True, help_text="The memory that replaced it."
    )
    is_current = serializers.BooleanField(read_only=True, help_text="Not superseded by a later memory.")
    claim = serializers.SerializerMethodField(help_text="The state claim it makes (what a later value supersedes).")

    class Meta:
        model = Memory
        fields = [
            "id",
            "entity_id",
            "kind",
            "content",
            "process_id",
            "first_process_id",
            "mention_count",
            "recall_count",
            "first_seen_at",
            "last_seen_at",
            "last_recalled_at",
            "is_contradicted",
            "valid_from",
            "valid_to",
            "superseded_by",
            "is_current",
            "claim",
        ]

    @extend_schema_field(ClaimSerializer(allow_null=True))
    def get_claim(self, memory: Memory) -> dict | None:
        if not memory.claim_subject:
            return None
        return {
            "subject": memory.claim_subject,
            "attribute": memory.claim_attribute,
            "value": memory.claim_value,
            "value_type": memory.claim_value_type,
        }


class MemoryDetailSerializer(MemorySerializer):
    mentions = MentionSerializer(many=True, read_only=True)

    class Meta(MemorySerializer.Meta):
        fields = [*MemorySerializer.Meta.fields, "mentions"]


class MemoryCreateSerializer(serializers.Serializer):
    entity_id = ExternalIdField()
    kind = serializers.ChoiceField(choices=MemoryKind.choices)
    content = WordsTextField(max_length=MAX_MEMORY_CHARS)
    process_id = ExternalIdField(
        required=False, allow_null=True, help_text="Required for attributes; otherwise credited as contributor."
    )

    def validate(self, attrs):
        if attrs["kind"] == MemoryKind.ATTRIBUTE and not attrs.get("process_id"):
            raise serializers.ValidationError({"process_id": ["attributes need the process they belong to."]})
        return attrs


def _memory_create_schema() -> dict:
    """What POST /memories/ takes, as the schema says it: a shared memory (the process optional) or
    an attribute (its process required). Inline, so its one-value enums are not named components."""
    external_id = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": EXTERNAL_ID_PATTERN}
    content = {"type": "string", "minLength": 1, "maxLength": MAX_MEMORY_CHARS, "pattern": WORDS_TEXT_PATTERN}

    def variant(kinds: list[str], process_id: dict, required: list[str]) -> dict:
        properties = {"entity_id": external_id, "kind": {"type": "string", "enum": kinds}, "content": content}
        return {"type": "object", "properties": {**properties, "process_id": process_id}, "required": required}

    shared = [kind for kind in MemoryKind.values if kind != MemoryKind.ATTRIBUTE]
    return {
        "oneOf": [
            variant(shared, {**external_id, "nullable": True}, ["entity_id", "kind", "content"]),
            variant([MemoryKind.ATTRIBUTE.value], external_id, ["entity_id", "kind", "content", "process_id"]),
        ]
    }


MEMORY_CREATE_SCHEMA = _memory_create_schema()


class AttributeCreateSerializer(serializers.Serializer):
    entity_id = ExternalIdField()
    process_id = ExternalIdField(help_text="The process this attribute belongs to (only it recalls it).")
    content = WordsTextField(max_length=MAX_MEMORY_CHARS)


class MemoryUpdateSerializer(serializers.Serializer):
    """What to change (content, kind, or both); nothing sent changes nothing."""

    content = WordsTextField(required=False, max_length=MAX_MEMORY_CHARS)
    kind = serializers.ChoiceField(choices=MemoryKind.choices, required=False)


class AttributeUpdateSerializer(serializers.Serializer):
    """An attribute's new content; nothing sent changes nothing (its kind stays an attribute)."""

    content = WordsTextField(required=False, max_length=MAX_MEMORY_CHARS)


class TripleSerializer(serializers.ModelSerializer):
    entity_id = serializers.CharField(source="entity.external_id")
    subject = serializers.CharField(source="subject.name")
    subject_type = serializers.CharField(source="subject.node_type")
    predicate = serializers.CharField(source="predicate.name")
    object = serializers.CharField(source="object.name")
    object_type = serializers.CharField(source="object.node_type")
    first_process_id = serializers.CharField(source="first_process.external_id", allow_null=True, default=None)

    class Meta:
        model = Triple
        fields = [
            "id",
            "entity_id",
            "subject",
            "subject_type",
            "predicate",
            "object",
            "object_type",
            "content",
            "first_process_id",
            "mention_count",
            "recall_count",
            "first_seen_at",
            "last_seen_at",
            "last_recalled_at",
            "is_contradicted",
        ]


class TripleDetailSerializer(TripleSerializer):
    mentions = MentionSerializer(many=True, read_only=True)

    class Meta(TripleSerializer.Meta):
        fields = [*TripleSerializer.Meta.fields, "mentions"]
