"""Faults on a real worker: a worker killed mid-job, an LLM that answers garbage or 500s."""

from __future__ import annotations

import json
import time

import pytest

from memory.models import AugmentationJob, Memory, Provenance
from memory.services.job_queue import jobs_sweep_stale
from tests.support.exchanges import record, wait_for_jobs
from tests.support.llm_server import running_llm_server
from tests.support.worker import running_workers

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LINES = "tests.support.extractors.LineExtractor"
SLOW_LINES = "tests.support.extractors.SlowLineExtractor"


@pytest.fixture
def workers(django_db_setup):
    with running_workers() as pool:
        yield pool


@pytest.fixture
def llm_server():
    with running_llm_server() as server:
        yield server


def _wait_until_running(job_id: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while AugmentationJob.objects.get(pk=job_id).status != "running":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)


def test_a_job_whose_worker_is_killed_is_redone_on_another_worker_without_duplicate_mentions(tenant, workers):
    doomed = workers.start(MEMORI_EXTRACTOR=SLOW_LINES, MEMORI_TEST_EXTRACTOR_SLEEP="60")
    job = record(
        tenant, user="fact: The API uses JWT tokens\nfact: Deploys go through ArgoCD\ntriple: API | uses | JWT"
    )
    _wait_until_running(job.job.pk)

    doomed.kill()  # SIGKILL mid-job: no ack, no cleanup, the job row says "running"
    workers.start(MEMORI_EXTRACTOR=LINES)
    swept = jobs_sweep_stale(older_than=0)  # what beat runs every 30 s once the job is stale

    assert swept.requeued_running == 1
    (done,) = wait_for_jobs([job.job.pk])
    assert done.status == "done" and done.attempts == 2
    assert Memory.objects.count() == 2
    assert list(Memory.objects.values_list("mention_count", flat=True)) == [1, 1]
    assert Provenance.objects.filter(job=done).count() == 3


def test_malformed_llm_output_fails_the_job_with_its_reason(tenant, workers, llm_server):
    llm_server.set_default("Sure! The memories are: JWT, bcrypt.")
    workers.start(MEMORI_EXTRACTOR="llm", MEMORI_LLM_BASE_URL=llm_server.url, MEMORI_LLM_MODEL="local")

    (job,) = wait_for_jobs([record(tenant, user="Implement auth with JWT tokens.").job.pk])

    assert job.status == "failed" and job.attempts == 1
    assert "did not match the extraction schema after 3 tries: not JSON" in job.error
    assert not Memory.objects.exists()


def test_llm_server_errors_are_retried_with_backoff_then_the_job_completes(tenant, workers, llm_server):
    llm_server.reply(status=500)
    reply = {
        "memories": [
            {
                "kind": "fact",
                "content": "The API uses JWT tokens",
                "source_position": 0,
                "relation": "new",
                "related_memory_id": None,
            }
        ],
        "triples": [],
    }
    llm_server.set_default(json.dumps(reply))
    workers.start(MEMORI_EXTRACTOR="llm", MEMORI_LLM_BASE_URL=llm_server.url)

    (job,) = wait_for_jobs([record(tenant, user="Implement auth with JWT tokens.").job.pk])

    assert job.status == "done" and job.attempts == 2 and job.extractor == "llm"
    assert Memory.objects.get().content == "The API uses JWT tokens"


def test_an_llm_server_that_keeps_failing_fails_the_job_after_the_last_attempt(tenant, workers, llm_server):
    llm_server.set_default(status=503)
    workers.start(MEMORI_EXTRACTOR="llm", MEMORI_LLM_BASE_URL=llm_server.url, MEMORI_AUGMENTATION_MAX_ATTEMPTS="2")

    (job,) = wait_for_jobs([record(tenant, user="Implement auth with JWT tokens.").job.pk])

    assert job.status == "failed" and job.attempts == 2
    assert job.error.startswith("gave up after 2 attempts: ExtractorUnavailable: LLM server answered 503")


def test_an_llm_server_that_times_out_is_retried_then_the_job_completes(tenant, workers, llm_server):
    reply = {
        "memories": [
            {
                "kind": "fact",
                "content": "Passwords are hashed with bcrypt",
                "source_position": 0,
                "relation": "new",
                "related_memory_id": None,
            }
        ],
        "triples": [],
    }
    llm_server.set_default(json.dumps(reply))
    llm_server.reply(json.dumps(reply), delay=4.0)  # the first answer comes after the client gave up
    workers.start(MEMORI_EXTRACTOR="llm", MEMORI_LLM_BASE_URL=llm_server.url, MEMORI_LLM_TIMEOUT_SECONDS="1")

    (job,) = wait_for_jobs([record(tenant, user="Use bcrypt for passwords.").job.pk])

    assert job.status == "done", job.error
    assert len(llm_server.requests) >= 2
    assert Memory.objects.get().content == "Passwords are hashed with bcrypt"
