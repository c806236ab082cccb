"""Contradictions: conflicting memories of one entity, the processes behind each side, resolution."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from dashboard.access import entity_for, tenants_for
from dashboard.rendering import paginate, render_page
from memory.models import Contradiction, Provenance
from memory.services.audit import Actor
from memory.services.contradiction_resolving import InvalidResolution
from memory.services.contradiction_resolving import contradiction_resolve as contradiction_resolve_service
from memory.services.editing import InvalidMemoryEdit

RESOLVE_RELATED = [f"{kind}_{side}__first_process" for kind in ("memory", "triple") for side in ("a", "b")]


def _sides_processes(contradictions: list[Contradiction]) -> dict[tuple[str, int], list[str]]:
    memory_ids = {mid for c in contradictions for mid in (c.memory_a_id, c.memory_b_id) if mid}
    triple_ids = {tid for c in contradictions for tid in (c.triple_a_id, c.triple_b_id) if tid}
    rows = (
        (Provenance.objects.filter(memory_id__in=memory_ids) | Provenance.objects.filter(triple_id__in=triple_ids))
        .values_list("memory_id", "triple_id", "process__external_id")
        .distinct()
    )
    processes: dict[tuple[str, int], set[str]] = defaultdict(set)
    for memory_id, triple_id, process in rows:
        processes[("memory", memory_id) if memory_id else ("triple", triple_id)].add(process)
    return {key: sorted(names) for key, names in processes.items()}


@login_required
def contradiction_list(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    status = request.GET.get("status", "open")
    contradictions = Contradiction.objects.filter(entity=entity).select_related(
        "memory_a__first_process", "memory_b__first_process", "triple_a__first_process", "triple_b__first_process"
    )
    if status == "open":
        contradictions = contradictions.filter(resolved_at__isnull=True)
    page_obj = paginate(request, contradictions.order_by("-detected_at", "-pk"), per_page=25)
    rows = list(page_obj)
    processes = _sides_processes(rows)
    for row in rows:
        row.sides = [
            {
                "label": label,
                "memory": memory,
                "triple": triple,
                "processes": processes.get(("memory", memory.pk) if memory else ("triple", triple.pk), [])
                if (memory or triple)
                else [],
            }
            for label, memory, triple in (("a", row.memory_a, row.triple_a), ("b", row.memory_b, row.triple_b))
        ]
    return render_page(
        request,
        "dashboard/contradictions.html",
        nav="contradictions",
        entity=entity,
        page_obj=page_obj,
        rows=rows,
        status=status,
    )


@require_POST
@staff_member_required
def contradiction_resolve(request: HttpRequest, contradiction_id: int) -> HttpResponse:
    """Delete a side, edit a side or keep both: the resolving service does it, audited."""
    contradiction = (
        Contradiction.objects.select_related(*RESOLVE_RELATED)
        .filter(pk=contradiction_id, entity__tenant__in=tenants_for(request.user))
        .first()
    )
    if contradiction is None:
        raise Http404("No such contradiction.")
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
