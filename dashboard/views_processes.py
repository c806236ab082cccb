"""Process View: per process, its contributions by kind and what it recalled from the others."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from dashboard import charts, selectors
from dashboard.access import entity_for
from dashboard.processes import KINDS, process_summaries, recall_flows
from dashboard.rendering import render_page


@login_required
def process_view(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    names = [process.external_id for process in selectors.entity_processes(entity=entity)]
    summaries = process_summaries(entity, names)
    colors = charts.process_colors(summary.name for summary in summaries)
    flows = recall_flows(entity)
    return render_page(
        request,
        "dashboard/processes.html",
        nav="processes",
        entity=entity,
        summaries=summaries,
        colors=colors,
        flows=flows,
        kinds=KINDS,
        contributions_figure=charts.contributions_by_kind(
            {summary.name: summary.contributed for summary in summaries}, kinds=KINDS, colors=colors
        ),
        flow_figure=charts.recall_flow_sankey(flows, colors=colors) if flows else None,
    )
