"""The audit trail in the admin, read as sentences: "Operator lead edited memory “Melanie likes…”",
the object linked to its admin page (or named from the entry's snapshot once deleted), with what
changed. The audit entries' changelist shows one per row; the change page of every audited object
(memories, triples, contradictions, entities, processes, sessions, conversations) shows its own.

Targets are loaded once per object type of a page (no query per row), scoped to the user's tenants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from memory.admin_pages import PageCompletedAdmin, ViewOnlyAdmin
from memory.admin_tenancy import TenantScopedAdmin, visible_to
from memory.models import AuditEntry, Contradiction

TRAIL_SHOWN = 50
LABEL_CHARS = 60
VALUE_CHARS = 80
ACTOR_KINDS = {"user": "Operator", "api_key": "API key", "command": "Command", "system": "Memori"}
SNAPSHOT_NAMES = ("content", "external_id", "uuid", "resolution_note")
NOT_SHOWN_AS_CHANGES = {"reason"}
SIDE_CHARS = 28  # a contradiction is named by its two sides
TARGET_RELATED = {Contradiction: ("memory_a", "memory_b", "triple_a", "triple_b")}


@dataclass
class AuditLine:
    """One entry as a sentence: ``actor verb kind “label”suffix``, the label linked when ``url``."""

    entry: AuditEntry
    actor: str
    verb: str
    kind: str
    label: str
    url: str
    suffix: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    def as_html(self) -> SafeString:
        target = format_html("<a href='{}'>“{}”</a>", self.url, self.label) if self.url else f"“{self.label}”"
        return format_html("{} {} {} {}{}", self.actor, self.verb, self.kind, target, self.suffix)

    def as_text(self) -> str:
        return f"{self.actor} {self.verb} {self.kind} “{self.label}”{self.suffix}"


def actor_name(label: str) -> str:
    """'user:lead' -> 'Operator lead', 'api_key:ci' -> 'API key ci', 'system:supersession' ->
    'Memori (supersession)'; an unknown label as it is."""
    kind, _, name = label.partition(":")
    if kind == "system" and name:
        return f"Memori ({name})"
    return f"{ACTOR_KINDS[kind]} {name}" if kind in ACTOR_KINDS and name else label


def _verb(entry: AuditEntry) -> tuple[str, str]:
    after = entry.after or {}
    if entry.action == AuditEntry.Action.CREATE:
        return "created", ""
    if entry.action == AuditEntry.Action.DELETE:
        return "deleted", ""
    if after.get("reason") == "supersession undone":
        return "restored", " (supersession undone: current again)"
    if after.get("valid_to"):
        by = after.get("superseded_by_id")
        return "marked", " superseded" + (f" by memory #{by}" if by else "")
    if after.get("resolved_at"):
        return "resolved", ""
    if "reextracted_jobs" in after:
        return "re-extracted", ""
    return "edited", ""


def _short(value) -> str:
    return Truncator("—" if value in (None, "") else str(value)).chars(VALUE_CHARS)


def _changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    before, after = entry.before or {}, entry.after or {}
    if entry.action != AuditEntry.Action.UPDATE:
        return []
    keys = [key for key in after if key not in NOT_SHOWN_AS_CHANGES]
    return [(key, _short(before.get(key)), _short(after[key])) for key in keys if before.get(key) != after[key]]


def _label(entry: AuditEntry, target: models.Model | None) -> str:
    if isinstance(target, Contradiction):
        sides = (target.memory_a, target.memory_b, target.triple_a, target.triple_b)
        text = " / ".join(Truncator(side.content).chars(SIDE_CHARS) for side in sides if side is not None)
    elif target is not None:
        text = getattr(target, "content", None) or str(target)
    else:
        snapshot = entry.before or entry.after or {}
        text = next((str(snapshot[key]) for key in SNAPSHOT_NAMES if snapshot.get(key)), f"#{entry.object_id}")
    return Truncator(text).chars(LABEL_CHARS)


def _admin_url(target: models.Model | None) -> str:
    if target is None:
        return ""
    try:
        return reverse(f"admin:{target._meta.app_label}_{target._meta.model_name}_change", args=[target.pk])
    except NoReverseMatch:
        return ""


def _targets(entries: list[AuditEntry], user) -> dict[tuple[str, int], models.Model]:
    """The entries' objects that still exist and the user may see, one query per object type."""
    ids_by_type: dict[str, set[int]] = {}
    for entry in entries:
        ids_by_type.setdefault(entry.object_type, set()).add(entry.object_id)
    targets = {}
    for object_type, ids in ids_by_type.items():
        try:
            model = apps.get_model("memory", object_type)
        except LookupError:
            continue
        for obj in visible_to(user, model).filter(pk__in=ids).select_related(*TARGET_RELATED.get(model, ())):
            targets[(object_type, obj.pk)] = obj
    return targets


def audit_lines(entries: list[AuditEntry], user, *, known: models.Model | None = None) -> list[AuditLine]:
    """Sentences for ``entries``; ``known`` is an object they are about that is already loaded."""
    if known is not None:
        targets = {(known._meta.model_name, known.pk): known}
    else:
        targets = _targets(entries, user)
    lines = []
    for entry in entries:
        target = targets.get((entry.object_type, entry.object_id))
        verb, suffix = _verb(entry)
        lines.append(
            AuditLine(
                entry=entry,
                actor=actor_name(entry.actor_label),
                verb=verb,
                kind=entry.object_type,
                label=_label(entry, target),
                url=_admin_url(target),
                suffix=suffix,
                changes=_changes(entry),
            )
        )
    return lines


def audit_trail_url(**lookups) -> str:
    return reverse("admin:memory_auditentry_changelist") + "?" + urlencode(lookups)


class AuditTrailMixin:
    """The change page shows the object's audit trail (newest first) under its form."""

    change_form_template = "admin/memory/change_form_audited.html"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            object_type = obj._meta.model_name
            entries = AuditEntry.objects.filter(object_type=object_type, object_id=obj.pk).order_by("-created_at")
            context["audit_trail"] = audit_lines(list(entries[:TRAIL_SHOWN]), request.user, known=obj)
            context["audit_trail_url"] = audit_trail_url(object_type=object_type, object_id=obj.pk)
            context["audit_trail_more"] = len(context["audit_trail"]) == TRAIL_SHOWN
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(ViewOnlyAdmin, PageCompletedAdmin, TenantScopedAdmin):
    list_display = ("created_at", "change", "entity")
    list_filter = ("action", "object_type", "tenant", "entity", "created_at")
    search_fields = ("actor_label",)
    list_select_related = ("entity",)
    readonly_fields = ("change", "what_changed")
    fields = ("change", "what_changed", "created_at", "tenant", "entity", "actor_label", "action", "before", "after")

    def complete_page(self, request, rows: list[AuditEntry]) -> None:
        for row, line in zip(rows, audit_lines(rows, request.user), strict=True):
            row.audit_line = line

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        obj.audit_line = audit_lines([obj], request.user)[0]
        return obj

    @admin.display(description="change")
    def change(self, obj: AuditEntry) -> SafeString:
        return obj.audit_line.as_html()

    @admin.display(description="what changed")
    def what_changed(self, obj: AuditEntry) -> SafeString:
        if not obj.audit_line.changes:
            return "—"
        items = [format_html("<li>{}: “{}” → “{}”</li>", *change) for change in obj.audit_line.changes]
        return format_html("<ul>{}</ul>", SafeString("".join(items)))
