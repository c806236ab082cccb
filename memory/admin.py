"""The operators' admin: every model, searchable and filterable; memory edits go through the
audited editing services; API keys are created here with the raw key shown once."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

from memory import admin_episodes  # noqa: F401  (registers the episodes' admin, kept apart for size)
from memory.models import (
    ApiKey,
    AuditEntry,
    AugmentationJob,
    Contradiction,
    Conversation,
    Entity,
    Exchange,
    Memory,
    Message,
    Node,
    Predicate,
    Process,
    Provenance,
    RecallEvent,
    RecallHit,
    Session,
    Tenant,
    Triple,
)
from memory.services.audit import Actor
from memory.services.contradiction_resolving import InvalidResolution, ResolutionAction, contradiction_resolve
from memory.services.editing import InvalidMemoryEdit, memory_create, memory_delete, memory_update, triple_delete
from memory.services.publishing import jobs_retry
from memory.services.supersession_undo import NotSuperseded, memory_restore


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    filter_horizontal = ("members",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
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
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).")


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ("external_id", "tenant", "created_at", "last_activity_at")
    list_filter = ("tenant", "created_at")
    search_fields = ("external_id",)
    readonly_fields = ("memory_version",)


@admin.register(Process)
class ProcessAdmin(admin.ModelAdmin):
    list_display = ("external_id", "tenant", "created_at")
    list_filter = ("tenant",)
    search_fields = ("external_id",)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("uuid", "entity", "process", "started_at", "last_activity_at")
    list_filter = ("entity__tenant", "process", "started_at")
    search_fields = ("uuid", "entity__external_id", "process__external_id")
    list_select_related = ("entity", "process")
    raw_id_fields = ("entity", "process")


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("position", "role", "content", "created_at")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "entity", "process", "session", "message_count", "last_message_at")
    list_filter = ("entity__tenant", "process", "last_message_at")
    search_fields = ("entity__external_id", "process__external_id", "session__uuid")
    list_select_related = ("entity", "process", "session")
    raw_id_fields = ("entity", "process", "session")
    inlines = [MessageInline]


@admin.register(Exchange)
class ExchangeAdmin(admin.ModelAdmin):
    list_display = ("id", "entity", "process", "model", "latency_ms", "occurred_at")
    list_filter = ("entity__tenant", "process", "occurred_at")
    search_fields = ("entity__external_id", "process__external_id", "idempotency_key")
    list_select_related = ("entity", "process")
    raw_id_fields = ("conversation", "entity", "process", "session", "recall_event")
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "role", "short_content", "conversation", "position", "created_at")
    list_filter = ("role", "conversation__entity__tenant", "created_at")
    search_fields = ("content",)
    raw_id_fields = ("conversation", "exchange")
    list_select_related = ("conversation__entity", "conversation__process", "conversation__session")

    @admin.display(description="content")
    def short_content(self, obj: Message) -> str:
        return obj.content[:100]


class ProvenanceInline(ReadOnlyInline):
    model = Provenance
    fk_name = None
    fields = ("process", "session", "message", "job", "source", "mentioned_at")
    show_change_link = False


class MemoryProvenanceInline(ProvenanceInline):
    fk_name = "memory"


class TripleProvenanceInline(ProvenanceInline):
    fk_name = "triple"


class AuditedDeleteMixin:
    """Deletes from the admin (one or many) go through the audited services."""

    audited_delete = None

    def delete_model(self, request, obj) -> None:
        type(self).audited_delete(obj, actor=Actor.from_user(request.user))

    def delete_queryset(self, request, queryset) -> None:
        actor = Actor.from_user(request.user)
        for obj in queryset.select_related("entity"):
            type(self).audited_delete(obj, actor=actor)


class ValidityFilter(admin.SimpleListFilter):
    title = "validity"
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return (("current", "Current"), ("superseded", "Superseded by a later memory"))

    def queryset(self, request, queryset):
        if self.value() in ("current", "superseded"):
            return queryset.filter(valid_to__isnull=self.value() == "current")
        return queryset


@admin.register(Memory)
class MemoryAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    list_display = (
        "short_content",
        "kind",
        "entity",
        "owner_process",
        "mention_count",
        "recall_count",
        "valid_from",
        "is_current",
        "last_seen_at",
    )
    list_filter = (
        "kind",
        ValidityFilter,
        "entity__tenant",
        "entity",
        "owner_process",
        "is_contradicted",
        "last_seen_at",
    )
    search_fields = ("content", "entity__external_id")
    list_select_related = ("entity", "owner_process")
    raw_id_fields = ("entity", "owner_process", "first_process")
    readonly_fields = (
        "mention_count",
        "first_seen_at",
        "last_seen_at",
        "last_recalled_at",
        "recall_count",
        "first_process",
        "embedding_model",
        "valid_from",
        "valid_to",
        "superseded_by",
        "claim_subject",
        "claim_attribute",
        "claim_value",
        "claim_value_type",
    )
    fields = ("entity", "kind", "owner_process", "content", "is_contradicted", *readonly_fields)
    inlines = [MemoryProvenanceInline]
    actions = ["restore_superseded"]

    @admin.display(boolean=True, description="current", ordering="valid_to")
    def is_current(self, obj: Memory) -> bool:
        return obj.is_current

    @admin.action(description="Undo the supersession of selected memories (current again)")
    def restore_superseded(self, request, queryset) -> None:
        """Through the undo service, as the API's restore: each one audited; current ones are reported."""
        actor, restored, refused = Actor.from_user(request.user), 0, []
        for memory in queryset:
            try:
                memory_restore(memory=memory, actor=actor)
                restored += 1
            except NotSuperseded:
                refused.append(f"#{memory.pk}")
        self.message_user(request, f"Restored {restored} memory(ies): current again.")
        if refused:
            self.message_user(request, "Already current: " + ", ".join(refused), level=messages.WARNING)

    @staticmethod
    def audited_delete(obj: Memory, *, actor: Actor) -> None:
        memory_delete(memory=obj, actor=actor)

    @admin.display(description="content")
    def short_content(self, obj: Memory) -> str:
        return obj.content[:100]

    def save_model(self, request, obj: Memory, form, change: bool) -> None:
        actor = Actor.from_user(request.user)
        try:
            if change:
                original = Memory.objects.select_related("entity", "owner_process").get(pk=obj.pk)
                memory_update(memory=original, actor=actor, content=obj.content, kind=obj.kind)
                obj.refresh_from_db()
            else:
                created = memory_create(
                    entity=obj.entity, kind=obj.kind, content=obj.content, actor=actor, owner_process=obj.owner_process
                )
                obj.pk = created.pk
                obj.refresh_from_db()
        except InvalidMemoryEdit as exc:
            messages.error(request, f"Not saved: {exc}")


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ("name", "node_type", "entity")
    list_filter = ("node_type", "entity__tenant", "entity")
    search_fields = ("name",)
    list_select_related = ("entity",)
    raw_id_fields = ("entity",)


