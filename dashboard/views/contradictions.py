"""Contradictions: where two agents said different things about the same subject, when and in which
call each side was said, and the resolution (a delete is confirmed on a page of its own first)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from dashboard.queries.contradictions import contradictions_of, sides_of, with_sides
from dashboard.web.access import contradiction_for, entity_for
from dashboard.web.rendering import paginate, render_page
from memory.models import Contradiction
from memory.services import contradiction_resolving
from memory.services.audit import Actor
from memory.services.contradiction_resolving import SIDES, InvalidResolution, ResolutionAction
from memory.services.editing import InvalidMemoryEdit


@login_required
def contradiction_list(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    status = request.GET.get("status", "open")
    page_obj = paginate(request, contradictions_of(entity, status=status), per_page=25)
    rows = with_sides(list(page_obj))
    return render_page(
        request,
        "dashboard/contradictions.html",
        nav="contradictions",
        entity=entity,
        page_obj=page_obj,
        rows=rows,
        status=status,
    )


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
    sides = sides_of(contradiction)
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
    contradiction = contradiction_for(request.user, contradiction_id)
    if request.method == "GET":
        if request.GET.get("action") != ResolutionAction.DELETE:
            return redirect("dashboard:contradictions", contradiction.entity_id)
        return _confirm_delete(request, contradiction)
    try:
        contradiction_resolving.contradiction_resolve(
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
