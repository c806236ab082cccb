"""Supersession: a later value of the same claim replaces the older memory, which keeps its history.

Exchanges are recorded and augmented the way the worker does it, with the test line extractor
saying exactly which memories and claims were extracted (the offline extractor has its own tests).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memory.models import AuditEntry, AugmentationJob, Contradiction, Memory
from memory.services import dedup
from memory.services.augmentation import job_augment, job_augment_in_batch
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

MARCH_1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"
    settings.MEMORI_CONTRADICTION_WINDOW_SECONDS = 300


def _say(
    tenant, text: str, *, at: datetime, process: str = "billing_agent", run: bool = True, entity: str = "project_alpha"
) -> AugmentationJob:
    job = record(tenant, entity=entity, process=process, user=text, occurred_at=at).job
    if run:
        job_augment(job.pk)
    return AugmentationJob.objects.get(pk=job.pk)


def _memory(content: str) -> Memory:
    return Memory.objects.get(content=content)


STRIPE = "fact: Payments go through Stripe\nclaim: payments | go_through | Stripe | name"
ADYEN = "fact: We moved payments to Adyen\nclaim: payments | * | Adyen | name"
BRAINTREE = "fact: Payments go through Braintree\nclaim: payments | go_through | Braintree | name"


def test_a_provider_switch_by_the_same_process_supersedes_the_older_memory(tenant):
    _say(tenant, STRIPE, at=MARCH_1)
    job = _say(tenant, ADYEN, at=MARCH_1 + timedelta(hours=2))

    stripe, adyen = _memory("Payments go through Stripe"), _memory("We moved payments to Adyen")
    assert (stripe.valid_from, stripe.valid_to, stripe.superseded_by) == (MARCH_1, adyen.valid_from, adyen)
    assert (adyen.valid_from, adyen.valid_to, adyen.superseded_by) == (MARCH_1 + timedelta(hours=2), None, None)
    assert not stripe.is_current and adyen.is_current
    assert (stripe.claim_subject, stripe.claim_attribute, stripe.claim_value) == ("payments", "go_through", "Stripe")
    assert (adyen.claim_attribute, adyen.claim_value_type) == ("*", "name")
    assert job.result["superseded"] == 1 and job.result["contradictions"] == 0
    assert not Contradiction.objects.exists()
    audit = AuditEntry.objects.get(object_type="memory", object_id=stripe.pk)
    assert audit.action == "update" and audit.actor_label == "system:supersession"
    assert audit.before == {"valid_to": None, "superseded_by_id": None}
    assert audit.after["superseded_by_id"] == adyen.pk and "superseded by memory" in audit.after["reason"]


def test_a_moved_date_supersedes_the_first_date(tenant):
    _say(tenant, "fact: The invoice is due on March 5\nclaim: invoice | due_on | March 5 | date", at=MARCH_1)
    _say(
        tenant,
        "fact: The invoice date changed to March 12\nclaim: invoice | * | March 12 | date",
        at=MARCH_1 + timedelta(days=1),
    )

    first, moved = _memory("The invoice is due on March 5"), _memory("The invoice date changed to March 12")
    assert first.superseded_by == moved and first.valid_to == MARCH_1 + timedelta(days=1)
    assert moved.is_current


def test_another_process_much_later_supersedes_too(tenant):
    _say(tenant, STRIPE, at=MARCH_1, process="billing_agent")
    _say(tenant, ADYEN, at=MARCH_1 + timedelta(days=3), process="finance_agent")

    assert _memory("Payments go through Stripe").superseded_by == _memory("We moved payments to Adyen")
    assert not Contradiction.objects.exists()


def test_two_processes_asserting_different_values_at_once_contradict_instead(tenant):
    _say(tenant, STRIPE, at=MARCH_1, process="billing_agent")
    job = _say(tenant, BRAINTREE, at=MARCH_1 + timedelta(minutes=2), process="finance_agent")

    stripe, braintree = _memory("Payments go through Stripe"), _memory("Payments go through Braintree")
    assert stripe.is_current and braintree.is_current and stripe.superseded_by is None
    contradiction = Contradiction.objects.get()
    assert (contradiction.memory_a, contradiction.memory_b) == (stripe, braintree)
    assert contradiction.reason == "same_subject_predicate"
    assert stripe.is_contradicted and braintree.is_contradicted
    assert job.result["contradictions"] == 1 and job.result["superseded"] == 0


def test_the_same_value_said_again_differently_supersedes_nothing(tenant):
    _say(tenant, STRIPE, at=MARCH_1)
    _say(
        tenant,
        "fact: Stripe handles our payments\nclaim: the payments | go_through | stripe | name",
        at=MARCH_1 + timedelta(hours=1),
    )

    assert Memory.objects.filter(valid_to__isnull=True).count() == 2


def test_other_attributes_and_value_types_are_left_alone(tenant):
    _say(tenant, STRIPE, at=MARCH_1)
    _say(
        tenant,
        "fact: Payments are reviewed by Dana\nclaim: payments | reviewed_by | Dana | name\n"
        "fact: Payments settle in 3 days\nclaim: payments | * | 3 days | number",
        at=MARCH_1 + timedelta(hours=1),
    )

    assert Memory.objects.filter(valid_to__isnull=True).count() == 3


def test_a_memory_without_a_claim_never_supersedes(tenant):
    _say(tenant, STRIPE, at=MARCH_1)
    _say(tenant, "fact: We moved payments to Adyen", at=MARCH_1 + timedelta(hours=2))
    _say(tenant, "fact: Caroline went to Paris", at=MARCH_1 + timedelta(hours=3))

    assert Memory.objects.filter(valid_to__isnull=True).count() == 3
    assert not AuditEntry.objects.exists()


def test_history_imported_out_of_order_is_stored_already_superseded(tenant):
    _say(tenant, ADYEN, at=MARCH_1 + timedelta(days=2))
    job = _say(tenant, STRIPE, at=MARCH_1)

    stripe, adyen = _memory("Payments go through Stripe"), _memory("We moved payments to Adyen")
    assert stripe.superseded_by == adyen and stripe.valid_to == adyen.valid_from
    assert stripe.valid_from == MARCH_1
    assert adyen.is_current
    assert job.result["superseded"] == 1


def test_a_claim_imported_between_two_takes_its_place_in_the_history(tenant):
    _say(tenant, STRIPE, at=MARCH_1)
    _say(tenant, ADYEN, at=MARCH_1 + timedelta(days=4))
    _say(tenant, BRAINTREE, at=MARCH_1 + timedelta(days=2))

    stripe, braintree = _memory("Payments go through Stripe"), _memory("Payments go through Braintree")
    adyen = _memory("We moved payments to Adyen")
    assert (stripe.superseded_by, stripe.valid_to) == (braintree, MARCH_1 + timedelta(days=2))
    assert (braintree.superseded_by, braintree.valid_to) == (adyen, MARCH_1 + timedelta(days=4))
    assert adyen.is_current


def test_claims_of_one_batch_supersede_in_job_order(tenant):
    first = _say(tenant, STRIPE, at=MARCH_1, run=False)
    _say(tenant, BRAINTREE, at=MARCH_1, run=False)
    _say(tenant, ADYEN, at=MARCH_1 + timedelta(hours=1), run=False)

    job_augment_in_batch(first.pk, batch_size=10)

    stripe, braintree = _memory("Payments go through Stripe"), _memory("Payments go through Braintree")
    adyen = _memory("We moved payments to Adyen")
    assert stripe.superseded_by == braintree and braintree.superseded_by == adyen
    assert adyen.is_current
    assert AuditEntry.objects.filter(object_type="memory").count() == 2


def test_attributes_of_another_process_are_never_superseded(tenant):
    _say(tenant, "attribute: Works from Berlin\nclaim: office | located_in | Berlin | place", at=MARCH_1)
    _say(
        tenant,
        "attribute: Works from Lisbon\nclaim: office | located_in | Lisbon | place",
        at=MARCH_1 + timedelta(days=1),
        process="finance_agent",
    )
    _say(tenant, "fact: The office is in Madrid\nclaim: office | located_in | Madrid | place", at=MARCH_1)

    assert Memory.objects.filter(valid_to__isnull=True).count() == 3
    paris = "attribute: Works from Paris\nclaim: office | located_in | Paris | place"
    _say(tenant, paris, at=MARCH_1 + timedelta(days=2))
    assert _memory("Works from Berlin").superseded_by == _memory("Works from Paris")
    assert _memory("Works from Lisbon").is_current and _memory("The office is in Madrid").is_current


def test_a_repeated_job_supersedes_nothing_twice(tenant):
    _say(tenant, STRIPE, at=MARCH_1)
    job = _say(tenant, ADYEN, at=MARCH_1 + timedelta(hours=2))
    AugmentationJob.objects.filter(pk=job.pk).update(status="queued")
    dedup.forget_all()

    job_augment(job.pk)

    assert AuditEntry.objects.filter(object_type="memory").count() == 1
    assert _memory("Payments go through Stripe").superseded_by == _memory("We moved payments to Adyen")


def test_a_batch_of_claims_costs_a_fixed_number_of_queries(tenant, django_assert_max_num_queries):
    from memory.services.supersession import ClaimColumns, ClaimedMemory, supersede_claims

    entity = record(tenant, process="billing_agent", user="hello").job.entity
    process_id = AugmentationJob.objects.get().process_id
    stored = [
        Memory.objects.create(
            entity=entity,
            kind="fact",
            content=f"Customer {n} pays with card",
            normalized=f"customer {n} pays with card",
            content_hash=f"h{n}",
            first_process_id=process_id,
            valid_from=MARCH_1,
            claim_subject=f"customer {n}",
            claim_attribute="pays_with",
            claim_value="card",
            claim_value_type="other",
        )
        for n in range(30)
    ]
    newer = [
        Memory.objects.create(
            entity=entity, kind="fact", content=f"Customer {n} pays by wire", content_hash=f"w{n}", valid_from=MARCH_1
        )
        for n in range(30)
    ]
    claimed = [
        ClaimedMemory(
            memory_id=memory.pk,
            entity_id=entity.pk,
            tenant_id=tenant.pk,
            owner_id=None,
            process_id=process_id,
            said_at=MARCH_1 + timedelta(days=1),
            claim=ClaimColumns(f"customer {n}", "*", "wire", "other"),
            order=(n, 0),
        )
        for n, memory in enumerate(newer)
    ]

    with django_assert_max_num_queries(4):
        outcome = supersede_claims(claimed=claimed)

    assert len(outcome.superseded) == 30
    assert Memory.objects.filter(pk__in=[m.pk for m in stored], valid_to__isnull=False).count() == 30


def test_undoing_a_supersession_makes_the_older_memory_current_again_audited(tenant):
    from memory.services.audit import Actor
    from memory.services.supersession_undo import NotSuperseded, memory_restore

    _say(tenant, STRIPE, at=MARCH_1)
    _say(tenant, ADYEN, at=MARCH_1 + timedelta(hours=2))
    stripe = _memory("Payments go through Stripe")
    version = stripe.entity.memory_version

    memory_restore(memory=stripe, actor=Actor(label="user:operator"))

    assert stripe.is_current and stripe.superseded_by is None
    assert _memory("We moved payments to Adyen").is_current
    entry = AuditEntry.objects.filter(object_type="memory", object_id=stripe.pk).latest("created_at")
    assert (entry.actor_label, entry.after["reason"]) == ("user:operator", "supersession undone")
    assert entry.before["superseded_by_id"] == _memory("We moved payments to Adyen").pk
    stripe.entity.refresh_from_db()
    assert stripe.entity.memory_version > version
    with pytest.raises(NotSuperseded):
        memory_restore(memory=stripe, actor=Actor(label="user:operator"))


def test_claims_from_the_llm_extractor_supersede_like_any_other(tenant, settings):
    from memory.extraction.registry import reset_extractor
    from tests.support.llm_server import running_llm_server

    def reply(content: str, claim: dict) -> dict:
        memory = {"kind": "fact", "content": content, "source_position": 0, "relation": "new"}
        return {"memories": [{**memory, "related_memory_id": None, "claim": claim}], "triples": []}

    with running_llm_server() as server:
        settings.MEMORI_EXTRACTOR = "llm"
        settings.MEMORI_LLM_BASE_URL = server.url
        reset_extractor()
        try:
            march_5 = {"subject": "invoice", "attribute": "due on", "value": "March 5", "value_type": "date"}
            server.reply(reply("The invoice is due on March 5", march_5))
            _say(tenant, "The invoice is due on March 5.", at=MARCH_1)
            march_12 = {"subject": "invoice", "attribute": "*", "value": "March 12", "value_type": "date"}
            server.reply(reply("The invoice date moved to March 12", march_12))
            _say(tenant, "We moved the invoice date to March 12.", at=MARCH_1 + timedelta(days=1))
        finally:
            reset_extractor()

    first, moved = _memory("The invoice is due on March 5"), _memory("The invoice date moved to March 12")
    assert (first.claim_attribute, first.superseded_by) == ("due_on", moved)
    assert moved.is_current


def test_a_superseded_value_said_again_later_is_current_again(tenant):
    _say(tenant, STRIPE, at=MARCH_1)
    _say(tenant, ADYEN, at=MARCH_1 + timedelta(days=1))
    job = _say(tenant, STRIPE, at=MARCH_1 + timedelta(days=2))

    stripe, adyen = _memory("Payments go through Stripe"), _memory("We moved payments to Adyen")
    assert stripe.is_current and stripe.valid_from == MARCH_1
    assert (adyen.superseded_by, adyen.valid_to) == (stripe, MARCH_1 + timedelta(days=2))
    assert job.result["superseded"] == 1
    reopened = AuditEntry.objects.filter(object_type="memory", object_id=stripe.pk).latest("created_at")
    assert reopened.after["reason"] == "said again after it was superseded: current again"


def test_a_superseded_value_mentioned_again_from_before_its_supersession_stays_superseded(tenant):
    _say(tenant, STRIPE, at=MARCH_1)
    _say(tenant, ADYEN, at=MARCH_1 + timedelta(days=2))
    _say(tenant, STRIPE, at=MARCH_1 + timedelta(days=1))

    assert _memory("Payments go through Stripe").superseded_by == _memory("We moved payments to Adyen")
    assert AuditEntry.objects.filter(object_type="memory").count() == 1


def _batch_queries(tenant, jobs: int, *, entity: str) -> list[str]:
    """A batch of ``jobs`` claims superseding stored ones, plus a superseded value said again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def claims(provider: str, day: int) -> list[int]:
        text = "fact: Customer {n} pays through {provider}\nclaim: customer {n} | pays_through | {provider} | name"
        at = MARCH_1 + timedelta(days=day)
        return [
            _say(tenant, text.format(n=n, provider=provider), at=at, run=False, entity=entity).pk for n in range(jobs)
        ]

    _say(tenant, STRIPE, at=MARCH_1, entity=entity)
    _say(tenant, ADYEN, at=MARCH_1 + timedelta(days=1), entity=entity)
    job_augment_in_batch(claims("Stripe", 0)[0], batch_size=jobs)
    first = claims("Adyen", 2)[0]
    restated = _say(tenant, STRIPE, at=MARCH_1 + timedelta(days=3), run=False, entity=entity).pk
    with CaptureQueriesContext(connection) as captured:
        job_augment_in_batch(first, batch_size=jobs + 1)
    assert AugmentationJob.objects.get(pk=restated).status == "done"
    return [query["sql"] for query in captured]


def test_a_batch_of_claims_costs_the_same_queries_whatever_its_size(tenant):
    small, large = _batch_queries(tenant, 3, entity="small"), _batch_queries(tenant, 30, entity="large")

    assert len(small) == len(large), "\n".join(sorted(set(large) - set(small)))[:3000]
    assert Memory.objects.filter(content__contains="through Stripe", valid_to__isnull=True).count() == 2
    assert Memory.objects.filter(content__contains="through Adyen", valid_to__isnull=True).count() == 33
