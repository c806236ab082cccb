"""Episodes in recall: a past exchange, as it was said, answers what no memory holds.

Exchanges are recorded and augmented as the worker does (`job_augment`) with the test line
extractor, so the memories are exactly the test's "fact:" lines and everything else is only in the
exchange's episode.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from memory.models import Episode, RecallHit
from memory.recall.block import HEADINGS, SECTION_EPISODES
from memory.services import dedup
from memory.services.augmentation import job_augment
from memory.services.recall import RecallRequest, recall_for_call
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

SAID = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
PAINTING = "Caroline: Here is my new painting! [shares a photo: a sunset over a lake with purple clouds]"
NOTES = [
    "fact: Caroline joined a support group in May",
    "fact: Melanie runs a pottery class on Saturdays",
    "fact: Caroline is studying to become a counselor",
    "fact: Melanie has two kids who love camping",
]


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"
    settings.MEMORI_RECALL_EPISODES = True


def say(tenant, text: str, *, entity="conv-26", process="Caroline", session_id=None, occurred_at=SAID):
    recorded = record(tenant, entity=entity, process=process, user=text, session_id=session_id, occurred_at=occurred_at)
    job_augment(recorded.job.pk)
    return recorded


def recall(tenant, query: str, *, entity="conv-26", process="questioner", **options):
    return recall_for_call(RecallRequest(tenant=tenant, entity_id=entity, process_id=process, query=query, **options))


def episode_items(result) -> list[str]:
    return [item.content for item in result.items if item.kind == "episode"]


def test_an_exchange_answers_a_question_no_memory_holds_with_its_date_and_speaker(tenant):
    for note in NOTES:
        say(tenant, note, occurred_at=datetime(2023, 6, 1, tzinfo=UTC))
    say(tenant, PAINTING)

    result = recall(tenant, "What colour were the clouds in Caroline's painting?")

    assert f"- [8 May 2023] {PAINTING}" in result.block.splitlines()
    assert HEADINGS[SECTION_EPISODES] in result.block
    item = next(item for item in result.items if item.kind == "episode")
    assert item.content == PAINTING and item.processes == ["Caroline"]
    assert item.episode_id == Episode.objects.get(content=PAINTING).pk and item.memory_id is None
    hit = RecallHit.objects.get(event_id=result.event_id, episode_id=item.episode_id)
    assert hit.kind == "episode" and hit.content == PAINTING and hit.memory_id is None


def test_a_line_says_which_process_said_it_unless_its_speaker_does(tenant):
    say(tenant, "The staging database moved to eu-west-3 last night.", entity="project_alpha", process="ops_agent")

    block = recall(tenant, "Where is the staging database?", entity="project_alpha").block

    assert "- [8 May 2023] user: The staging database moved to eu-west-3 last night. [ops_agent]" in block


def test_another_entitys_exchanges_are_never_recalled(tenant, other_tenant):
    say(tenant, PAINTING)
    say(other_tenant, PAINTING)
    say(tenant, "fact: Melanie runs a pottery class on Saturdays", entity="conv-30")

    assert episode_items(recall(tenant, "Caroline's painting clouds", entity="conv-30")) == []
    assert episode_items(recall(other_tenant, "Caroline's painting clouds")) == [PAINTING]
    assert len(episode_items(recall(tenant, "Caroline's painting clouds"))) == 1


def test_the_callers_own_session_is_not_served_back_as_an_episode(tenant):
    session = uuid.uuid4()
    say(tenant, "The staging database moved to eu-west-3.", entity="project_alpha", process="coder", session_id=session)

    def recalled(**options):
        return episode_items(recall(tenant, "staging database", entity="project_alpha", **options))

    assert recalled(process="coder", session_id=str(session)) == []
    assert recalled(process="coder", session_id=str(uuid.uuid4())) == ["user: The staging database moved to eu-west-3."]
    assert recalled(process="coder") == ["user: The staging database moved to eu-west-3."]
    assert recalled(process="reviewer", session_id=str(session)) == ["user: The staging database moved to eu-west-3."]


def test_episodes_can_be_switched_off_by_setting_and_per_call(tenant, settings):
    say(tenant, PAINTING)
    question = "What colour were the clouds in Caroline's painting?"

    assert episode_items(recall(tenant, question, episodes=False)) == []
    settings.MEMORI_RECALL_EPISODES = False
    off = recall(tenant, question)
    assert episode_items(off) == [] and "purple" not in off.block
    assert episode_items(recall(tenant, question, episodes=True)) == [PAINTING]


def test_an_episode_a_memory_above_it_already_tells_is_left_out(tenant):
    say(tenant, "fact: The deploy runs on Fridays at noon")
    say(tenant, "The deploy runs on Fridays at noon.", process="ops_agent")

    result = recall(tenant, "When does the deploy run?")

    assert [item.kind for item in result.items] == ["fact"]
    assert HEADINGS[SECTION_EPISODES] not in result.block


def test_an_episode_ranked_above_the_memory_that_tells_it_is_left_out_when_that_memory_fits(tenant):
    say(tenant, "fact: Caroline painted the fence of the lake house green", process="Melanie")
    say(tenant, "Caroline painted the fence of the lake house green on Sunday.")
    question = "What did Caroline paint green on Sunday?"
    assert [item.kind for item in recall(tenant, question, limit=1).items] == ["episode"]  # it ranks first

    result = recall(tenant, question)

    assert [item.kind for item in result.items] == ["fact"]
    assert HEADINGS[SECTION_EPISODES] not in result.block and "on Sunday" not in result.block


def test_an_episode_is_kept_when_the_memory_that_tells_it_does_not_fit(tenant):
    say(tenant, "fact: Caroline painted the fence of the lake house green", process="Melanie")
    say(tenant, "Caroline painted the fence of the lake house green on Sunday.")

    result = recall(tenant, "What did Caroline paint green on Sunday?", limit=1)

    assert [item.kind for item in result.items] == ["episode"]


def test_a_memory_wins_a_tie_with_an_episode(tenant):
    say(tenant, "Caroline adopted a rescue dog named Oscar.")
    say(tenant, "fact: Caroline adopted a rescue dog named Oscar.", process="Melanie")

    result = recall(tenant, "Caroline adopted a rescue dog named Oscar.")

    assert result.items[0].kind == "fact"


def test_episodes_take_at_most_their_share_of_the_budget(tenant, settings):
    for number in range(12):
        say(tenant, f"Caroline: I painted lake number {number} with purple clouds and a pine forest around it.")
    settings.MEMORI_RECALL_EPISODE_SHARE = 0.25

    result = recall(tenant, "purple clouds lake painting", token_budget=700)

    episode_lines = [line for line in result.block.splitlines() if "pine forest" in line]
    assert 1 <= len(episode_lines) < 12 and len(episode_items(result)) == len(episode_lines)
    assert result.token_count <= 700


def test_a_warm_recall_with_episodes_reads_the_database_twice(tenant, django_assert_max_num_queries):
    for note in NOTES:
        say(tenant, note)
    say(tenant, PAINTING)
    recall(tenant, "Caroline's painting", process="coder")  # warm the cache

    with django_assert_max_num_queries(7):  # as test_recall.py's warm recall: entity, provenance, event
        result = recall(tenant, "Caroline's painting", process="coder")

    assert episode_items(result) and result.event_id


def test_a_new_exchange_is_recalled_by_the_next_recall(tenant):
    say(tenant, "fact: Melanie runs a pottery class on Saturdays")
    assert episode_items(recall(tenant, "Caroline's painting clouds")) == []  # the index is cached

    say(tenant, PAINTING)

    assert episode_items(recall(tenant, "Caroline's painting clouds")) == [PAINTING]


def test_an_exchange_whose_statement_was_superseded_says_so_below_the_current_memory(tenant):
    for text, claim, at in (
        ("Payments go through Stripe", "go_through | Stripe", datetime(2026, 3, 5, tzinfo=UTC)),
        ("We moved payments to Adyen", "* | Adyen", datetime(2026, 3, 12, tzinfo=UTC)),
    ):
        recorded = record(
            tenant,
            entity="customer_42",
            process="billing_agent",
            user=f"Checked the payment setup of the Berlin shop. {text}.",
            assistant=f"fact: {text}\nclaim: payments | {claim} | name",  # what the line extractor reads
            occurred_at=at,
        )
        job_augment(recorded.job.pk)

    result = recall(tenant, "Which payment provider do we use?", entity="customer_42", episodes=True)

    stale = [line for line in result.block.splitlines() if "Stripe" in line and "Adyen" not in line]
    assert stale and all("(superseded 12 March 2026" in line for line in stale), result.block
    contents = [item.content for item in result.items]
    stale_episode = next(
        i for i, item in enumerate(result.items) if item.kind == "episode" and "Stripe" in item.content
    )
    assert contents.index("We moved payments to Adyen") < stale_episode
