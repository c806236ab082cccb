"""memory/services/batch_storing.py: a batch's mentions move each row's counters once, set-based."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memory.models import Entity, Memory, Process, Triple
from memory.services.batch_storing import Mention, NewMention, mentions_add
from memory.services.storing import memory_mention, triple_mention
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

MARCH_1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _setup(tenant) -> tuple[Entity, Process, Process]:
    record(tenant, process="coder_agent", user="hello")
    record(tenant, process="reviewer_agent", user="hello")
    entity = Entity.objects.get(tenant=tenant, external_id="project_alpha")
    return entity, *(Process.objects.get(tenant=tenant, external_id=name) for name in ("coder_agent", "reviewer_agent"))


def _job(tenant, process: Process) -> int:
    return record(tenant, process=process.external_id, user="fact: something").job.pk


def test_a_batch_counts_every_new_mention_and_keeps_the_latest_time(tenant):
    entity, coder, reviewer = _setup(tenant)
    jwt = memory_mention(entity=entity, kind="fact", content="Our API uses JWT", mention=Mention(coder, MARCH_1)).obj
    redis = memory_mention(
        entity=entity, kind="fact", content="Sessions live in Redis", mention=Mention(coder, MARCH_1)
    )
    later, latest = MARCH_1 + timedelta(hours=1), MARCH_1 + timedelta(hours=2)
    first, second = _job(tenant, reviewer), _job(tenant, coder)

    new = mentions_add(
        [
            NewMention(first, entity, Mention(reviewer, latest, job_id=first), memory_id=jwt.pk),
            NewMention(second, entity, Mention(coder, later, job_id=second), memory_id=jwt.pk),
            NewMention(second, entity, Mention(coder, later, job_id=second), memory_id=redis.obj.pk),
        ],
        retried_job_ids=set(),
    )

    assert len(new) == 3
    counts = dict(Memory.objects.values_list("content", "mention_count"))
    assert counts == {"Our API uses JWT": 3, "Sessions live in Redis": 2}
    assert Memory.objects.get(pk=jwt.pk).last_seen_at == latest
    assert Memory.objects.get(pk=redis.obj.pk).last_seen_at == later
    assert Memory.objects.get(pk=jwt.pk).mentions.count() == 3


def test_an_older_mention_arriving_later_does_not_move_last_seen_back(tenant):
    entity, coder, reviewer = _setup(tenant)
    triple = triple_mention(
        entity=entity, subject="API", predicate="uses", obj="JWT", mention=Mention(coder, MARCH_1)
    ).obj

    mentions_add(
        [NewMention(None, entity, Mention(reviewer, MARCH_1 - timedelta(days=30)), triple_id=triple.pk)],
        retried_job_ids=set(),
    )

    stored = Triple.objects.get(pk=triple.pk)
    assert (stored.mention_count, stored.last_seen_at, stored.first_seen_at) == (2, MARCH_1, MARCH_1)
