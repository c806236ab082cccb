"""Episodes in the admin: read-only (they are rebuilt from their exchange by augmentation and
``manage.py reextract``; to change what recall serves, edit or delete the exchange's memories)."""

from __future__ import annotations

from django.contrib import admin

from memory.admin_tenancy import TenantScopedAdmin
from memory.models import Episode


@admin.register(Episode)
class EpisodeAdmin(TenantScopedAdmin):
    list_display = ("id", "entity", "process", "short_content", "occurred_at")
    list_filter = ("entity__tenant", "process", "occurred_at")
    search_fields = ("content", "entity__external_id", "process__external_id")
    list_select_related = ("entity", "process")
    raw_id_fields = ("entity", "process", "session", "exchange")
    readonly_fields = ("entity", "process", "session", "exchange", "content", "occurred_at", "embedding_model")
    exclude = ("embedding",)

    @admin.display(description="content")
    def short_content(self, obj: Episode) -> str:
        return obj.content[:100]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
