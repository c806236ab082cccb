"""Contradictions: where two agents said different things about the same subject, when and in which
call each side was said, and the resolution (a delete is confirmed on a page of its own first)."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from dashboard.access import entity_for, tenants_for
from dashboard.rendering import paginate, render_page
from memory.models import Contradiction, Provenance
from memory.services.audit import Actor
from memory.services.contradiction_resolving import SIDES, InvalidResolution, ResolutionAction
from memory.services.contradiction_resolving import contradiction_resolve as contradiction_resolve_service
from memory.services.editing import InvalidMemoryEdit

RESOLVE_RELATED = [f"{kind}_{side}__first_process" for kind in ("memory", "triple") for side in ("a", "b")]
MENTIONS_SHOWN = 3  # per side: when and in which call it was said, earliest first


def _side_key(memory, triple) -> tuple[str, int] | None:
    if memory:
        return ("memory", memory.pk)
    return ("triple", triple.pk) if triple else None


def _side_mentions(contradictions: list[Contradiction]) -> dict[tuple[str, int], dict]:
    """Per side: the processes that said it, and its first mentions (time, process, session, call)
    with their total. At most two queries per kind of side, however often each side was said."""
    keys = {key for c in contradictions for key in _sides_keys(c) if key}
    found: dict[tuple[str, int], dict] = defaultdict(lambda: {"processes": [], "mentions": [], "total": 0})
    for target in ("memory", "triple"):
        ids = [pk for kind, pk in keys if kind == target]
        if not ids:
            continue
        said = Provenance.objects.filter(**{f"{target}_id__in": ids})
        for target_id, process in said.values_list(f"{target}_id", "process__external_id").distinct().order_by():
            found[(target, target_id)]["processes"].append(process)
        first = (
            said.annotate(
                rank=Window(RowNumber(), partition_by=[F(f"{target}_id")], order_by=[F("mentioned_at"), F("pk")]),
                total=Window(Count("*"), partition_by=[F(f"{target}_id")]),
            )
            .filter(rank__lte=MENTIONS_SHOWN)
            .values(
                f"{target}_id",
                "rank",
                "total",
                "mentioned_at",
                "session_id",
                "exchange_id",
                "source",
                process_name=F("process__external_id"),
            )  # fmt: skip
        )
        for row in first:
            side = found[(target, row[f"{target}_id"])]
            side["total"] = row["total"]
            side["mentions"].append(row)
    for side in found.values():
        side["processes"].sort()
        side["mentions"].sort(key=lambda row: row["rank"])
    return found


def _sides_keys(contradiction: Contradiction) -> list[tuple[str, int] | None]:
    return [
        _side_key(getattr(contradiction, f"memory_{label}"), getattr(contradiction, f"triple_{label}"))
        for label in SIDES
    ]


def _sides(contradiction: Contradiction, mentions: dict) -> list[dict]:
    sides = []
    for label, key in zip(SIDES, _sides_keys(contradiction), strict=True):
        said = mentions.get(key, {"processes": [], "mentions": [], "total": 0}) if key else None
        sides.append(
            {
                "label": label,
                "memory": getattr(contradiction, f"memory_{label}"),
                "triple": getattr(contradiction, f"triple_{label}"),
                "processes": said["processes"] if said else [],
                "mentions": said["mentions"] if said else [],
                "more_mentions": max(0, said["total"] - len(said["mentions"])) if said else 0,
            }
        )
    return sides


@login_required
def contradiction_list(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    status = request.GET.get("status", "open")
    contradictions = Contradiction.objects.filter(entity=entity).select_related(*RESOLVE_RELATED)
    if status == "open":
        contradictions = contradictions.filter(resolved_at__isnull=True)
    page_obj = paginate(request, contradictions.order_by("-detected_at", "-pk"), per_page=25)
    rows = list(page_obj)
    mentions = _side_mentions(rows)
    for row in rows:
        row.sides = _sides(row, mentions)
        row.disagreeing = sorted({name for side in row.sides for name in side["processes"]})
    return render_page(
        request,
        "dashboard/contradictions.html",
        nav="contradictions",
        entity=entity,
        page_obj=page_obj,
        rows=rows,
        status=status,
    )


def _contradiction_for(request: HttpRequest, contradiction_id: int) -> Contradiction:
    contradiction = (
        Contradiction.objects.select_related("entity__tenant", *RESOLVE_RELATED)
        .filter(pk=contradiction_id, entity__tenant__in=tenants_for(request.user))
        .first()
    )
    if contradiction is None:
        raise Http404("No such contradiction.")
    return contradiction


def _confirm_delete(request: HttpRequest, contradiction: Contradiction) -> HttpResponse:
    """The confirmation step before a side is deleted: what goes, who said it, and what stays."""
    label = request.GET.get("side", "")
    if label not in SIDES or contradiction.resolved_at is not None:
        messages.error(
            request,
            "Not resolved: this contradiction is already resolved."
            if contradiction.resolved_at
            else "Not resolved: side must be a or b.",
        )
        return redirect("dashboard:contradictions", contradiction.entity_id)
    sides = _sides(contradiction, _side_mentions([contradiction]))
    doomed = next(side for side in sides if side["label"] == label)
    if not (doomed["memory"] or doomed["triple"]):
        messages.error(request, f"Not resolved: side {label.upper()} is already deleted.")
        return redirect("dashboard:contradictions", contradiction.entity_id)
    return render_page(
        request,
        "dashboard/contradiction_delete.html",
        nav="contradictions",
        entity=contradiction.entity,
        contradiction=contradiction,
        side=doomed,
        kept=next(side for side in sides if side["label"] != label),
    )


@require_http_methods(["GET", "POST"])
@staff_member_required
def contradiction_resolve(request: HttpRequest, contradiction_id: int) -> HttpResponse:
    """Delete a side, edit a side or keep both: the resolving service does it, audited. A GET asks
    to confirm a delete; only the POST of that confirmation (or of an edit or keep-both) changes data."""
    contradiction = _contradiction_for(request, contradiction_id)
    if request.method == "GET":
        if request.GET.get("action") != ResolutionAction.DELETE:
            return redirect("dashboard:contradictions", contradiction.entity_id)
        return _confirm_delete(request, contradiction)
    try:
        contradiction_resolve_service(
            contradiction=contradiction,
            actor=Actor.from_user(request.user),
            action=request.POST.get("action", ""),
            side=request.POST.get("side", ""),
            content=request.POST.get("content", ""),
            note=request.POST.get("note", ""),
        )
    except (InvalidResolution, InvalidMemoryEdit) as error:
        messages.error(request, f"Not resolved: {error}")
    else:
        messages.success(request, "Resolved: the change is in the audit trail.")
    return redirect("dashboard:contradictions", contradiction.entity_id)
