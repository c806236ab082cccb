from django.urls import reverse

from memory.services.augmentation import job_augment
from tests.dashboard.conftest import XSS, add_contradiction, call
from tests.dashboard.flagged import FLAGGED_QUESTION, add_superseded, unaugmented_triage_call


def test_it_lists_the_entitys_sessions(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = member_client.get(reverse("dashboard:sessions", args=[handoff.entity.pk]))
    assert response.status_code == 200
    sessions = {session.process.external_id: session for session in response.context["page_obj"]}
    assert sessions["triage_agent"].exchange_total == 2
    assert sessions["billing_agent"].exchange_total == 1


def test_a_session_shows_each_turn_with_its_injected_block_and_what_it_produced(
    member_client, handoff, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        response = member_client.get(reverse("dashboard:session", args=[handoff.billing.session_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Help me with the double charge" in body  # the message
    assert "triage_agent" in body  # the injected memory came from triage
    assert "&lt;memori_context&gt;" in body  # the block, escaped
    assert "Fused" in body and "Dense" in body and "Lexical" in body
    turn = response.context["turns"][0]
    assert turn.recall_event.hits.all()
    assert any(p.memory for p in turn.produced)  # what this turn's augmentation wrote


def test_pending_context_is_shown_on_the_gap_turn(member_client, handoff):
    response = member_client.get(reverse("dashboard:session", args=[handoff.technical.session_id]))
    assert "1 pending exchange, served raw" in response.content.decode()


def test_live_endpoint_refreshes_when_augmentation_finishes(member_client, handoff):
    url = reverse("dashboard:session_live", args=[handoff.late_triage.session_id])
    first = member_client.get(url).json()
    assert member_client.get(url, {"since": first["version"]}).json()["changed"] is False
    job_augment(handoff.late_triage.augmentation_job.pk)
    after = member_client.get(url, {"since": first["version"]}).json()
    assert after["changed"] is True
    assert "password reset email" in after["html"]


def test_another_tenants_sessions_are_404(member_client, outsider_entity, other_tenant):
    assert member_client.get(reverse("dashboard:sessions", args=[outsider_entity.pk])).status_code == 404
    other = call(other_tenant, process="spy_agent", user="secret plans", assistant="noted")
    assert member_client.get(reverse("dashboard:session", args=[other.session_id])).status_code == 404
    assert member_client.get(reverse("dashboard:session_live", args=[other.session_id])).status_code == 404


def test_messages_are_escaped(member_client, tenant):
    exchange = call(tenant, process="triage_agent", user=XSS, assistant="ok")
    response = member_client.get(reverse("dashboard:session", args=[exchange.session_id]))
    assert b"<script>alert" not in response.content
    assert b"&lt;script&gt;alert" in response.content


def test_a_call_given_only_pending_raw_context_lists_it_with_its_source(member_client, tenant):
    triage = unaugmented_triage_call(tenant)
    billing = call(tenant, process="billing_agent", user="Refund the double charge.", assistant="Refunded.")
    response = member_client.get(reverse("dashboard:session", args=[billing.session_id]))
    body = response.content.decode()
    turn = response.context["turns"][0]
    assert [(item.sources[0].process, item.sources[0].exchange_id) for item in turn.received.pending] == [
        ("triage_agent", triage.pk)
    ]
    assert "charged twice" in turn.received.pending[0].content
    assert "Nothing was recalled for this call" not in body
    assert "Received: 1 item (1 raw from other agents) from triage_agent" in body
    assert f"?call={triage.pk}#call-{triage.pk}" in body  # to the call that produced it


def test_injected_contradicted_and_superseded_items_are_flagged(member_client, handoff):
    older, newer = add_contradiction(handoff.entity)
    stale, current = add_superseded(handoff.entity)
    asked = call(
        handoff.tenant,
        process="qa_agent",
        user=FLAGGED_QUESTION,
        assistant="ok",
    )
    response = member_client.get(reverse("dashboard:session", args=[asked.session_id]))
    received = response.context["turns"][0].received
    assert {item.memory_id for item in received.contradicted} & {older.pk, newer.pk}
    assert [item.memory_id for item in received.superseded] == [stale.pk]
    body = response.content.decode()
    assert "1 superseded" in body and "1 contradicted" in body
    assert "already replaced on" in body and "Porto" in body and "conflicts with" in body


def test_a_deep_link_opens_the_page_holding_that_turn(member_client, tenant):
    first = call(tenant, process="triage_agent", user="The first question", assistant="ok", augment=False)
    for index in range(35):
        call(
            tenant,
            process="triage_agent",
            user=f"Question {index}",
            assistant="ok",
            session_id=str(first.session.uuid),
            augment=False,
        )
    url = reverse("dashboard:session", args=[first.session_id])
    assert first.pk not in [turn.pk for turn in member_client.get(url).context["turns"]]
    assert first.pk in [turn.pk for turn in member_client.get(url, {"call": first.pk}).context["turns"]]
