"""Other agents' work before it is augmented (no worker runs here, so it stays pending): served raw
to the entity's other processes, marked as not yet processed, but only what augmentation would share
— never an agent's description of itself, which becomes that process's private attribute."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from openai import OpenAI

from memori import Memori
from memory.models import AugmentationJob
from memory.recall.context import PENDING_CHARS, PENDING_LIMIT
from tests.sdk.conftest import system_prompt_of

HEADING = "not yet processed into memory"


def agent(process_id: str, entity_id: str = "customer_42"):
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id=entity_id, process_id=process_id)
    return client, mem


def prompt_after_asking(client: OpenAI, offline_llm, question: str) -> str:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    return system_prompt_of(offline_llm.received()[-1])


def test_another_agents_pending_work_reaches_the_next_agent_without_its_self_description(memori_env, offline_llm):
    _, billing = agent("billing_agent")
    billing.record(
        [
            {"role": "user", "content": "Look into the duplicate charge on order 1042."},
            {
                "role": "assistant",
                "content": "I am the billing agent for this account and I handle refunds. The customer was "
                "charged twice for order 1042, on the card ending in 4242. As the account's billing "
                "specialist, I review every chargeback. A refund of 49 euros was issued on March 3, "
                "and I can approve credits up to 500 euros.",
            },
        ]
    )
    assert billing.flush(timeout=30)
    support, _ = agent("support_agent")

    prompt = prompt_after_asking(support, offline_llm, "What happened with order 1042?")

    assert AugmentationJob.objects.get().status == AugmentationJob.Status.QUEUED
    assert HEADING in prompt
    assert "charged twice for order 1042, on the card ending in 4242" in prompt
    assert "A refund of 49 euros was issued on March 3" in prompt
    lowered = prompt.lower()
    for private in ("billing agent for this account", "handle refunds", "chargeback", "approve credits"):
        assert private not in lowered


def test_pending_work_is_bounded_and_never_the_callers_own_conversation(memori_env, offline_llm):
    _, research = agent("research_agent")
    for n in range(PENDING_LIMIT + 3):
        research.record([{"role": "assistant", "content": f"Finding {n}: the EU market grew. " + "Detail. " * 150}])
    assert research.flush(timeout=60)
    synthesis, mem = agent("synthesis_agent")
    mem.record([{"role": "user", "content": "My earlier session noted the passphrase swordfish."}])
    assert mem.flush(timeout=30)
    mem.new_session()

    prompt = prompt_after_asking(synthesis, offline_llm, "Summarize the market findings.")

    pending = prompt[prompt.index(HEADING) :]
    served = [n for n in range(PENDING_LIMIT + 3) if f"Finding {n}:" in pending]
    assert served and len(served) <= PENDING_LIMIT
    assert max(len(line) for line in pending.splitlines()) <= PENDING_CHARS + 100  # the line's label and time
    assert "swordfish" not in prompt


STALE, CURRENT = "Payments go through Stripe.", "We moved payments to Adyen."


def said_and_augmented(process_id: str, text: str) -> None:
    """`process_id` reports `text`, and it is augmented into memory (inline: no worker runs here)."""
    _, mem = agent(process_id)
    mem.record([{"role": "user", "content": "Report your findings."}, {"role": "assistant", "content": text}])
    assert mem.flush(timeout=30)
    call_command("augment_pending")


def said_not_augmented(process_id: str, text: str) -> None:
    _, mem = agent(process_id)
    mem.record([{"role": "user", "content": "Check the setup again."}, {"role": "assistant", "content": text}])
    assert mem.flush(timeout=30)


def block_lines(prompt: str) -> list[str]:
    return [line for line in prompt.splitlines() if line.startswith("- ")]


UPDATES = {  # what was said and augmented, what is said later (not augmented yet), the two values
    "provider": (STALE, CURRENT, "Stripe", "Adyen"),
    "place": ("The customer lives in Lisbon.", "The customer moved to Porto.", "Lisbon", "Porto"),
    "amount": ("The plan costs 40 euros per month.", "The plan costs 55 euros per month.", "40 euros", "55 euros"),
    "date": ("The renewal date is March 5.", "The renewal date moved to March 12.", "March 5", "March 12"),
}


@pytest.mark.parametrize(
    ("first", "then", "update", "mark"),
    [
        ("billing_agent", "billing_agent", "provider", "probably superseded"),
        ("billing_agent", "finance_agent", "provider", "probably superseded"),
        ("billing_agent", "finance_agent", "place", "probably superseded"),
        ("billing_agent", "billing_agent", "amount", "probably superseded"),
        ("billing_agent", "finance_agent", "date", "probably superseded"),
        ("billing_agent", "finance_agent", "provider", "disputed"),  # two agents at once: a contradiction
    ],
)
def test_an_update_not_yet_augmented_comes_before_the_stale_memory_it_outdates_which_says_so(
    memori_env, offline_llm, settings, first, then, update, mark
):
    stale, current, old_value, new_value = UPDATES[update]
    if mark != "disputed":
        settings.MEMORI_CONTRADICTION_WINDOW_SECONDS = 0  # as if said an hour apart: an update
    said_and_augmented(first, stale)
    said_not_augmented(then, current)
    support, _ = agent("support_agent")

    lines = block_lines(prompt_after_asking(support, offline_llm, "What do we know about payments, plan and customer?"))

    current_at = [n for n, line in enumerate(lines) if new_value in line and old_value not in line]
    stale_at = [n for n, line in enumerate(lines) if old_value in line]  # its mark may quote the new value
    assert current_at and stale_at
    assert max(current_at) < min(stale_at)
    assert [lines[n] for n in stale_at if f"({mark} " not in lines[n] or f" by {then}, " not in lines[n]] == []
    assert AugmentationJob.objects.filter(status=AugmentationJob.Status.QUEUED).count() == 1


def test_pending_work_stating_something_else_marks_nothing(memori_env, offline_llm):
    said_and_augmented("billing_agent", STALE)
    said_not_augmented("finance_agent", "The customer lives in Lisbon. Refunds take five business days.")
    support, _ = agent("support_agent")

    prompt = prompt_after_asking(support, offline_llm, "Which payment provider handles refunds?")

    assert any("Stripe" in line for line in block_lines(prompt))
    assert "superseded" not in prompt and "disputed" not in prompt


def test_another_agents_description_of_itself_marks_nothing_even_when_it_states_a_value(
    memori_env, offline_llm, settings
):
    settings.MEMORI_CONTRADICTION_WINDOW_SECONDS = 0
    said_and_augmented("support_agent", "billing_agent works in Porto.")
    said_not_augmented("billing_agent", "I work in Lisbon now. The refund was approved.")
    triage, _ = agent("triage_agent")

    prompt = prompt_after_asking(triage, offline_llm, "Where does billing_agent work?")

    assert any("works in Porto" in line for line in block_lines(prompt))
    assert "Lisbon" not in prompt  # the attribute is not served raw
    assert "superseded" not in prompt and "disputed" not in prompt
