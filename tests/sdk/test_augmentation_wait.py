"""`mem.augmentation.wait()` says which augmentation jobs failed."""

from __future__ import annotations

import pytest
from openai import OpenAI

from memori import Memori
from tests.support.worker import running_workers

pytestmark = pytest.mark.worker


@pytest.fixture
def failing_worker(django_db_setup):
    with running_workers() as pool:
        yield pool.start(MEMORI_EXTRACTOR="tests.support.extractors.failing_extractor")


def test_wait_reports_the_failed_jobs(failing_worker, memori_env, offline_llm):
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="project_alpha", process_id="research_agent")
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Research pricing"}])

    result = mem.augmentation.wait(timeout=120)

    assert not result.ok
    assert len(result.failed) == 1
    assert "exploded on purpose" in next(iter(result.failed.values()))
