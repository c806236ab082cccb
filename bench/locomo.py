"""LoCoMo evidence recall through the real pipeline: record -> augment -> recall -> provenance.

Each conversation is an entity, each speaker a process, each LoCoMo session a session; every turn
is recorded as one exchange (one user message "<speaker>: <text>", the dia_id kept in
Message.name, the session's original date as its time) and augmented inline with the configured
extractor (`augment_job`, what the Celery task runs). Then, for every question of categories 1-4,
recall with the question text and count it as hit when the provenance of the recalled memories
covers its evidence turns: "any" (at least one evidence turn) and "all" (every evidence turn).

    DATABASE_URL=sqlite:///var/bench-locomo.sqlite3 .venv/bin/python bench/locomo.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memori_locomo .venv/bin/python bench/locomo.py

Options: --reuse (keep an earlier ingest), --conversations N, --budget TOKENS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("DEBUG", "1")
DATA = Path(os.environ.get("LOCOMO_FILE", ROOT.parent / "shared" / "locomo" / "locomo_conv0-4.json"))
TENANT = "locomo-bench"
EVAL_PROCESS = "locomo_questioner"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS = (5, 10, 20)
DIA_ID = re.compile(r"D\d+:\d+")


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def session_time(text: str) -> datetime:
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def sessions_of(conversation: dict):
    numbers = sorted(int(key.split("_")[1]) for key in conversation if re.fullmatch(r"session_\d+", key))
    for number in numbers:
        yield number, session_time(conversation[f"session_{number}_date_time"]), conversation[f"session_{number}"]


def turn_text(turn: dict) -> str:
    text = turn["text"]
    if turn.get("blip_caption"):
        text += f" [shares a photo: {turn['blip_caption']}]"
    return f"{turn['speaker']}: {text}"


def ingest(tenant, samples: list[dict]) -> dict:
    from memory.services.augmentation import augment_job
    from memory.services.recording import ExchangeInput, MessageInput, record_exchange

    started = time.perf_counter()
    turns = 0
    for sample in samples:
        for number, at, turns_of_session in sessions_of(sample["conversation"]):
            session_id = uuid.uuid5(uuid.NAMESPACE_URL, f"locomo/{sample['sample_id']}/session_{number}")
            for offset, turn in enumerate(turns_of_session):
                occurred_at = at + timedelta(seconds=30 * offset)
                recorded = record_exchange(
                    tenant=tenant,
                    data=ExchangeInput(
                        entity_id=sample["sample_id"],
                        process_id=turn["speaker"],
                        session_id=session_id,
                        messages=[MessageInput(role="user", content=turn_text(turn), name=turn["dia_id"])],
                        idempotency_key=f"{sample['sample_id']}/{turn['dia_id']}",
                        occurred_at=occurred_at,
                    ),
                )
                augment_job(recorded.job.pk)
                turns += 1
    return {"turns": turns, "seconds": time.perf_counter() - started}


def evidence_of(question: dict) -> set[str]:
    return set(DIA_ID.findall(" ".join(question.get("evidence", []))))


def covered_turns(items) -> set[str]:
    """dia_ids of the messages the recalled memories were extracted from (their provenance)."""
    from django.db.models import Q

    from memory.models import Provenance

    memory_ids = [item.memory_id for item in items if item.memory_id]
    triple_ids = [item.triple_id for item in items if item.triple_id]
    if not items:
        return set()
    return set(
        Provenance.objects.filter(Q(memory_id__in=memory_ids) | Q(triple_id__in=triple_ids))
        .exclude(message__isnull=True)
        .values_list("message__name", flat=True)
    )


def evaluate(tenant, samples: list[dict], budget: int) -> dict:
    from memory.services.recall import RecallRequest, recall_for_call

    scores = {k: defaultdict(lambda: [0, 0, 0]) for k in KS}  # category -> [any, all, n]
    tokens = {k: [] for k in KS}
    latencies = []
    for sample in samples:
        for question in sample["qa"]:
            category = question.get("category")
            evidence = evidence_of(question)
            if category not in CATEGORIES or not evidence:
                continue
            for k in KS:
                started = time.perf_counter()
                result = recall_for_call(
                    RecallRequest(
                        tenant=tenant,
                        entity_id=sample["sample_id"],
                        process_id=EVAL_PROCESS,
                        query=question["question"],
                        limit=k,
                        token_budget=budget,
                        include_pending=False,
                        record_event=False,
                    )
                )
                latencies.append((time.perf_counter() - started) * 1000)
                covered = covered_turns(result.items)
                for bucket in (category, "all"):
                    row = scores[k][bucket]
                    row[0] += bool(evidence & covered)
                    row[1] += evidence <= covered
                    row[2] += 1
                tokens[k].append(result.token_count)
    return {"scores": scores, "tokens": tokens, "latencies": latencies}


def print_report(ingested: dict | None, counts: dict, report: dict, budget: int) -> None:
    if ingested:
        print(f"ingested {ingested['turns']} turns in {ingested['seconds']:.1f} s (record + augment inline)")
    print(
        f"memories {counts['memories']}, triples {counts['triples']}, provenance rows {counts['provenance']}, "
        f"extractor {counts['extractor']}, embedder {counts['embedder']}"
    )
    print(f"\nEvidence recall through provenance, token budget {budget} (any / all evidence turns covered)")
    header = f"{'category':<14}{'n':>5}" + "".join(
        f"{'@' + str(k) + ' any':>10}{'@' + str(k) + ' all':>10}" for k in KS
    )
    print(header)
    print("-" * len(header))
    for bucket in (*CATEGORIES, "all"):
        name = CATEGORIES.get(bucket, "overall")
        n = report["scores"][KS[0]][bucket][2]
        cells = "".join(
            f"{report['scores'][k][bucket][0] / max(n, 1):>10.3f}{report['scores'][k][bucket][1] / max(n, 1):>10.3f}"
            for k in KS
        )
        print(f"{name:<14}{n:>5}{cells}")
    token_cells = "".join(f"{sum(t) / max(len(t), 1):>20.0f}" for t in (report["tokens"][k] for k in KS))
    print(f"{'mean tokens':<19}{token_cells}")
    lat = sorted(report["latencies"])
    if lat:
        print(
            f"\nrecall_for_call latency (no event recorded): p50 {lat[len(lat) // 2]:.1f} ms, "
            f"p95 {lat[int(len(lat) * 0.95)]:.1f} ms over {len(lat)} recalls"
        )


def apply_ranking_overrides(spec: str) -> None:
    """Measure a ranking variant without editing code: replaces the default RankingConfig."""
    import dataclasses

    from memory.recall import ranking

    if not spec:
        return
    changes = {}
    for pair in spec.split(","):
        name, _, value = pair.partition("=")
        current = getattr(ranking.DEFAULT_CONFIG, name.strip())
        changes[name.strip()] = value if isinstance(current, str) else type(current)(value)
    ranking.DEFAULT_CONFIG = dataclasses.replace(ranking.DEFAULT_CONFIG, **changes)
    print(f"ranking: {ranking.DEFAULT_CONFIG}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="keep an earlier ingest of the same data")
    parser.add_argument("--conversations", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--budget", type=int, default=700, help="token budget per recall (default 700)")
    parser.add_argument("--ranking", default="", help="RankingConfig overrides, e.g. fusion=score,lexical_weight=0.5")
    args = parser.parse_args()
    setup_django()
    apply_ranking_overrides(args.ranking)

    from django.conf import settings

    from memory.embedding import get_embedder
    from memory.models import Entity, Memory, Provenance, Tenant, Triple

    samples = json.loads(DATA.read_text(encoding="utf-8"))[: args.conversations]
    tenant, _ = Tenant.objects.get_or_create(name=TENANT)
    ingested = None
    if not (args.reuse and Entity.objects.filter(tenant=tenant).exists()):
        Entity.objects.filter(tenant=tenant).delete()
        ingested = ingest(tenant, samples)
    counts = {
        "memories": Memory.objects.filter(entity__tenant=tenant).count(),
        "triples": Triple.objects.filter(entity__tenant=tenant).count(),
        "provenance": Provenance.objects.filter(entity__tenant=tenant).count(),
        "extractor": settings.MEMORI_EXTRACTOR,
        "embedder": get_embedder().name,
    }
    report = evaluate(tenant, samples, args.budget)
    print_report(ingested, counts, report, args.budget)


if __name__ == "__main__":
    main()
