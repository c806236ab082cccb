"""Base classes every API view uses: strict JSON, the documented errors, the tenant of the key."""

from __future__ import annotations

from rest_framework import views

from memory.api.parsers import StrictJSONParser
from memory.api.schema import MemoriAutoSchema
from memory.services.audit import Actor


class TenantMixin:
    parser_classes = [StrictJSONParser]
    schema = MemoriAutoSchema()

    @property
    def tenant(self):
        return self.request.user.tenant

    @property
    def actor(self) -> Actor:
        return Actor.from_api_key(self.request.user.api_key)


class TenantAPIView(TenantMixin, views.APIView):
    pass


MAX_DB_ID = 2**63 - 1


def is_db_id(value: int) -> bool:
    """Ids in URLs are matched by digits only; anything past a 64-bit key cannot exist (404)."""
    return 0 < value <= MAX_DB_ID
