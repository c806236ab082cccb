from django.urls import reverse

from memory.services.recall import RecallRequest, recall_for_call
from tests.dashboard.conftest import ENTITY, XSS, add_contradiction, call


def test_a_handoff_before_augmentation_is_listed_and_explained(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = member_client.get(reverse("dashboard:gaps", args=[handoff.entity.pk]))
    assert response.status_code == 200
    gaps = {gap.event.pk: gap for gap in response.context["gaps"]}
    gap = gaps[handoff.gap_event.pk]
    pending = next(reason for reason in gap.reasons if reason.kind == "pending")
    assert pending.other_process == "triage_agent"
    assert pending.exchange_ids == [handoff.late_triage.pk]
    assert "1 exchange by triage_agent had not been augmented yet when technical_agent recalled" in pending.text
    assert "served as pending context" in pending.text
    body = response.content.decode()
    assert reverse("dashboard:session", args=[handoff.late_triage.session_id]) in body  # the other side
    assert reverse("dashboard:session", args=[handoff.technical.session_id]) in body  # this call


def test_a_call_after_augmentation_has_no_pending_gap(member_client, handoff):
    response = member_client.get(reverse("dashboard:gaps", args=[handoff.entity.pk]))
    billing_gap = [gap for gap in response.context["gaps"] if gap.event.pk == handoff.billing.recall_event_id]
    assert not any(reason.kind == "pending" for gap in billing_gap for reason in gap.reasons)


def test_a_relevant_memory_that_was_not_injected_is_a_missed_gap(member_client, handoff):
    # Triage's and billing's memories about the Visa card are relevant; a recall capped at one item leaves some out.
    recall_for_call(
        RecallRequest(tenant=handoff.tenant, entity_id=ENTITY, process_id="technical_agent",
                      query="charged twice on the Visa card", limit=1)
    )  # fmt: skip
    response = member_client.get(reverse("dashboard:gaps", args=[handoff.entity.pk]))
    latest = response.context["gaps"][0]
    missed = {reason.other_process: reason for reason in latest.reasons if reason.kind == "missed"}
    assert "technical_agent" not in missed  # its own memories are never a handoff gap
    assert "from billing_agent existed but" in missed["billing_agent"].text  # "Visa card" with the query
    assert missed["billing_agent"].memory_ids
    assert reverse("dashboard:memory", args=[missed["billing_agent"].memory_ids[0]]) in response.content.decode()


def test_a_live_contradiction_between_processes_is_a_gap(member_client, handoff):
    add_contradiction(handoff.entity)
    call(handoff.tenant, process="billing_agent", user="When does the refund reach the card?", assistant="Soon.")
    response = member_client.get(reverse("dashboard:gaps", args=[handoff.entity.pk]))
    latest = response.context["gaps"][0]
    assert any(
        reason.kind == "contradiction" and "billing_agent" in reason.text and "technical_agent" in reason.text
        for reason in latest.reasons
    )


def test_another_tenants_gaps_are_404(member_client, outsider_entity):
    assert member_client.get(reverse("dashboard:gaps", args=[outsider_entity.pk])).status_code == 404


def test_queries_are_escaped(member_client, handoff):
    call(handoff.tenant, process="technical_agent", user=XSS + " refund Visa charge", assistant="ok", augment=False)
    response = member_client.get(reverse("dashboard:gaps", args=[handoff.entity.pk]))
    assert b"<script>alert" not in response.content
