"""LoCoMo evidence recall through the real pipeline: record -> augment -> recall -> provenance.

Each conversation is an entity, each speaker a process, each LoCoMo session a session; every turn
is recorded as one exchange (one user message "<speaker>: <text>", the dia_id kept in
Message.name, the session's original date as its time) and augmented inline with the configured
extractor (`job_augment`, what the Celery task runs). Then, for every question of categories 1-4,
recall with the question text and count it as hit when the provenance of the recalled memories
covers its evidence turns: "any" (at least one evidence turn) and "all" (every evidence turn).

    DATABASE_URL=sqlite:///var/bench-locomo.sqlite3 .venv/bin/python bench/locomo.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memori_locomo .venv/bin/python bench/locomo.py

Options: --reuse (keep an earlier ingest), --conversations N, --budget TOKENS.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

from locomo_data import CATEGORIES, DATA, evidence_of, ingest, setup_django

TENANT = "locomo-bench"
EVAL_PROCESS = "locomo_questioner"
KS = (5, 10, 20)


def covered_turns(items) -> set[str]:
    """dia_ids of the messages the recalled memories were extracted from (their provenance), and of
    the recalled episodes' exchanges."""
    from django.db.models import Q

    from memory.models import Episode, Provenance

    memory_ids = [item.memory_id for item in items if item.memory_id]
    triple_ids = [item.triple_id for item in items if item.triple_id]
    episode_ids = [item.episode_id for item in items if getattr(item, "episode_id", None)]
    if not items:
        return set()
    turns = set(
        Provenance.objects.filter(Q(memory_id__in=memory_ids) | Q(triple_id__in=triple_ids))
        .exclude(message__isnull=True)
        .values_list("message__name", flat=True)
    )
    if episode_ids:
        turns |= set(Episode.objects.filter(pk__in=episode_ids).values_list("exchange__messages__name", flat=True))
    return turns


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
