"""Entities, processes, sessions, conversations and their messages as the API shows them."""

from __future__ import annotations

from rest_framework import serializers

from memory.models import Conversation, Entity, Message, Process, Session


class EntitySerializer(serializers.ModelSerializer):
    entity_id = serializers.CharField(source="external_id")
    memory_count = serializers.IntegerField()
    triple_count = serializers.IntegerField()
    session_count = serializers.IntegerField()
    exchange_count = serializers.IntegerField()

    class Meta:
        model = Entity
        fields = [
            "entity_id",
            "created_at",
            "last_activity_at",
            "memory_count",
            "triple_count",
            "session_count",
            "exchange_count",
        ]


class ProcessSerializer(serializers.ModelSerializer):
    process_id = serializers.CharField(source="external_id")
    attribute_count = serializers.IntegerField()
    session_count = serializers.IntegerField()
    exchange_count = serializers.IntegerField()

    class Meta:
        model = Process
        fields = ["process_id", "created_at", "attribute_count", "session_count", "exchange_count"]


class SessionSerializer(serializers.ModelSerializer):
    session_id = serializers.UUIDField(source="uuid")
    entity_id = serializers.CharField(source="entity.external_id")
    process_id = serializers.CharField(source="process.external_id")
    conversation_id = serializers.IntegerField(source="conversation_pk", allow_null=True)
    message_count = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Session
        fields = [
            "session_id",
            "entity_id",
            "process_id",
            "started_at",
            "last_activity_at",
            "conversation_id",
            "message_count",
        ]


class ConversationSerializer(serializers.ModelSerializer):
    entity_id = serializers.CharField(source="entity.external_id")
    process_id = serializers.CharField(source="process.external_id")
    session_id = serializers.UUIDField(source="session.uuid")

    class Meta:
        model = Conversation
        fields = ["id", "entity_id", "process_id", "session_id", "started_at", "last_message_at", "message_count"]


class MessageSerializer(serializers.ModelSerializer):
    tool_calls = serializers.JSONField(allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "exchange_id",
            "position",
            "role",
            "content",
            "name",
            "tool_calls",
            "tool_call_id",
            "created_at",
        ]
