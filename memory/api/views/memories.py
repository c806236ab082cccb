"""Memories (facts, preferences, skills, attributes) and triples: list, retrieve, edit, delete.

Every edit goes through memory.services.editing, so it is validated, re-embedded and audited with
the API key that made it.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from memory import selectors
from memory.api import handlers
from memory.api.base import TenantMixin, is_db_id
from memory.api.errors import Conflict
from memory.api.filters import MemoryFilter, TripleFilter
from memory.api.serializers.memories import (
    MEMORY_CREATE_SCHEMA,
    AttributeCreateSerializer,
    AttributeUpdateSerializer,
    MemoryDetailSerializer,
    MemorySerializer,
    MemoryUpdateSerializer,
    TripleDetailSerializer,
    TripleSerializer,
)
from memory.models import Memory, MemoryKind, Triple
from memory.services.editing import (
    InvalidMemoryEdit,
    MemoryEditConflict,
    memory_delete,
    memory_update,
    triple_delete,
)
from memory.services.supersession_undo import NotSuperseded, memory_restore


class ByIdMixin(TenantMixin):
    lookup_value_regex = r"[0-9]+"

    def get_object(self):
        if not is_db_id(int(self.kwargs["pk"])):
            raise NotFound("Not found.")
        return super().get_object()


def _invalid(exc: Exception) -> ValidationError:
    return ValidationError({"non_field_errors": [str(exc)]})


@extend_schema_view(
    list=extend_schema(summary="List memories (filter by entity, kind, contributing process, text, dates)"),
    retrieve=extend_schema(summary="A memory with its provenance", responses=MemoryDetailSerializer),
    create=extend_schema(
        summary="Remember something (mem.remember); the same content again returns the existing memory",
        request={"application/json": MEMORY_CREATE_SCHEMA},
        responses={201: MemoryDetailSerializer, 200: OpenApiResponse(MemoryDetailSerializer, "Already known.")},
    ),
    partial_update=extend_schema(
        summary="Change a memory's content or kind (audited)",
        request=MemoryUpdateSerializer,
        responses=MemoryDetailSerializer,
    ),
    destroy=extend_schema(summary="Delete a memory (audited)", responses={204: None}),
    restore=extend_schema(
        summary="Undo a supersession: the memory is current again (audited)",
        request=None,
        responses=MemoryDetailSerializer,
    ),
)
class MemoryViewSet(
    ByIdMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Memory.objects.none()
    serializer_class = MemorySerializer
    filterset_class = MemoryFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    update_serializer_class = MemoryUpdateSerializer

    def get_queryset(self):
        if self.action == "list":
            queryset = selectors.memory_list(tenant=self.tenant)
        else:
            queryset = selectors.memory_detail_list(tenant=self.tenant)
        return queryset.order_by("-last_seen_at", "-pk")

    def get_serializer_class(self):
        return MemorySerializer if self.action == "list" else MemoryDetailSerializer

    def remember(self, payload) -> handlers.Written:
        return handlers.memory_remember(tenant=self.tenant, payload=payload, actor=self.actor)

    def create(self, request):
        written = self.remember(request.data)
        return Response(written.body, status=status.HTTP_201_CREATED if written.created else status.HTTP_200_OK)

    def partial_update(self, request, pk=None):
        memory = self.get_object()
        serializer = self.update_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            try:
                memory_update(memory=memory, actor=self.actor, **serializer.validated_data)
            except MemoryEditConflict as exc:
                raise Conflict(str(exc))
            except InvalidMemoryEdit as exc:
                raise _invalid(exc)
        return Response(MemoryDetailSerializer(self.get_queryset().get(pk=memory.pk)).data)

    def perform_destroy(self, instance):
        memory_delete(memory=instance, actor=self.actor)

    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        memory = self.get_object()
        try:
            memory_restore(memory=memory, actor=self.actor)
        except NotSuperseded as exc:
            raise Conflict(str(exc))  # a valid request the memory's state refuses
        return Response(MemoryDetailSerializer(self.get_queryset().get(pk=memory.pk)).data)


@extend_schema_view(
    list=extend_schema(summary="List attributes (per-process memories)"),
    retrieve=extend_schema(summary="An attribute with its provenance", responses=MemoryDetailSerializer),
    create=extend_schema(
        summary="Add an attribute to a process",
        request=AttributeCreateSerializer,
        responses={201: MemoryDetailSerializer, 200: OpenApiResponse(MemoryDetailSerializer, "Already known.")},
    ),
    partial_update=extend_schema(
        summary="Change an attribute's content (audited)",
        request=AttributeUpdateSerializer,
        responses=MemoryDetailSerializer,
    ),
    destroy=extend_schema(summary="Delete an attribute (audited)", responses={204: None}),
)
class AttributeViewSet(MemoryViewSet):
    update_serializer_class = AttributeUpdateSerializer

    def get_queryset(self):
        return super().get_queryset().filter(kind=MemoryKind.ATTRIBUTE)

    def remember(self, payload) -> handlers.Written:
        return handlers.attribute_remember(tenant=self.tenant, payload=payload, actor=self.actor)


@extend_schema_view(
    list=extend_schema(summary="List knowledge-graph triples"),
    retrieve=extend_schema(summary="A triple with its provenance", responses=TripleDetailSerializer),
    destroy=extend_schema(summary="Delete a triple (audited)", responses={204: None}),
)
class TripleViewSet(
    ByIdMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Triple.objects.none()
    filterset_class = TripleFilter

    def get_queryset(self):
        if self.action == "list":
            queryset = selectors.triple_list(tenant=self.tenant).select_related("first_process")
        else:
            queryset = selectors.triple_detail_list(tenant=self.tenant)
        return queryset.order_by("-last_seen_at", "-pk")

    def get_serializer_class(self):
        return TripleSerializer if self.action == "list" else TripleDetailSerializer

    def perform_destroy(self, instance):
        triple_delete(triple=instance, actor=self.actor)
