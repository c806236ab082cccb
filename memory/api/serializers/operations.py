"""Input and output of recall and of augmentation job status."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from memory.api.fields import (
    CleanTextField,
    ExternalIdField,
    StrictBooleanField,
    StrictFloatField,
    StrictIntegerField,
)
from memory.models import AugmentationJob
from memory.services.jobs_status import MAX_WAIT_SECONDS

MAX_QUERY_CHARS = 20_000
MAX_JOB_IDS = 500


class RecallInputSerializer(serializers.Serializer):
    entity_id = ExternalIdField()
    process_id = ExternalIdField()
    query = CleanTextField(allow_blank=True, max_length=MAX_QUERY_CHARS, trim_whitespace=False)
    session_id = serializers.UUIDField(required=False, allow_null=True)
    limit = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=200)
    token_budget = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=100_000)
    include_pending = StrictBooleanField(required=False, default=True)
    handoff_share = StrictFloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=1.0,
        help_text="Share of the token budget other agents' recent work takes first (default: the server's setting).",
    )
    episodes = StrictBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Recall past exchanges as they were said (episodes) beside memories (default: the server's setting).",
    )

    def to_recall_request(self, tenant):
        """The validated input as the recall service's request (the API and the SDK's direct mode)."""
        from memory.services.recall import RecallRequest

        data = self.validated_data
        return RecallRequest(
            tenant=tenant,
            entity_id=data["entity_id"],
            process_id=data["process_id"],
            query=data["query"],
            session_id=str(data["session_id"]) if data.get("session_id") else None,
            limit=data.get("limit"),
            token_budget=data.get("token_budget"),
            include_pending=data["include_pending"],
            handoff_share=data.get("handoff_share"),
            episodes=data.get("episodes"),
        )


class RecalledItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    content = serializers.CharField()
    score = serializers.FloatField()
    dense_score = serializers.FloatField(allow_null=True)
    lexical_score = serializers.FloatField(allow_null=True)
    memory_id = serializers.IntegerField(allow_null=True)
    triple_id = serializers.IntegerField(allow_null=True)
    episode_id = serializers.IntegerField(
        allow_null=True, help_text="For kind 'episode': a past exchange as it was said, recalled whole."
    )
    processes = serializers.ListField(child=serializers.CharField())
    via = serializers.CharField(
        allow_null=True,
        help_text="Why the item joined without matching the query: 'co-mentioned with memory N' (extracted with a "
        "stronger match) or 'handoff from <process>' (another agent's work of the last minutes).",
    )


class PendingExchangeSerializer(serializers.Serializer):
    exchange_id = serializers.IntegerField()
    process_id = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField()


class HistoryMessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField(allow_blank=True)


class RecallOutputSerializer(serializers.Serializer):
    event_id = serializers.IntegerField(allow_null=True)
    items = RecalledItemSerializer(many=True)
    pending = PendingExchangeSerializer(many=True)
    history = HistoryMessageSerializer(many=True)
    block = serializers.CharField(allow_blank=True, help_text="The text to inject, with its delimiters.")
    token_count = serializers.IntegerField()
    latency_ms = serializers.FloatField()
    pending_job_ids = serializers.ListField(child=serializers.IntegerField())


# Positive ids (at most 18 digits: below 2**63) separated by commas; the schema declares the same pattern.
JOB_IDS_PATTERN = r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17})*$"
# The whole URL must fit a request line (gunicorn's limit is 4094 bytes): 500 ids of up to 6 digits.
MAX_JOB_IDS_CHARS = 3500


@extend_schema_field({"type": "string", "pattern": JOB_IDS_PATTERN, "maxLength": MAX_JOB_IDS_CHARS})
class JobIdsField(serializers.CharField):
    """A comma-separated list of job ids: "1,2,3"."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, max_length=MAX_JOB_IDS_CHARS, **kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not re.search(JOB_IDS_PATTERN, text):
            raise serializers.ValidationError("must be positive integers separated by commas, e.g. ids=12,13.")
        parts = text.split(",")
        if len(parts) > MAX_JOB_IDS:
            raise serializers.ValidationError(f"at most {MAX_JOB_IDS} ids per request.")
        return [int(part) for part in parts]


class JobsQuerySerializer(serializers.Serializer):
    ids = JobIdsField(help_text="Comma-separated job ids, e.g. 12,13,14.")
    wait = serializers.FloatField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        help_text="Hold the request up to this many seconds until every job is finished.",
    )


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = AugmentationJob
        fields = ["id", "status", "attempts", "error", "queued_at", "started_at", "finished_at"]


class JobsStatusSerializer(serializers.Serializer):
    jobs = JobSerializer(many=True)
    pending = serializers.IntegerField(help_text="How many of the jobs are not finished (done or failed).")
