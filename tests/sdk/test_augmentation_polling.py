"""`mem.augmentation.wait()` after more exchanges than one poll of GET /jobs/ may name (the server
takes at most 500 ids, and the URL must fit a request line): it polls them in batches and returns."""

from __future__ import annotations

import pytest

from memori import Memori
from memory.models import AugmentationJob

pytestmark = pytest.mark.slow


def test_wait_polls_more_jobs_than_one_request_may_name(memori_env):
    mem = Memori()
    mem.attribution(entity_id="project_alpha", process_id="research_agent")
    for number in range(501):
        mem.record([{"role": "user", "content": f"Finding {number}: the cache hit rate is {number % 97}%."}])
    assert mem.flush(timeout=120)
    AugmentationJob.objects.update(status=AugmentationJob.Status.DONE)  # as a worker would have

    result = mem.augmentation.wait(timeout=60)

    assert result.ok and len(result.done) == 501
