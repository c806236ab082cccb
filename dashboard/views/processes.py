"""Process View: per process, its contributions by kind and what it recalled from the others.

Contributions are counted over the entity's whole life; recalls in a range (the last 30 days unless
another is picked, "all" for the whole life), since an entity's recalls grow with every call."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from dashboard.charts.processes import contributions_by_kind, recall_flow_sankey
from dashboard.queries.entities import entity_processes
from dashboard.queries.processes import KINDS, process_summaries, raw_work_received, recall_flows
from dashboard.web.access import entity_for
from dashboard.web.periods import PRESET_DAYS, Period, period_from_query
from dashboard.web.rendering import render_page

DEFAULT_RECALL_DAYS = "30"


def _recall_period(request: HttpRequest) -> Period | None:
    if request.GET.get("days") == "all":
        return None
    if request.GET.get("start"):
        return period_from_query(request.GET)
    return period_from_query({"days": request.GET.get("days") or DEFAULT_RECALL_DAYS})


@login_required
def process_view(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    names = [process.external_id for process in entity_processes(entity=entity)]
    period = _recall_period(request)
    raw = raw_work_received(entity, period)
    summaries = process_summaries(entity, names, period, raw=raw)
    flows = recall_flows(entity, period, raw=raw)
    return render_page(
        request,
        "dashboard/processes.html",
        nav="processes",
        entity=entity,
        period=period,
        presets=PRESET_DAYS,
        summaries=summaries,
        flows=flows,
        kinds=KINDS,
        contributions_figure=contributions_by_kind(
            {summary.name: summary.contributed for summary in summaries}, kinds=KINDS
        ),
        flow_figure=recall_flow_sankey(flows) if flows else None,
    )
