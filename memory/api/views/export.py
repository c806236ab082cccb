"""Export of one entity's whole memory as JSON, and import of such a file."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from memory import selectors
from memory.api.base import TenantAPIView
from memory.api.errors import Conflict
from memory.api.schema import ErrorSerializer
from memory.api.serializers.directory import EntitySerializer
from memory.api.serializers.export import EntityExportSerializer
from memory.api.views.directory import _external_id_or_404
from memory.services.entity_import import EntityAlreadyExists, InvalidImport, entity_import
from memory.services.export import entity_export


class EntityExportView(TenantAPIView):
    @extend_schema(
        operation_id="entities_export",
        summary="Export an entity's whole memory (memories, triples, provenance, conversations) as JSON",
        responses={200: EntityExportSerializer},
    )
    def get(self, request, external_id: str):
        external_id = _external_id_or_404(external_id, "entity")
        entity = selectors.entity_get(tenant=self.tenant, external_id=external_id)
        if entity is None:
            raise NotFound(f"No entity {external_id!r}.")
        document = EntityExportSerializer(entity_export(entity=entity)).data
        filename = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in external_id)[:100]
        headers = {"Content-Disposition": f'attachment; filename="memori-{filename}.json"'}
        return Response(document, headers=headers)


class EntityImportView(TenantAPIView):
    @extend_schema(
        operation_id="entities_import",
        summary="Import an entity export file (the entity must not exist yet)",
        request=EntityExportSerializer,
        responses={201: EntitySerializer, 409: ErrorSerializer},
    )
    def post(self, request):
        serializer = EntityExportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            entity = entity_import(tenant=self.tenant, document=serializer.validated_data)
        except EntityAlreadyExists as exc:
            raise Conflict(str(exc))
        except InvalidImport as exc:
            raise ValidationError({"non_field_errors": [str(exc)]})
        entity = selectors.entity_list_with_counts(tenant=self.tenant).get(pk=entity.pk)
        return Response(EntitySerializer(entity).data, status=status.HTTP_201_CREATED)
