"""Handoffs between agents through the whole stack: the real SDK, a real server, a real worker.

Each scenario is a function that takes a running `Stack` (a fresh database, gunicorn and a Celery
worker as `make run` starts them, the `rules` extractor, and the offline OpenAI-compatible model,
which keeps every request it gets) and returns the rows of its table, printed as it ends.

    .venv/bin/python bench/handoffs.py                      # SQLite (the default settings)
    .venv/bin/python bench/handoffs.py --postgres           # PostgreSQL + Redis
    .venv/bin/python bench/handoffs.py --scenarios outage   # some scenarios only

Scenarios:
- `recall_under_import`: an agent calls its model in a loop while another tenant imports 200
  exchanges (`POST /api/v1/exchanges/bulk/`, 20 at a time) and the worker augments them. Client
  latency p50/p95 of the recall (`mem.recall`) and of the whole wrapped call, and calls whose prompt
  got no memory block. Targets: recall p95 <= 250 ms on SQLite, <= 100 ms on PostgreSQL, no empty
  block. The wrapped call also waits (within the recall timeout) for the agent's previous exchange to
  be recorded, so that its next recall has it; on SQLite that write queues behind the import's and
  augmentation's, which is most of the gap between the two columns there.
- `outage`: the memory server goes down (a proxy answering 503) while an agent makes calls, comes
  back, and the agent's next call is made at once: exchanges lost, duplicated, and whether that
  next call saw what the agent said during the outage. Target: 0 lost, 0 duplicated, seen.
- `burst`, `chain`, `update`, `isolation`, `buried_paraphrase`: what reaches the next agent's
  prompt (bench/handoffs_agents.py says how each is played and what it targets).

Each scenario gets a stack of its own (bench/handoffs_stack.py; `BENCH_TMP`,
`BENCH_POSTGRES_DATABASE` and `BENCH_REDIS_URL` say where it writes).

Figures move with the machine's load: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable

from handoffs_agents import buried_paraphrase, burst, chain, isolation, update
from handoffs_stack import Row, Stack, has_memory_block, http_json, latency_rows, timed

# the SDK tests' outage proxy (importing handoffs_stack put the repository on sys.path)
from tests.support.proxy import SwitchableProxy

# -- scenario: recall while another tenant imports ---------------------------------------------
SEED_FINDINGS = {
    "research_agent": "The payment gateway retries failed card charges three times before giving up.",
    "billing_agent": "Refunds for duplicate card charges are issued within five business days.",
    "support_agent": "The customer reported a duplicate card charge on the March invoice.",
    "analysis_agent": "Duplicate charges rose after the payment gateway timeout was lowered to two seconds.",
}
QUERY = "Why was the customer charged twice on their card, and when is the refund issued?"
IMPORTED = 200
IMPORT_CHUNK = 20
IMPORT_ROUNDS = 4  # for enough calls under load to read a p95


def _import_payload(start: int, *, prefix: str) -> dict:
    exchanges = []
    for n in range(start, start + IMPORT_CHUNK):
        exchanges.append(
            {
                "entity_id": f"{prefix}_site_{n % 5}",
                "process_id": f"legacy_agent_{n % 3}",
                "idempotency_key": f"import-{n}-{uuid.uuid4().hex[:8]}",
                "occurred_at": "2025-01-15T10:00:00Z",
                "messages": [
                    {"role": "user", "content": f"Ticket {n}: the warehouse scanner {n} fails to sync at night."},
                    {
                        "role": "assistant",
                        "content": f"The scanner {n} runs firmware 2.{n % 9} and syncs to the Oslo depot. "
                        f"The night shift prefers manual counts for aisle {n % 40}.",
                    },
                ],
            }
        )
    return {"exchanges": exchanges}


def _import_and_augment(stack: Stack, done: threading.Event, stats: dict, round_: int) -> None:
    """Import IMPORTED exchanges (new entities each round) and wait until they are all augmented."""
    started = time.perf_counter()
    job_ids: list[int] = []
    for start in range(0, IMPORTED, IMPORT_CHUNK):
        payload = _import_payload(start, prefix=f"round{round_}")
        answer = http_json("POST", stack.url + "/api/v1/exchanges/bulk/", payload, stack.keys["importer"])
        job_ids += [item["job_id"] for item in answer["results"]]
    stats.setdefault("imported_s", []).append(time.perf_counter() - started)
    while job_ids:
        answer = http_json(
            "GET",
            stack.url + "/api/v1/jobs/?" + urllib.parse.urlencode({"ids": ",".join(map(str, job_ids)), "wait": 5}),
            api_key=stack.keys["importer"],
        )
        job_ids = [job["id"] for job in answer["jobs"] if job["status"] not in ("done", "failed")]
    stats.setdefault("augmented_s", []).append(time.perf_counter() - started)
    done.set()


def recall_under_import(stack: Stack) -> list[Row]:
    name = "recall while 200 exchanges are imported"
    for process, finding in SEED_FINDINGS.items():
        client, mem = stack.agent("customer_42", process)
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": finding}])
        mem.augmentation.wait(timeout=120)
    client, mem = stack.agent("customer_42", "synthesis_agent")
    for _ in range(5):  # warm: the process exists, the index is cached, the key's last use is recent
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": QUERY}])
        mem.recall(QUERY)
    mem.flush()

    def measure(until: Callable[[], bool], pause: float) -> tuple[list[float], list[float], int]:
        recalls, calls, empty = [], [], 0
        while not until():
            elapsed, _ = timed(lambda: mem.recall(QUERY))
            recalls.append(elapsed)
            elapsed, _ = timed(
                lambda: client.chat.completions.create(model="m", messages=[{"role": "user", "content": QUERY}])
            )
            calls.append(elapsed)
            empty += not has_memory_block(stack.llm.received()[-1])
            time.sleep(pause)
        return recalls, calls, empty

    quiet_recalls, quiet_calls, quiet_empty = measure(_after(20), 0.05)
    recalls, calls, empty, stats = [], [], 0, {}
    for round_ in range(IMPORT_ROUNDS):
        done = threading.Event()
        importer = threading.Thread(target=_import_and_augment, args=(stack, done, stats, round_), daemon=True)
        importer.start()
        more = measure(done.is_set, 0.05)
        importer.join()
        recalls, calls, empty = recalls + more[0], calls + more[1], empty + more[2]
    target = 250 if stack.backend == "sqlite" else 100
    return [
        *latency_rows(name, "idle: recall", quiet_recalls, None),
        Row(name, "idle: empty blocks", f"{quiet_empty} of {len(quiet_calls)}"),
        *latency_rows(name, "under import: recall", recalls, target),
        *latency_rows(name, "under import: call (recall + model)", calls, None),
        Row(name, "under import: empty blocks", f"{empty} of {len(calls)}", "0"),
        Row(
            name,
            f"import / augmented, mean of {IMPORT_ROUNDS} rounds (s)",
            f"{statistics.mean(stats['imported_s']):.1f} / {statistics.mean(stats['augmented_s']):.1f}",
        ),
    ]


def _after(count: int) -> Callable[[], bool]:
    calls = iter(range(count + 1))
    return lambda: next(calls) >= count


# -- scenario: an outage of the memory server --------------------------------------------------
OUTAGE_CALLS = 10
OUTAGE_ROUNDS = 3


def _said(stack: Stack, entity: str) -> list[str]:
    """Every user message the server holds for the entity (all its conversations)."""
    key = stack.keys["agents"]
    query = urllib.parse.urlencode({"entity_id": entity, "page_size": 500})
    conversations = http_json("GET", f"{stack.url}/api/v1/conversations/?{query}", api_key=key)["results"]
    said = []
    for conversation in conversations:
        url = f"{stack.url}/api/v1/conversations/{conversation['id']}/messages/?page_size=500"
        said += [m["content"] for m in http_json("GET", url, api_key=key)["results"] if m["role"] == "user"]
    return said


def outage(stack: Stack) -> list[Row]:
    """An agent keeps calling while the server is down (its exchanges are spooled), the server comes
    back, and its next call is made at once: does that call see what the agent said meanwhile (the
    SDK delivers its spool before recalling), and is every exchange stored exactly once?"""
    name = "outage of the memory server"
    proxy = SwitchableProxy(stack.url)
    lost = duplicated = seen = 0
    try:
        for round_ in range(OUTAGE_ROUNDS):
            entity = f"outage_{round_}"
            client, mem = stack.agent(entity, "triage_agent", api_url=proxy.url)

            def ask(text: str, client=client) -> None:
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])

            ask("Hello, I need help with a payment.")
            mem.flush(timeout=30)
            proxy.up = False
            during = [f"Outage note {round_}.{n}: the scanner {n} failed at night." for n in range(OUTAGE_CALLS)]
            for text in during:
                ask(text)
            proxy.up = True
            ask("What did I tell you while you were away?")
            sent = {m.get("content") for m in stack.llm.received()[-1]["messages"]}
            seen += sum(text in sent for text in during)
            mem.flush(timeout=60)
            said = _said(stack, entity)
            lost += sum(said.count(text) == 0 for text in during)
            duplicated += sum(max(0, said.count(text) - 1) for text in during)
    finally:
        proxy.stop()
    total = OUTAGE_CALLS * OUTAGE_ROUNDS
    return [
        Row(name, f"exchanges said during {OUTAGE_ROUNDS} outages", str(total)),
        Row(name, "lost / duplicated", f"{lost} / {duplicated}", "0 / 0"),
        Row(name, "seen by the first call after it", f"{seen} of {total}", f"{total} of {total}"),
    ]


SCENARIOS: dict[str, Callable[[Stack], list[Row]]] = {
    "recall_under_import": recall_under_import,
    "outage": outage,
    "burst": burst,
    "chain": chain,
    "update": update,
    "isolation": isolation,
    "buried_paraphrase": buried_paraphrase,
}


# -- the table ---------------------------------------------------------------------------------
def print_table(backend: str, name: str, rows: list[Row], seconds: float) -> None:
    width = max(len(row.measure) for row in rows)
    scenarios = ", ".join(dict.fromkeys(row.scenario for row in rows))
    print(f"\n== {name}: {scenarios} ({backend}, {seconds:.0f} s, load average {os.getloadavg()[0]:.1f}) ==")
    print(f"{'':<{width}}  {'measured':>22}  target")
    for row in rows:
        print(f"{row.measure:<{width}}  {row.value:>22}  {row.target}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL + Redis instead of SQLite")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated: {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    backend = "postgresql" if args.postgres else "sqlite"
    for name in chosen:
        started = time.perf_counter()
        stack = Stack(backend).start()
        try:
            print_table(backend, name, SCENARIOS[name](stack), time.perf_counter() - started)
        except BaseException:
            for log in ("web.log", "worker.log"):
                print(f"--- {log} (last lines) ---\n{(stack.root / log).read_text(errors='replace')[-3000:]}")
            raise
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
