"""Handoffs as a user's script makes them: agents on the real SDK (the offline model behind it),
the live server, a real Celery worker with the default `rules` extractor. The agents never call
`wait()`; what reached the next agent's model is read from the offline model's log.

An agent's request carries its task and the finding it reports: a self-contained statement, as a
model would reply it, which is what the rules extractor stores."""

from __future__ import annotations

import re
import threading

import pytest
from openai import OpenAI

from memori import Memori
from memory.embedding import count_tokens
from memory.models import AugmentationJob
from tests.reliability.web_process import wait_until
from tests.sdk.conftest import system_prompt_of
from tests.support import handoff_agents

pytestmark = pytest.mark.worker

CONTEXT_RE = re.compile(r"<memori_context>.*?</memori_context>", re.S)
QUOTED_SECTIONS = ("## From past conversations", "## Recent work from other agents, not yet processed into memory")
PARALLEL_AGENTS = handoff_agents.PARALLEL_AGENTS[:12]  # the bench's first 12 (bench/handoffs_agents.py)
SYNTHESIS = handoff_agents.SYNTHESIS_TASK


def agent(process_id: str, entity_id: str = "project_alpha"):
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id=entity_id, process_id=process_id)
    return client, mem


def ask(client: OpenAI, text: str, *, system: str) -> None:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)


def block_of(request: dict) -> str:
    return "\n".join(CONTEXT_RE.findall(system_prompt_of(request)))


def stated_lines(block: str) -> list[str]:
    """The block's memory lines, without the sections quoting exchanges as they were said."""
    lines, quoting = [], False
    for line in block.splitlines():
        if line.startswith("## "):
            quoting = line in QUOTED_SECTIONS
        elif line.startswith("- ") and not quoting:
            lines.append(line)
    return lines


def all_augmented(timeout: float = 120) -> bool:
    def done() -> bool:
        jobs = AugmentationJob.objects.values_list("status", flat=True)
        return bool(jobs) and all(status == AugmentationJob.Status.DONE for status in jobs)

    return wait_until(done, timeout=timeout)


def test_a_synthesis_agent_gets_the_findings_of_all_twelve_parallel_agents(memori_worker, memori_env, offline_llm):
    start = threading.Barrier(len(PARALLEL_AGENTS))

    def research(process: str, task: str, finding: str) -> None:
        client, _ = agent(process)
        start.wait(timeout=30)
        ask(client, f"{task} {finding}", system=f"You are the {process.replace('_', ' ')}.")

    threads = [threading.Thread(target=research, args=spec[:3]) for spec in PARALLEL_AGENTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all_augmented()  # the synthesis step starts once the worker is through (no wait() anywhere)
    synthesis, _ = agent("synthesis_agent")

    ask(synthesis, SYNTHESIS, system="You are the synthesis agent.")

    block = block_of(offline_llm.received()[-1])
    assert [spec[0] for spec in PARALLEL_AGENTS if spec[3].lower() not in block.lower()] == []
    assert count_tokens(block) <= 700  # the default budget
    stated = "\n".join(stated_lines(block)).lower()
    assert [task for _, task, _, _ in PARALLEL_AGENTS if task.rstrip(".").lower() in stated] == []


STALE, CURRENT = "Payments go through Stripe.", "We moved payments to Adyen."


def test_the_stale_value_of_an_update_is_not_presented_as_current(memori_worker, memori_env, offline_llm):
    billing, mem = agent("billing_agent", "customer_42")
    ask(billing, f"Check the payment setup. {STALE}", system="You are the billing agent.")
    assert mem.augmentation.wait(timeout=120).ok
    ask(billing, f"Check the payment setup again. {CURRENT}", system="You are the billing agent.")
    assert mem.augmentation.wait(timeout=120).ok
    support, _ = agent("support_agent", "customer_42")

    ask(support, "Which payment provider handles the refund for order 1042?", system="You are the support agent.")

    lines = [line for line in block_of(offline_llm.received()[-1]).splitlines() if line.startswith("- ")]
    assert any("adyen" in line.lower() for line in lines)
    stale = [line for line in lines if "stripe" in line.lower() and "adyen" not in line.lower()]
    assert [line for line in stale if "superseded" not in line] == []
