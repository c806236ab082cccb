"""A real Celery worker (subprocess) dedups across processes, across scripts and under concurrency."""

from __future__ import annotations

import threading

import pytest

from memory.models import Memory, Provenance, Triple
from tests.support.exchanges import record, wait_for_jobs
from tests.support.worker import running_workers

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LINES = "tests.support.extractors.LineExtractor"


@pytest.fixture
def workers(django_db_setup):
    with running_workers() as pool:
        yield pool


def test_the_same_fact_from_three_processes_is_one_memory_with_every_contributor(tenant, workers):
    workers.start(MEMORI_EXTRACTOR=LINES)
    jobs = [
        record(tenant, process=process, user=f"fact: {text}\ntriple: API | uses | JWT").job.pk
        for process, text in [
            ("coder_agent", "Our API uses JWT tokens"),
            ("reviewer_agent", "our API uses JWT tokens."),
            ("deployer_agent", "The API uses JWT token"),  # a near-duplicate, merged by embedding
        ]
    ]

    done = wait_for_jobs(jobs)

    assert [job.status for job in done] == ["done"] * 3
    memory = Memory.objects.get(kind="fact")
    assert memory.mention_count == 3
    contributors = set(memory.mentions.values_list("process__external_id", flat=True))
    assert contributors == {"coder_agent", "reviewer_agent", "deployer_agent"}
    assert Triple.objects.get().mention_count == 3


def test_unicode_facts_are_deduplicated_without_being_collapsed(tenant, workers):
    workers.start(MEMORI_EXTRACTOR=LINES)
    facts = [
        "我们的数据库是PostgreSQL",
        "我们的缓存是Redis",
        "项目截止日期是周五",
        "项目截止日期是周一",
        "Наш API использует JWT токены",
        "Наш API использует OAuth токены",
        "Мы используем PostgreSQL",
        "Мы используем MySQL",
    ]
    first = record(tenant, process="agent_a", user="\n".join(f"fact: {fact}" for fact in facts)).job.pk
    wait_for_jobs([first])
    again = record(
        tenant, process="agent_b", user="fact: 我们的缓存是Redis\nfact: НАШ API использует JWT токены"
    ).job.pk
    wait_for_jobs([again])

    assert sorted(Memory.objects.values_list("content", flat=True)) == sorted(facts)
    assert Memory.objects.get(content="我们的缓存是Redis").mention_count == 2
    assert Memory.objects.get(content="Наш API использует JWT токены").mention_count == 2


def test_two_workers_storing_the_same_facts_at_once_make_one_memory_per_fact(tenant, workers):
    workers.start(MEMORI_EXTRACTOR=LINES)
    workers.start(MEMORI_EXTRACTOR=LINES)
    facts = [f"fact: Service {name} runs on port {port}" for name, port in [("api", 8000), ("web", 3000), ("db", 5432)]]
    body = "\n".join(facts + ["triple: API | depends_on | PostgreSQL"])
    job_ids: list[int] = []
    lock = threading.Lock()

    def agent(n: int) -> None:
        from django.db import connection

        try:
            job = record(tenant, process=f"agent_{n}", user=body).job
            with lock:
                job_ids.append(job.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = wait_for_jobs(job_ids)

    assert all(job.status == "done" for job in done), [(job.status, job.error) for job in done]
    assert Memory.objects.count() == 3 and Triple.objects.count() == 1
    assert sorted(Memory.objects.values_list("mention_count", flat=True)) == [8, 8, 8]
    assert Provenance.objects.filter(memory__isnull=False).count() == 24
    assert Provenance.objects.values("process").distinct().count() == 8
