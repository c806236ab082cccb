"""What the entity knows, in the admin: memories and triples with the processes that contributed
them (every process that mentioned one, from its provenance) and their validity (memories: their
``valid_to``; triples: memory/admin_validity.py), both shown and filterable; edits and deletes go
through the audited services; the graph's nodes and predicates.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from memory.admin_audit import AuditTrailMixin
from memory.admin_pages import PageCompletedAdmin, ReadOnlyInline
from memory.admin_tenancy import TenantScopedAdmin, visible_to
from memory.admin_validity import replacements_of, superseded_triples
from memory.models import Memory, Node, Predicate, Process, Provenance, Triple
from memory.services.audit import Actor
from memory.services.editing import InvalidMemoryEdit, memory_create, memory_delete, memory_update, triple_delete
from memory.services.supersession_undo import NotSuperseded, memory_restore

CONTRIBUTORS_SHOWN = 5
# Shown, never edited, on a memory's and a triple's page: who said it, whether it holds, its use.
USAGE_READONLY = (
    "contributors",
    "validity",
    "mention_count",
    "first_seen_at",
    "last_seen_at",
    "last_recalled_at",
    "recall_count",
)


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y H:i") if moment else "—"


class ValidityFilter(admin.SimpleListFilter):
    """Current or superseded: memories by their ``valid_to``, triples by a later value."""

    title = "validity"
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return (("current", "Current"), ("superseded", "Superseded by a later value"))

    def queryset(self, request, queryset):
        if self.value() not in ("current", "superseded"):
            return queryset
        if queryset.model is Memory:
            return queryset.filter(valid_to__isnull=self.value() == "current")
        if self.value() == "current":
            return queryset.exclude(superseded_triples())
        return queryset.filter(superseded_triples())


class ContributingProcessFilter(admin.SimpleListFilter):
    """Rows a process contributed: any of their mentions is by it (not only the first)."""

    title = "contributing process"
    parameter_name = "contributor"

    def lookups(self, request, model_admin):
        processes = visible_to(request.user, Process).order_by("external_id")
        return [(process.pk, process.external_id) for process in processes]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if not self.value().isdigit():
            raise IncorrectLookupParameters("contributor must be a process id")
        target = "memory_id" if queryset.model is Memory else "triple_id"
        # IN (its mentions' ids), not a correlated EXISTS: SQLite would scan the process's
        # mentions once per row through the process index.
        mentioned = Provenance.objects.filter(process_id=int(self.value()), **{f"{target}__isnull": False})
        return queryset.filter(pk__in=mentioned.values(target))


class KnowledgeAdmin(AuditTrailMixin, PageCompletedAdmin, TenantScopedAdmin):
    """Shared by memories and triples: contributors and validity columns, audited deletes."""

    class Media:
        css = {"all": ("memory_admin/lists.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).defer("embedding")  # a kilobyte a row, never shown

    def complete_page(self, request, rows: list) -> None:
        target = self.model._meta.model_name
        contributors: dict[int, set[str]] = {}
        mentions = Provenance.objects.filter(**{f"{target}_id__in": [row.pk for row in rows]})
        for row_id, name in mentions.order_by().values_list(f"{target}_id", "process__external_id").distinct():
            contributors.setdefault(row_id, set()).add(name)
        for row in rows:
            row.contributor_names = sorted(contributors.get(row.pk, ()))

    @admin.display(description="contributing processes")
    def contributors(self, obj) -> str:
        if not hasattr(obj, "contributor_names"):
            self.complete_page(None, [obj])
        names = obj.contributor_names
        shown = ", ".join(names[:CONTRIBUTORS_SHOWN])
        return shown + (f" +{len(names) - CONTRIBUTORS_SHOWN} more" if len(names) > CONTRIBUTORS_SHOWN else "") or "—"

    def delete_model(self, request, obj) -> None:
        self.audited_delete(obj, actor=Actor.from_user(request.user))

    def delete_queryset(self, request, queryset) -> None:
        actor = Actor.from_user(request.user)
        for obj in queryset.select_related("entity"):
            self.audited_delete(obj, actor=actor)

    @staticmethod
    def _replacement(replacement) -> SafeString:
        if replacement is None:
            return format_html("superseded")
        url = reverse(f"admin:memory_{replacement._meta.model_name}_change", args=[replacement.pk])
        return format_html("superseded by <a href='{}'>“{}”</a>", url, Truncator(replacement.content).chars(60))


class MemoryProvenanceInline(ReadOnlyInline):
    model = Provenance
    fk_name = "memory"
    fields = ("process", "session", "message", "job", "source", "mentioned_at")
    show_change_link = False


class TripleProvenanceInline(MemoryProvenanceInline):
    fk_name = "triple"


@admin.register(Memory)
class MemoryAdmin(KnowledgeAdmin):
    list_display = ("short_content", "validity", "contributors", "kind", "entity", "mention_count", "last_seen_at")
    list_filter = (
        "kind",
        ValidityFilter,
        ContributingProcessFilter,
        "entity__tenant",
        "entity",
        "owner_process",
        "is_contradicted",
        "last_seen_at",
    )
    search_fields = ("content", "entity__external_id")
    list_select_related = ("entity", "owner_process", "superseded_by")
    autocomplete_fields = ("entity", "owner_process")
    readonly_fields = (
        *USAGE_READONLY,
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
    fieldsets = (
        (None, {"fields": ("entity", "kind", "owner_process", "content", "is_contradicted")}),
        (
            "Who said it, and whether it still holds",
            {
                "fields": (
                    "contributors",
                    "first_process",
                    "validity",
                    ("valid_from", "valid_to"),
                    "superseded_by",
                    ("claim_subject", "claim_attribute", "claim_value", "claim_value_type"),
                )
            },
        ),
        (
            "Use",
            {
                "fields": (
                    ("mention_count", "first_seen_at", "last_seen_at"),
                    ("recall_count", "last_recalled_at"),
                    "embedding_model",
                )
            },
        ),
    )
    inlines = [MemoryProvenanceInline]
    actions = ["restore_superseded"]

    @admin.display(description="validity", ordering="valid_to")
    def validity(self, obj: Memory) -> SafeString:
        if obj.is_current:
            return format_html("current since {}", _when(obj.valid_from))
        return format_html(
            "{} – {}, {}", _when(obj.valid_from), _when(obj.valid_to), self._replacement(obj.superseded_by)
        )

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


@admin.register(Triple)
class TripleAdmin(KnowledgeAdmin):
    list_display = ("content", "validity", "contributors", "entity", "mention_count", "last_seen_at")
    list_filter = (
        ValidityFilter,
        ContributingProcessFilter,
        "entity__tenant",
        "entity",
        "predicate",
        "is_contradicted",
        "last_seen_at",
    )
    search_fields = ("content", "subject__name", "object__name")
    list_select_related = ("entity", "first_process")
    raw_id_fields = ("entity", "subject", "object", "predicate", "first_process")
    readonly_fields = USAGE_READONLY
    inlines = [TripleProvenanceInline]

    def complete_page(self, request, rows: list[Triple]) -> None:
        super().complete_page(request, rows)
        replacements = replacements_of(rows)
        for row in rows:
            row.replacement = replacements.get(row.pk)

    @admin.display(description="validity")
    def validity(self, obj: Triple) -> SafeString:
        if not hasattr(obj, "replacement"):
            self.complete_page(None, [obj])
        replacement = obj.replacement
        if replacement is None:
            return format_html("current since {}", _when(obj.first_seen_at))
        # Until its replacement was first said, or its own last mention if it was said again after that.
        until = max(obj.last_seen_at, replacement.first_seen_at)
        return format_html("{} – {}, {}", _when(obj.first_seen_at), _when(until), self._replacement(replacement))

    @staticmethod
    def audited_delete(obj: Triple, *, actor: Actor) -> None:
        triple_delete(triple=obj, actor=actor)

    def has_add_permission(self, request) -> bool:
        return False  # triples come from augmentation and the API; a hand-made row here was not audited

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # triples are corrected by deleting them (audited) or editing the facts


@admin.register(Node)
class NodeAdmin(TenantScopedAdmin):
    list_display = ("name", "node_type", "entity")
    list_filter = ("node_type", "entity__tenant", "entity")
    search_fields = ("name",)
    list_select_related = ("entity",)
    raw_id_fields = ("entity",)


@admin.register(Predicate)
class PredicateAdmin(TenantScopedAdmin):
    """The graph's vocabulary, shared by tenants: a member sees the predicates their triples use;
    only superusers add, rename or delete one (a rename would change other tenants' triples)."""

    search_fields = ("name",)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
