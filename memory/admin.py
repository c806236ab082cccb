"""The operators' admin: every model, searchable and filterable, inside the user's tenants
(memory/admin_tenancy.py); memory edits go through the audited editing services
(memory/admin_knowledge.py), each audited object's page shows its audit trail (memory/admin_audit.py);
API keys are created here with the raw key shown once."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

# The admins kept apart by job register themselves when imported.
from memory import admin_audit, admin_episodes, admin_knowledge  # noqa: F401
from memory.admin_audit import AuditTrailMixin
from memory.admin_pages import ReadOnlyInline, ViewOnlyAdmin
from memory.admin_tenancy import TenantScopedAdmin
from memory.models import (
    ApiKey,
    AugmentationJob,
    Contradiction,
    Conversation,
    Entity,
    Exchange,
    HourlyExchanges,
    Message,
    Process,
    Provenance,
    RecallEvent,
    RecallHit,
    Session,
    Tenant,
)
from memory.services.api_keys import api_keys_revoke
from memory.services.audit import Actor
from memory.services.contradiction_resolving import InvalidResolution, ResolutionAction, contradiction_resolve
from memory.services.forgetting import conversation_delete, exchange_delete, session_delete
from memory.services.publishing import jobs_retry


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    filter_horizontal = ("members",)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser  # a member could not see a tenant they created


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    list_display = ("name", "tenant", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("tenant", "scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "tenant__name")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if not change:
            raw_key = obj.assign_new_secret()
            messages.warning(request, f"New API key for {obj.tenant}: {raw_key} (shown once: copy it now).")
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset) -> None:
        count = api_keys_revoke(keys=queryset)
        self.message_user(request, f"Revoked {count} key(s).")


@admin.register(Entity)
class EntityAdmin(AuditTrailMixin, TenantScopedAdmin):
    list_display = ("external_id", "tenant", "created_at", "last_activity_at")
    list_filter = ("tenant", "created_at")
    search_fields = ("external_id",)
    readonly_fields = ("memory_version", "memory_changes")

    @admin.display(description="changes to its memory")
    def memory_changes(self, obj: Entity) -> str:
        url = reverse("admin:memory_auditentry_changelist") + f"?entity__id__exact={obj.pk}"
        return format_html("<a href='{}'>Audit entries of this entity's memories, triples and contradictions</a>", url)


@admin.register(Process)
class ProcessAdmin(AuditTrailMixin, TenantScopedAdmin):
    list_display = ("external_id", "tenant", "created_at")
    list_filter = ("tenant",)
    search_fields = ("external_id",)


class ForgottenThroughService:
    """Deletes go through the forgetting service (``forget``), as on the dashboard: audited, episodes
    dropped from recall, and the hourly counts follow."""

    def forget(self, obj, actor: Actor) -> None:
        raise NotImplementedError

    def delete_model(self, request, obj) -> None:
        self.forget(obj, Actor.from_user(request.user))

    def delete_queryset(self, request, queryset) -> None:
        actor = Actor.from_user(request.user)
        for obj in queryset.select_related("entity"):
            self.forget(obj, actor)


@admin.register(Session)
class SessionAdmin(ForgottenThroughService, AuditTrailMixin, TenantScopedAdmin):
    list_display = ("uuid", "entity", "process", "started_at", "last_activity_at")
    list_filter = ("entity__tenant", "process", "started_at")
    search_fields = ("uuid", "entity__external_id", "process__external_id")
    list_select_related = ("entity", "process")
    raw_id_fields = ("entity", "process")

    def forget(self, obj: Session, actor: Actor) -> None:
        session_delete(session=obj, actor=actor)


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("position", "role", "content", "created_at")


@admin.register(Conversation)
class ConversationAdmin(ForgottenThroughService, AuditTrailMixin, TenantScopedAdmin):
    list_display = ("id", "entity", "process", "session", "message_count", "last_message_at")
    list_filter = ("entity__tenant", "process", "last_message_at")
    search_fields = ("entity__external_id", "process__external_id", "session__uuid")
    list_select_related = ("entity", "process", "session")
    raw_id_fields = ("entity", "process", "session")
    inlines = [MessageInline]

    def forget(self, obj: Conversation, actor: Actor) -> None:
        conversation_delete(conversation=obj, actor=actor)


@admin.register(Exchange)
class ExchangeAdmin(ForgottenThroughService, TenantScopedAdmin):
    """A record of what was said: read only (its provenance, episodes and counts hang on it);
    deleting it goes through the forgetting service (audited, counts kept)."""

    list_display = ("id", "entity", "process", "model", "latency_ms", "occurred_at")
    list_filter = ("entity__tenant", "process", "occurred_at")
    search_fields = ("entity__external_id", "process__external_id", "idempotency_key")
    list_select_related = ("entity", "process")
    raw_id_fields = ("conversation", "entity", "process", "session", "recall_event")
    inlines = [MessageInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def forget(self, obj: Exchange, actor: Actor) -> None:
        exchange_delete(exchange=obj, actor=actor)


@admin.register(Message)
class MessageAdmin(TenantScopedAdmin):
    list_display = ("id", "role", "short_content", "conversation", "position", "created_at")
    list_filter = ("role", "conversation__entity__tenant", "created_at")
    search_fields = ("content",)
    raw_id_fields = ("conversation", "exchange")
    list_select_related = ("conversation__entity", "conversation__process", "conversation__session")

    @admin.display(description="content")
    def short_content(self, obj: Message) -> str:
        return obj.content[:100]


@admin.register(Provenance)
class ProvenanceAdmin(TenantScopedAdmin):
    list_display = ("id", "memory", "triple", "process", "source", "mentioned_at")
    list_filter = ("entity__tenant", "process", "source", "mentioned_at")
    list_select_related = ("memory", "triple", "process")
    raw_id_fields = ("entity", "memory", "triple", "process", "session", "exchange", "message", "job")


@admin.register(Contradiction)
class ContradictionAdmin(AuditTrailMixin, TenantScopedAdmin):
    list_display = ("id", "entity", "reason", "memory_a", "memory_b", "triple_a", "triple_b", "resolved_at")
    list_filter = ("reason", "entity__tenant", ("resolved_at", admin.EmptyFieldListFilter))
    list_select_related = ("entity", "memory_a", "memory_b", "triple_a", "triple_b")
    raw_id_fields = ("entity", "memory_a", "memory_b", "triple_a", "triple_b")
    actions = ["resolve_keeping_both"]

    @admin.action(description="Resolve selected: keep both sides (not a conflict)")
    def resolve_keeping_both(self, request, queryset) -> None:
        """Through the resolving service, as the dashboard's Contradictions page: each one is marked
        resolved with an audit entry and its sides are unflagged. Deleting or correcting a side needs
        one side chosen per contradiction: that is the page's job (or the memory's own admin)."""
        actor, resolved, refused = Actor.from_user(request.user), 0, []
        for contradiction in queryset.select_related("memory_a", "memory_b", "triple_a", "triple_b"):
            try:
                contradiction_resolve(contradiction=contradiction, actor=actor, action=ResolutionAction.KEEP_BOTH)
                resolved += 1
            except InvalidResolution as error:
                refused.append(f"#{contradiction.pk}: {error}")
        self.message_user(request, f"Resolved {resolved} contradiction(s), keeping both sides.")
        if refused:
            self.message_user(request, "Not resolved: " + "; ".join(refused), level=messages.WARNING)


@admin.register(AugmentationJob)
class AugmentationJobAdmin(TenantScopedAdmin):
    list_display = ("id", "entity", "process", "status", "attempts", "queued_at", "finished_at", "short_error")
    list_filter = ("status", "entity__tenant", "process", "queued_at")
    search_fields = ("entity__external_id", "error")
    list_select_related = ("entity", "process")
    raw_id_fields = ("exchange", "entity", "process")
    readonly_fields = ("result", "queued_at", "published_at", "started_at", "finished_at")
    actions = ["retry"]

    @admin.display(description="error")
    def short_error(self, obj: AugmentationJob) -> str:
        return obj.error[:80]

    @admin.action(description="Retry selected jobs")
    def retry(self, request, queryset) -> None:
        count = jobs_retry(queryset.values_list("pk", flat=True))
        self.message_user(request, f"Queued {count} job(s) again.")


class RecallHitInline(ReadOnlyInline):
    model = RecallHit
    fields = ("rank", "kind", "content", "dense_score", "lexical_score", "fused_score", "via", "contributing_processes")
    show_change_link = False


@admin.register(RecallEvent)
class RecallEventAdmin(TenantScopedAdmin):
    list_display = ("id", "entity", "process", "short_query", "token_count", "latency_ms", "created_at")
    list_filter = ("entity__tenant", "process", "pending_context_served", "created_at")
    search_fields = ("query", "entity__external_id")
    list_select_related = ("entity", "process")
    raw_id_fields = ("entity", "process", "session")
    inlines = [RecallHitInline]

    @admin.display(description="query")
    def short_query(self, obj: RecallEvent) -> str:
        return obj.query[:80]


@admin.register(RecallHit)
class RecallHitAdmin(TenantScopedAdmin):
    list_display = ("event", "rank", "kind", "short_content", "fused_score", "via")
    list_filter = ("kind", "event__entity__tenant")
    list_select_related = ("event",)
    raw_id_fields = ("event", "memory", "triple")

    @admin.display(description="content")
    def short_content(self, obj: RecallHit) -> str:
        return obj.content[:100]


@admin.register(HourlyExchanges)
class HourlyExchangesAdmin(ViewOnlyAdmin, TenantScopedAdmin):
    """Read only: the counts follow the exchanges (memory/services/activity_counts.py)."""

    list_display = ("hour", "entity", "process", "exchanges")
    list_filter = ("entity__tenant", "hour")
    list_select_related = ("entity", "process")
    date_hierarchy = "hour"
