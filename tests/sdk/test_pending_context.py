"""Other agents' work before it is augmented (no worker runs here, so it stays pending): served raw
to the entity's other processes, marked as not yet processed, but only what augmentation would share
— never an agent's description of itself, which becomes that process's private attribute."""

from __future__ import annotations

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
