"""A memory's detail: provenance, recall history, audit trail; edit and delete for staff."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from dashboard.queries.memory import memory_history
from dashboard.web.access import memory_for
from dashboard.web.rendering import paginate, render_page
from memory.models import MemoryKind
from memory.services.audit import Actor
from memory.services.editing import InvalidMemoryEdit, memory_delete, memory_update
from memory.services.supersession_undo import NotSuperseded, memory_restore


@login_required
def memory_detail(request: HttpRequest, memory_id: int) -> HttpResponse:
    memory = memory_for(request.user, memory_id)
    history = memory_history(memory)
    return render_page(
        request,
        "dashboard/memory.html",
        nav="",
        entity=memory.entity,
        memory=memory,
        page_obj=paginate(request, history.provenance),
        recalls=history.recalls,
        audit=history.audit,
        kinds=MemoryKind.choices,
        replaces=history.replaces,
    )


@require_POST
@staff_member_required
def memory_edit(request: HttpRequest, memory_id: int) -> HttpResponse:
    memory = memory_for(request.user, memory_id)
    kind = request.POST.get("kind") or None
    try:
        memory_update(
            memory=memory, actor=Actor.from_user(request.user), content=request.POST.get("content"), kind=kind
        )
    except InvalidMemoryEdit as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Memory updated; the change is in the audit trail.")
    return redirect("dashboard:memory", memory.pk)


@require_POST
@staff_member_required
def memory_restore_current(request: HttpRequest, memory_id: int) -> HttpResponse:
    memory = memory_for(request.user, memory_id)
    try:
        memory_restore(memory=memory, actor=Actor.from_user(request.user))
    except NotSuperseded as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Supersession undone: the memory is current again; the change is in the audit trail.")
    return redirect("dashboard:memory", memory.pk)


@require_POST
@staff_member_required
def memory_remove(request: HttpRequest, memory_id: int) -> HttpResponse:
    memory = memory_for(request.user, memory_id)
    entity_id = memory.entity_id
    memory_delete(memory=memory, actor=Actor.from_user(request.user))
    messages.success(request, "Memory deleted; the deletion is in the audit trail.")
    return redirect("dashboard:processes", entity_id)
