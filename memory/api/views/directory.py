"""Entities, processes, sessions and conversations (with their messages): list, retrieve, delete.

Deleting an entity forgets everything about it; all deletions are audited with the API key.
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, viewsets
from rest_framework.exceptions import NotFound

from memory import selectors
from memory.api.base import TenantMixin, is_db_id
from memory.api.filters import EntityFilter, EntityScopedFilter, ProcessFilter
from memory.api.serializers.directory import (
    ConversationSerializer,
    EntitySerializer,
    MessageSerializer,
    ProcessSerializer,
    SessionSerializer,
)
from memory.models import Conversation, Entity, Message, Process, Session
from memory.services.forgetting import conversation_delete, entity_forget, process_delete, session_delete
from memory.services.identity import InvalidIdentifier, validate_external_id


def _external_id_or_404(value: str, label: str) -> str:
    try:
        return validate_external_id(value, label=label)
    except InvalidIdentifier:
        raise NotFound(f"No {label} {value[:50]!r}.")


class EntityListView(TenantMixin, generics.ListAPIView):
    queryset = Entity.objects.none()
    serializer_class = EntitySerializer
    filterset_class = EntityFilter

    @extend_schema(operation_id="entities_list", summary="List entities with counts of what is stored")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.entity_list_with_counts(tenant=self.tenant).order_by("external_id")


class EntityDetailView(TenantMixin, generics.RetrieveDestroyAPIView):
    serializer_class = EntitySerializer
    filter_backends = []

    @extend_schema(operation_id="entities_retrieve", summary="An entity with counts of what is stored")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="entities_forget",
        summary="Forget an entity: delete all of its memories, graph, conversations and recalls",
        responses={204: None},
    )
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def get_object(self):
        external_id = _external_id_or_404(self.kwargs["external_id"], "entity")
        entity = selectors.entity_list_with_counts(tenant=self.tenant).filter(external_id=external_id).first()
        if entity is None:
            raise NotFound(f"No entity {external_id!r}.")
        return entity

    def perform_destroy(self, instance):
        entity_forget(entity=instance, actor=self.actor)


class ProcessListView(TenantMixin, generics.ListAPIView):
    queryset = Process.objects.none()
    serializer_class = ProcessSerializer
    filterset_class = ProcessFilter

    @extend_schema(operation_id="processes_list", summary="List processes (agents)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.process_list(tenant=self.tenant).order_by("external_id")


class ProcessDetailView(TenantMixin, generics.RetrieveDestroyAPIView):
    serializer_class = ProcessSerializer
    filter_backends = []

    @extend_schema(operation_id="processes_retrieve", summary="A process")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="processes_delete",
        summary="Delete a process with its attributes, sessions and conversations",
        responses={204: None},
    )
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def get_object(self):
        external_id = _external_id_or_404(self.kwargs["external_id"], "process")
        process = selectors.process_get(tenant=self.tenant, external_id=external_id)
        if process is None:
            raise NotFound(f"No process {external_id!r}.")
        return process

    def perform_destroy(self, instance):
        process_delete(process=instance, actor=self.actor)


@extend_schema_view(
    list=extend_schema(summary="List sessions"),
    retrieve=extend_schema(
        summary="A session (narrow with entity_id/process_id if a UUID is reused)",
        parameters=[OpenApiParameter("entity_id", str), OpenApiParameter("process_id", str)],
    ),
    destroy=extend_schema(summary="Delete a session and its conversation", responses={204: None}),
)
class SessionViewSet(
    TenantMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    queryset = Session.objects.none()
    serializer_class = SessionSerializer
    filterset_class = EntityScopedFilter
    lookup_field = "uuid"
    lookup_url_kwarg = "session_id"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        return selectors.session_list(tenant=self.tenant)

    def get_object(self):
        try:
            session_uuid = uuid.UUID(self.kwargs["session_id"])
        except ValueError:
            raise NotFound("No such session.")
        session = self.filter_queryset(self.get_queryset()).filter(uuid=session_uuid).first()
        if session is None:
            raise NotFound("No such session.")
        return session

    def perform_destroy(self, instance):
        session_delete(session=instance, actor=self.actor)


@extend_schema_view(
    list=extend_schema(summary="List conversations (one per session)"),
    retrieve=extend_schema(summary="A conversation"),
    destroy=extend_schema(summary="Delete a conversation and its messages", responses={204: None}),
)
class ConversationViewSet(
    TenantMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    queryset = Conversation.objects.none()
    serializer_class = ConversationSerializer
    filterset_class = EntityScopedFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return selectors.conversation_list(tenant=self.tenant)

    def get_object(self):
        if not is_db_id(int(self.kwargs["pk"])):
            raise NotFound("Not found.")
        return super().get_object()

    def perform_destroy(self, instance):
        conversation_delete(conversation=instance, actor=self.actor)


class ConversationMessagesView(TenantMixin, generics.ListAPIView):
    queryset = Message.objects.none()
    serializer_class = MessageSerializer
    filter_backends = []

    @extend_schema(operation_id="conversations_messages", summary="The messages of a conversation, in order")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        conversation_id = int(self.kwargs["pk"])
        conversation = (
            selectors.conversation_list(tenant=self.tenant).filter(pk=conversation_id).first()
            if is_db_id(conversation_id)
            else None
        )
        if conversation is None:
            raise NotFound(f"No conversation {conversation_id}.")
        return selectors.conversation_messages(conversation=conversation)
