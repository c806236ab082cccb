"""What another agent must never get, before augmentation (served raw, no worker running yet) and
after it (a real worker with the `rules` extractor started in the test): the agent's description of
itself, its process's private attribute, and the earlier turns of a conversation an exchange
resends. Through the real SDK against the live server; the offline model logs what reached it."""

from __future__ import annotations

from openai import OpenAI

from memori import Memori
from memory.models import AugmentationJob
from tests.reliability.web_process import wait_until
from tests.sdk.conftest import system_prompt_of
from tests.support.worker import running_workers

SELF_DESCRIPTION = (
    "I am the billing agent for this account and I handle refunds. The customer was charged twice for "
    "order 1042. As the account's billing specialist, I review every chargeback."
)
PRIVATE = ("billing agent for this account", "refund", "billing specialist", "chargeback")
QUESTION = "What happened with order 1042, and what else do we know about this account?"


def agent(process_id: str, entity_id: str = "customer_42"):
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id=entity_id, process_id=process_id)
    return client, mem


def sent_besides_the_question(client: OpenAI, offline_llm, question: str) -> str:
    """What a call's request carried besides the caller's own question (system prompt, history)."""
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    request = offline_llm.received()[-1]
    return (system_prompt_of(request) + " " + " ".join(str(m["content"]) for m in request["messages"][:-1])).lower()


def augmented_by_a_worker(timeout: float = 120) -> bool:
    def done() -> bool:
        return all(
            status == AugmentationJob.Status.DONE for status in AugmentationJob.objects.values_list("status", flat=True)
        )

    return wait_until(done, timeout=timeout)


def test_an_agents_description_of_itself_never_reaches_another_agent_raw_or_augmented(memori_env, offline_llm):
    _, billing = agent("billing_agent")
    billing.record(
        [{"role": "user", "content": "Look into order 1042."}, {"role": "assistant", "content": SELF_DESCRIPTION}]
    )
    assert billing.flush(timeout=30)
    support, _ = agent("support_agent")

    raw = sent_besides_the_question(support, offline_llm, QUESTION)
    with running_workers() as pool:
        pool.start(purge=False)
        assert augmented_by_a_worker()
        augmented = sent_besides_the_question(agent("triage_agent")[0], offline_llm, QUESTION)
        own = sent_besides_the_question(agent("billing_agent")[0], offline_llm, "What is my role on this account?")

    assert "charged twice for order 1042" in raw and "not yet processed into memory" in raw
    assert "charged twice for order 1042" in augmented and "not yet processed into memory" not in augmented
    assert [phrase for phrase in PRIVATE if phrase in raw or phrase in augmented] == []
    assert "refund" in own  # the billing agent's own attribute, recalled to it alone


def test_another_agent_gets_an_exchanges_own_turn_not_the_conversation_it_resends(memori_env, offline_llm):
    _, triage = agent("triage_agent")
    triage.record(
        [
            {"role": "user", "content": "My colleague Dana Whitfield set the account passphrase to swordfish."},
            {"role": "assistant", "content": "Thank you, I have noted that."},
            {"role": "user", "content": "Look into order 1042."},
            {"role": "assistant", "content": "The customer was charged twice for order 1042."},
        ]
    )
    assert triage.flush(timeout=30)
    support, _ = agent("support_agent")

    raw = sent_besides_the_question(support, offline_llm, QUESTION)

    assert "charged twice for order 1042" in raw
    assert "swordfish" not in raw and "whitfield" not in raw
