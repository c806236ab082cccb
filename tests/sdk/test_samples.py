"""The seed's five samples, run UNCHANGED as user scripts (subprocesses) against a live Memori server with a
real Celery worker and the offline LLM; then we read what the model was sent: every "# X recalls Y" comment
in them must have come true. They never call wait() between agents, so handoffs rely on recall covering
work whose augmentation has not finished yet."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from memory.models import Exchange
from tests.sdk.conftest import subprocess_env

pytestmark = pytest.mark.worker

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "seed-examples"
VENDORED = Path(__file__).resolve().parent / "seed_examples"
CONTEXT_RE = re.compile(r"<memori_context>(.*?)</memori_context>", re.S)


def sample_path(name: str) -> Path:
    """The seed's own file; a verbatim copy (kept as .py.txt so linters leave it alone) when it is absent."""
    return SHARED / name if SHARED.is_dir() else VENDORED / f"{name}.txt"


def run_sample(name: str, env: dict) -> str:
    completed = subprocess.run(
        [sys.executable, str(sample_path(name))],
        env=subprocess_env({**env, "PYTHONPATH": str(REPO)}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def memory_block(offline_llm, system_starts_with: str, nth: int = 0) -> str:
    """The memory block injected into the system prompt of the nth request whose own system text starts so."""
    matching = []
    for body in offline_llm.received():
        system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
        if system.startswith(system_starts_with):
            matching.append(system)
    assert len(matching) > nth, f"no request #{nth} for {system_starts_with!r}"
    return "\n".join(CONTEXT_RE.findall(matching[nth])).lower()


def test_the_vendored_samples_are_the_seeds_verbatim():
    if not SHARED.is_dir():
        pytest.skip("the seed examples folder is not next to this checkout")
    copies = sorted(VENDORED.glob("uc*.py.txt"))
    assert len(copies) == 5
    for copy in copies:
        assert copy.read_bytes() == (SHARED / copy.name.removesuffix(".txt")).read_bytes()


def test_uc1_the_analysis_agent_recalls_all_research(memori_worker, memori_env, offline_llm):
    output = run_sample("uc1_research_pipeline.py", memori_env)

    block = memory_block(offline_llm, "You are an analysis agent")
    assert "2.4 billion dollars" in block  # the market research
    assert "mem0, zep, letta, langmem and memori" in block
    assert "pinecone, weaviate, qdrant and pgvector" in block  # the technical landscape
    assert "should start on PostgreSQL with pgvector" in output  # the analysis builds on them
    assert Exchange.objects.filter(entity__external_id="project_alpha").count() == 3


def test_uc2_billing_and_technical_agents_recall_the_triage_context(memori_worker, memori_env, offline_llm):
    run_sample("uc2_support_handoff.py", memori_env)

    billing = memory_block(offline_llm, "You are a billing specialist")
    technical = memory_block(offline_llm, "You are a technical support specialist")
    for block in (billing, technical):
        assert "charged twice for the $49 pro plan" in block  # what triage found
        assert "locked after 5 failed login attempts" in block
    assert "refund the duplicate $49 charge" in technical  # and what billing did


def test_uc3_reviewer_and_deployer_recall_jwt_and_bcrypt(memori_worker, memori_env, offline_llm):
    run_sample("uc3_dev_team.py", memori_env)

    reviewer = memory_block(offline_llm, "You are a code reviewer")
    deployer = memory_block(offline_llm, "You are a deployment agent")
    for block in (reviewer, deployer):
        assert "jwt tokens that expire after 15 minutes" in block  # the coder's implementation
        assert "hashed with bcrypt" in block
    assert "not rate-limited" in deployer  # the reviewer's feedback reached the deployer too


def test_uc4_the_synthesis_agent_recalls_all_four_parallel_agents(memori_worker, memori_env, offline_llm):
    output = run_sample("uc4_parallel.py", memori_env)

    block = memory_block(offline_llm, "You are a synthesis agent")
    assert "2.4 billion dollars" in block  # market_research_agent
    assert "mem0, zep, letta, langmem and memori" in block  # competitor_analysis_agent
    assert "qdrant and pgvector" in block  # technical_research_agent
    assert "free tier" in block  # pricing_research_agent
    synthesis = output.split("=== Synthesis ===")[1]
    assert synthesis.count("The new AI memory platform should") == 4  # one recommendation per agent's topic


def test_uc5_qa_recalls_the_requirements_and_the_implementation(memori_worker, memori_env, offline_llm):
    run_sample("uc5_product_team.py", memori_env)

    engineer = memory_block(offline_llm, "You are an engineer")
    qa = memory_block(offline_llm, "You are a QA engineer")
    for block in (engineer, qa):
        assert "new comments, mentions and billing alerts" in block  # the PM's requirements
    assert "amazon ses" in qa  # the engineer's implementation
    assert "websockets" in qa
