"""`load_demo_activity` fills the demo tenant through the real SDK: every dashboard page has data."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from dashboard.queries.gaps import find_handoff_gaps
from memori_site.offline_llm import OfflineLLM
from memory.models import Contradiction, Entity, Exchange, RecallEvent
from tests.support.worker import running_workers

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(transactional_db):
    with running_workers() as pool:
        yield pool.start()


def test_the_demo_runs_the_seed_use_cases_and_leaves_gaps_and_a_contradiction(live_server, worker, capsys):
    llm = OfflineLLM().start()
    try:
        call_command("load_demo_activity", url=live_server.url, llm_url=llm.base_url)
    finally:
        llm.stop()

    entities = set(Entity.objects.filter(tenant__name="demo").values_list("external_id", flat=True))
    assert {"project_alpha", "customer_456", "repo_myapp", "new_feature", "customer_789"} <= entities
    assert Exchange.objects.filter(entity__tenant__name="demo", recall_event__isnull=False).exists()
    assert Contradiction.objects.filter(entity__external_id="customer_456").exists()
    events = list(RecallEvent.objects.filter(entity__tenant__name="demo").select_related("process"))
    kinds = {kind for gap in find_handoff_gaps(events) for kind in gap.kinds}
    assert {"pending", "contradiction"} <= kinds
    assert "Demo activity loaded" in capsys.readouterr().out