@admin.register(Predicate)
class PredicateAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Triple)
class TripleAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    list_display = ("content", "entity", "mention_count", "first_process", "last_seen_at")
    list_filter = ("entity__tenant", "entity", "predicate", "is_contradicted", "last_seen_at")
    search_fields = ("content", "subject__name", "object__name")
    list_select_related = ("entity", "first_process")
    raw_id_fields = ("entity", "subject", "object", "predicate", "first_process")
    readonly_fields = ("mention_count", "first_seen_at", "last_seen_at", "recall_count", "last_recalled_at")
    inlines = [TripleProvenanceInline]

    @staticmethod
    def audited_delete(obj: Triple, *, actor: Actor) -> None:
        triple_delete(triple=obj, actor=actor)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # triples are corrected by deleting them (audited) or editing the facts


@admin.register(Provenance)
class ProvenanceAdmin(admin.ModelAdmin):
    list_display = ("id", "memory", "triple", "process", "source", "mentioned_at")
    list_filter = ("entity__tenant", "process", "source", "mentioned_at")
    list_select_related = ("memory", "triple", "process")
    raw_id_fields = ("entity", "memory", "triple", "process", "session", "exchange", "message", "job")


@admin.register(Contradiction)
class ContradictionAdmin(admin.ModelAdmin):
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
class AugmentationJobAdmin(admin.ModelAdmin):
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
class RecallEventAdmin(admin.ModelAdmin):
    list_display = ("id", "entity", "process", "short_query", "token_count", "latency_ms", "created_at")
    list_filter = ("entity__tenant", "process", "pending_context_served", "created_at")
    search_fields = ("query", "entity__external_id")
    list_select_related = ("entity", "process")
    raw_id_fields = ("entity", "process", "session")
    inlines = [RecallHitInline]

    @admin.display(description="query")
    def short_query(self, obj: RecallEvent) -> str:
        return obj.query[:80]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_id", "entity")
    list_filter = ("action", "object_type", "tenant", "created_at")
    search_fields = ("actor_label",)
    list_select_related = ("entity",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecallHit)
class RecallHitAdmin(admin.ModelAdmin):
    list_display = ("event", "rank", "kind", "short_content", "fused_score", "via")
    list_filter = ("kind", "event__entity__tenant")
    list_select_related = ("event",)
    raw_id_fields = ("event", "memory", "triple")

    @admin.display(description="content")
    def short_content(self, obj: RecallHit) -> str:
        return obj.content[:100]
