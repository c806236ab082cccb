"""The scenarios of bench/handoffs.py about what reaches the next agent's prompt.

Every agent is a real `Memori`-wrapped OpenAI client (`Stack.agent`); what reached the model is read
from the offline model's log of requests. An agent's request carries its task and the finding it
reports, phrased as a model would reply it (a self-contained statement: what the `rules` extractor
stores); the offline model adds what it "knows" of the topics the request names
(memori_site/offline_findings.py: the market, competitors, vector databases, pricing, a double
charge...) or a promise to report back. Each scenario returns its rows for the table; loops are
bounded in count, waits in time.

- `burst`: N = 4, 12 and 24 agents each contribute one distinctive finding at the same time, then
  a synthesis agent asks to "Synthesize all research findings into strategic recommendations."
  Findings (and agents with a line) in its prompt without and with `mem.augmentation.wait()` (each
  agent waits for its own exchange before the synthesis starts), and with no worker running (all of
  it served raw); the block's tokens and sections; tasks stored as facts (outside the sections
  quoting exchanges as said); the same recall without episodes (`episodes: false`, API).
  Targets: all N findings (12 of 12 within the default 700-token budget, 24 of 24 agents), 0 tasks.
- `chain`: 6 agents one after the other (a product pipeline), each handing off at once to the
  next: how many of the earlier agents' findings each one's prompt holds (target: all).
- `update`: a fact changed later ("Payments go through Stripe." then "We moved payments to
  Adyen."), by the same agent, and by another agent an hour after a stale value said six times:
  does the next agent see the current value, and is the stale one absent or marked superseded?
- `isolation`: an agent's description of itself (its private attribute), another session's
  conversation, another entity's and another tenant's facts, raw (before augmentation) and
  augmented: leaks into the prompts of those who must not see them (target 0).
- `buried_paraphrase`: about 750 memories of five agents an hour to three days old (imported with
  their original times), then three facts said 15 minutes ago (beyond the handoff window) and
  questions sharing no word with them: whether the default block (700 tokens) holds the fact, its
  rank among recall's results (at most 100, past the relevance threshold), and, scoring every row
  as ranking does but without that threshold, its rank and its cosine to the question.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from handoffs_stack import Row, Stack, ask, block_tokens, memory_block, system_prompt

from tests.support.handoff_agents import PARALLEL_AGENTS, SYNTHESIS_TASK

AUGMENT_TIMEOUT = 300  # seconds an agent's wait() may take
PENDING_HEADING = "## Recent work from other agents, not yet processed into memory"
EPISODES_HEADING = "## From past conversations"
QUOTING = (PENDING_HEADING, EPISODES_HEADING)  # sections quoting exchanges as said, tasks included
LAYOUT = (
    "## Facts, preferences and skills",
    "## Knowledge graph",
    EPISODES_HEADING,
    "## Just added by other agents (recent handoffs)",
    PENDING_HEADING,
)
LAYOUT_LABEL = "facts/graph/episodes/handoffs/raw"


def _request_of(stack: Stack, system: str) -> dict:
    """The last request the model got from the agent whose own system prompt starts with `system`."""
    for request in reversed(stack.llm.received()):
        if system_prompt(request).startswith(system):
            return request
    raise RuntimeError(f"no request from {system!r}")


def sections(block: str) -> dict[str, list[str]]:
    """The block's lines ("- ...") by the heading ("## ...") they are under."""
    parts: dict[str, list[str]] = {}
    heading = ""
    for line in block.splitlines():
        if line.startswith("## "):
            heading = next((known for known in LAYOUT if line.startswith(known)), line)  # "… on 6 December 2026"
        elif line.startswith("- "):
            parts.setdefault(heading, []).append(line)
    return parts


def _found(text: str, markers: list[str]) -> list[str]:
    lowered = text.lower()
    return [marker for marker in markers if marker.lower() in lowered]


def _wait(mem) -> None:
    result = mem.augmentation.wait(timeout=AUGMENT_TIMEOUT)
    if not result.ok:
        raise RuntimeError(f"augmentation failed: {result.failed}")


# -- scenario: a burst of parallel agents, then a synthesis agent ---------------------------------
BURST_AGENTS = PARALLEL_AGENTS  # (process, task, finding, marker), shared with the SDK tests
BURST_SIZES = (4, 12, 24)
SYNTHESIS_SYSTEM = "You are the synthesis agent."
BUDGET = 700  # the server's default MEMORI_RECALL_TOKEN_BUDGET


def _system_of(process: str) -> str:
    return f"You are the {process.replace('_', ' ')}."


def _run_burst(stack: Stack, entity: str, agents: list[tuple], *, wait: bool) -> dict:
    """The agents at once (one thread each), then the synthesis agent; what its prompt held."""
    barrier = threading.Barrier(len(agents))

    def contribute(agent: tuple) -> None:
        process, task, finding, _ = agent
        client, mem = stack.agent(entity, process)
        barrier.wait(timeout=60)
        ask(client, f"{task} {finding}", system=_system_of(process))
        if wait:
            _wait(mem)

    with ThreadPoolExecutor(max_workers=len(agents)) as pool:
        list(pool.map(contribute, agents))
    markers = [agent[3] for agent in agents]
    without_episodes = None
    if wait:  # the same recall without episodes, for comparison (through the API, before the call)
        answer = stack.recall(entity, "synthesis_agent", SYNTHESIS_TASK, episodes=False)
        without_episodes = len(_found(answer["block"], markers))
    client, _ = stack.agent(entity, "synthesis_agent")
    ask(client, SYNTHESIS_TASK, system=SYNTHESIS_SYSTEM)
    request = _request_of(stack, SYNTHESIS_SYSTEM)
    block = memory_block(request)
    parts = sections(block)
    stated = " ".join(" ".join(lines) for heading, lines in parts.items() if heading not in QUOTING).lower()
    return {
        "found": len(_found(system_prompt(request), markers)),
        "agents": sum(_names(block, agent[0]) for agent in agents),
        "raw": len(_found(" ".join(parts.get(PENDING_HEADING, [])), markers)),
        "tokens": block_tokens(block),
        "tasks": sum(agent[1].rstrip(".").lower() in stated for agent in agents),
        "lines": " / ".join(str(len(parts.get(heading, []))) for heading in LAYOUT),
        "without_episodes": without_episodes,
    }


def _names(block: str, process: str) -> bool:
    """Whether a line of the block names `process` as its source ("[a, b]" or "[a, <time>]")."""
    return re.search(rf"[\[ ]{re.escape(process)}[,\]]", block) is not None


def burst(stack: Stack) -> list[Row]:
    name = "burst of parallel agents, then synthesis"
    rows = []
    for size in BURST_SIZES:
        agents = BURST_AGENTS[:size]
        no_wait = _run_burst(stack, f"burst_{size}_nowait", agents, wait=False)
        waited = _run_burst(stack, f"burst_{size}_wait", agents, wait=True)
        with stack.worker_stopped():
            unprocessed = _run_burst(stack, f"burst_{size}_unprocessed", agents, wait=False)
        rows += [
            Row(name, f"N={size}, nothing augmented yet (no worker): findings / agents (raw)",
                f"{unprocessed['found']} / {unprocessed['agents']} of {size} ({unprocessed['raw']})"),
            Row(name, f"N={size}, no wait: findings / agents in prompt (served raw)",
                f"{no_wait['found']} / {no_wait['agents']} of {size} ({no_wait['raw']})", f"{size} / {size}"),
            Row(name, f"N={size}, after wait(): findings / agents in prompt",
                f"{waited['found']} / {waited['agents']} of {size}", f"{size} / {size}"),
            Row(name, f"N={size}: block tokens, no wait / wait()", f"{no_wait['tokens']} / {waited['tokens']}",
                f"<= {BUDGET}"),
            Row(name, f"N={size}: tasks stored as facts in block, no wait / wait()",
                f"{no_wait['tasks']} / {waited['tasks']}", "0 / 0"),
            Row(name, f"N={size}, no wait: lines {LAYOUT_LABEL}", no_wait["lines"]),
            Row(name, f"N={size}, after wait(): lines {LAYOUT_LABEL}", waited["lines"]),
            Row(name, f"N={size}, after wait(): findings, recalled without episodes (API)",
                f"{waited['without_episodes']} of {size}"),
        ]  # fmt: skip
    return rows


# -- scenario: a chain of agents handing off one to the next ---------------------------------------
CHAIN_AGENTS = [
    ("pm_agent", "Write the export requirements.",
     "The export feature must support CSV and Parquet files up to 2 GB.", "Parquet"),
    ("architect_agent", "Design the export service.",
     "The export service streams rows from a read replica in chunks of ten thousand.", "read replica"),
    ("engineer_agent", "Implement the exporter.",
     "The exporter writes its files with the pyarrow library.", "pyarrow"),
    ("reviewer_agent", "Review the exporter.",
     "The exporter leaks a database cursor when a client disconnects.", "cursor"),
    ("qa_agent", "Test the exporter.",
     "The 2 GB export finished in 94 seconds on the staging cluster.", "94 seconds"),
    ("deploy_agent", "Deploy the exporter.",
     "The exporter runs in production behind the export_v2 feature flag.", "export_v2"),
]  # fmt: skip


def _run_chain(stack: Stack, entity: str, *, wait: bool) -> list[int]:
    """Each agent in turn; how many of the earlier agents' findings each one's prompt held."""
    seen = []
    for position, (process, task, finding, _) in enumerate(CHAIN_AGENTS):
        client, mem = stack.agent(entity, process)
        ask(client, f"{task} {finding}", system=_system_of(process))
        earlier = [agent[3] for agent in CHAIN_AGENTS[:position]]
        seen.append(len(_found(system_prompt(_request_of(stack, _system_of(process))), earlier)))
        if wait:
            _wait(mem)
    return seen


def chain(stack: Stack) -> list[Row]:
    name = f"chain of {len(CHAIN_AGENTS)} agents"
    expected = sum(range(len(CHAIN_AGENTS)))
    rows = []
    for wait in (False, True):
        seen = _run_chain(stack, f"chain_{'wait' if wait else 'nowait'}", wait=wait)
        label = "after wait()" if wait else "no wait"
        per_agent = " ".join(f"{n}/{i}" for i, n in enumerate(seen))
        rows += [
            Row(name, f"earlier findings seen, {label}", f"{sum(seen)} of {expected}", f"{expected} of {expected}"),
            Row(name, f"per agent (seen/earlier), {label}", per_agent),
        ]
    return rows


# -- scenario: a fact that changed ---------------------------------------------------------------
STALE, CURRENT = "Payments go through Stripe.", "We moved payments to Adyen."
UPDATE_QUESTION = "Which payment provider handles the refund for order 1042?"
RESTATED = 6  # times the stale value was said before the update, in the "other agent" case


def _exchange(entity: str, process: str, text: str, *, ago: timedelta, task: str = "Report your findings.") -> dict:
    """One exchange for `POST /api/v1/exchanges/bulk/`, said `ago` before now."""
    return {
        "entity_id": entity,
        "process_id": process,
        "idempotency_key": f"bench-{uuid.uuid4().hex}",
        "occurred_at": (datetime.now(UTC) - ago).isoformat(),
        "messages": [{"role": "user", "content": task}, {"role": "assistant", "content": text}],
    }


def _judge_update(stack: Stack, entity: str) -> dict:
    """The next agent asks; is the current value in its prompt, and how do stale lines stand?"""
    client, _ = stack.agent(entity, "support_agent")
    ask(client, UPDATE_QUESTION, system="You are the support agent.")
    block = memory_block(_request_of(stack, "You are the support agent."))
    lines = [line for line in block.splitlines() if line.startswith("- ")]
    # A marked stale line quotes the newer statement ("probably superseded … by X: "… Adyen""), so
    # it names both values: the mark, not the words, tells it from the current line.
    marked = [("superseded" in line or "disputed" in line) for line in lines]
    stale = [
        n for n, line in enumerate(lines) if "stripe" in line.lower() and ("adyen" not in line.lower() or marked[n])
    ]
    current = [n for n, line in enumerate(lines) if "adyen" in line.lower() and not marked[n]]
    stale_at = stale
    return {
        "current": bool(current),
        "stale": len(stale),
        "unmarked": sum(not marked[n] for n in stale),
        "above": bool(current) and (not stale_at or min(current) < min(stale_at)),
    }


def update(stack: Stack) -> list[Row]:
    name = "update (Stripe -> Adyen)"
    rows = []
    for wait in (False, True):
        label = "after wait()" if wait else "no wait"
        # The same agent says the new value a little later.
        entity = f"update_same_{label[:2]}"
        client, mem = stack.agent(entity, "billing_agent")
        ask(client, f"Check the payment setup. {STALE}", system="You are the billing agent.")
        _wait(mem)
        ask(client, f"Check the payment setup again. {CURRENT}", system="You are the billing agent.")
        if wait:
            _wait(mem)
        same = _judge_update(stack, entity)
        # Another agent changes a value said six times an hour ago.
        entity = f"update_other_{label[:2]}"
        old = [_exchange(entity, "billing_agent", STALE, ago=timedelta(hours=2, minutes=n)) for n in range(RESTATED)]
        stack.wait_for_jobs(stack.import_exchanges(old))
        client, mem = stack.agent(entity, "finance_agent")
        ask(client, f"Check the payment setup. {CURRENT}", system="You are the finance agent.")
        if wait:
            _wait(mem)
        other = _judge_update(stack, entity)
        for case, judged in (("same agent", same), (f"other agent, stale said {RESTATED}x", other)):
            rows += [
                Row(name, f"{case}, {label}: current value in prompt, above stale",
                    f"{'yes' if judged['current'] else 'NO'}, {'yes' if judged['above'] else 'no'}", "yes, yes"),
                Row(name, f"{case}, {label}: stale lines (unmarked)", f"{judged['stale']} ({judged['unmarked']})",
                    "(0)"),
            ]  # fmt: skip
    return rows


# -- scenario: what must never reach another agent -----------------------------------------------
SELF_DESCRIPTION = (
    "I am the billing agent for this account and I handle refunds. The customer was charged twice for "
    "order 1042. As the account's billing specialist, I review every chargeback."
)
PRIVATE = ["billing agent for this account", "refunds", "billing specialist", "chargeback"]
SHARED_PART = "charged twice for order 1042"
SESSION_TURNS = [  # a conversation of questions only: nothing in it is shared memory
    {"role": "user", "content": "Can you look up whether the Globex invoice 7781 was paid?"},
    {"role": "assistant", "content": "Which month was the Globex invoice 7781 issued in?"},
]
ENTITY_FACT, ENTITY_MARKERS = "The customer's card ends in 5678 and the customer lives in Lisbon.", ["5678", "Lisbon"]
TENANT_FACT, TENANT_MARKERS = (
    "The Initech contract renews on the ninth of September.",
    ["Initech", "ninth of September"],
)
# What the askers say holds none of the markers (their replies are recorded and shared in turn).
ASK_ACCOUNT = "What happened with order 1042, and what else do we know about this account?"
ASK_SESSION = "Which invoice was somebody asking about earlier?"
ASK_ELSEWHERE = "Where does the customer live, which card do they use, and when does the contract renew?"
ASK_OWN = "What is my role on this account?"


def _seen_by(stack: Stack, entity: str, process: str, question: str, markers: list[str], *, session=None) -> int:
    """An agent asks `question`; how many of `markers` reached its model besides its own question."""
    client, mem = stack.agent(entity, process)
    if session is not None:
        mem.set_session(session)
        mem.new_session()  # the same process, a new conversation
    system = f"You are the {process.replace('_', ' ')} ({uuid.uuid4().hex[:6]})."
    ask(client, question, system=system)
    request = _request_of(stack, system)
    sent = " ".join(str(m.get("content")) for m in request["messages"][:-1])
    return len(_found(sent, markers))


def _record_private_and_foreign(stack: Stack, entity: str) -> str:
    """A self-description, a session's conversation, another entity's and another tenant's facts;
    returns the conversation's session."""
    said = {
        (entity, "billing_agent", "agents"): [{"role": "user", "content": "Look into order 1042."},
                                             {"role": "assistant", "content": SELF_DESCRIPTION}],
        (entity, "triage_agent", "agents"): SESSION_TURNS,
        (f"{entity}_other", "billing_agent", "agents"): [{"role": "user", "content": "Note the card."},
                                                        {"role": "assistant", "content": ENTITY_FACT}],
        (entity, "billing_agent", "importer"): [{"role": "user", "content": "Note the renewal."},
                                               {"role": "assistant", "content": TENANT_FACT}],
    }  # fmt: skip
    session = ""
    for (where, process, tenant), messages in said.items():
        _, mem = stack.agent(where, process, tenant=tenant)
        mem.record(messages)
        if not mem.flush(timeout=60):
            raise RuntimeError("the server did not take the exchanges")
        session = mem.session_id if process == "triage_agent" else session
    return session


def _leaks(stack: Stack, entity: str, session: str) -> dict[str, list[int]]:
    """Each kind of leak: how many markers each check found where they must not be."""
    return {
        "attributes": [_seen_by(stack, entity, p, ASK_ACCOUNT, PRIVATE) for p in ("support_agent", "triage_agent")],
        "session": [
            _seen_by(stack, entity, "support_agent", ASK_SESSION, ["7781"]),
            _seen_by(stack, entity, "triage_agent", ASK_SESSION, ["7781"], session=session),
        ],
        "entity": [_seen_by(stack, entity, "support_agent", ASK_ELSEWHERE, ENTITY_MARKERS)],
        "tenant": [_seen_by(stack, entity, "support_agent", ASK_ELSEWHERE, TENANT_MARKERS)],
    }


def isolation(stack: Stack) -> list[Row]:
    """First with no worker running (everything pending, served raw), then once augmented."""
    name = "isolation"
    entity = "isolation"
    with stack.worker_stopped():
        session = _record_private_and_foreign(stack, entity)
        raw = _leaks(stack, entity, session)
        shared_raw = _seen_by(stack, entity, "support_agent", ASK_ACCOUNT, [SHARED_PART])
    stack.wait_for_agents()
    augmented = _leaks(stack, entity, session)
    shared = _seen_by(stack, entity, "support_agent", ASK_ACCOUNT, [SHARED_PART])
    own = _seen_by(stack, entity, "billing_agent", ASK_OWN, ["refunds"])
    labels = {
        "attributes": "another agent's self-description",
        "session": "another session's conversation",
        "entity": "another entity's facts",
        "tenant": "another tenant's facts (same entity id)",
    }
    rows = [
        Row(name, f"leaks of {label}, raw / augmented",
            f"{sum(map(bool, raw[kind]))} / {sum(map(bool, augmented[kind]))} of {len(raw[kind])}", "0 / 0")
        for kind, label in labels.items()
    ]  # fmt: skip
    rows += [
        Row(name, "the self-description's shared statement reached others, raw / augmented",
            f"{'yes' if shared_raw else 'NO'} / {'yes' if shared else 'NO'}", "yes / yes"),
        Row(name, "its agent recalls its own attribute (augmented)", "yes" if own else "NO", "yes"),
    ]  # fmt: skip
    return rows


# -- scenario: a recent fact buried under older memories, asked in other words ------------------
BURIED_AGENTS = ("ops_agent", "sales_agent", "people_agent", "finance_agent", "product_agent")
BURIED_EXCHANGES = 150  # each stating up to five facts: about 750 memories once augmented
PARAPHRASES = [  # (process, fact said 15 minutes ago, marker, a question sharing no word with it)
    ("ops_agent", "Checkout latency doubled after the CDN provider changed its Frankfurt edge.", "Frankfurt edge",
     "Why did paying become slower for shoppers in Germany?"),
    ("people_agent", "Priya Raman handed in her resignation from the platform team.", "Priya",
     "Is anyone leaving our engineers?"),
    ("finance_agent", "The auditors flagged 14 duplicate vendor payments in the October ledger.", "auditors",
     "Did the accountants find money we paid twice?"),
]  # fmt: skip
_WORDS = {
    "system": "billing search inventory checkout ledger analytics reporting identity messaging storage gateway "
    "scheduler notification catalog pricing shipping".split(),
    "city": "Oslo Lima Dublin Austin Osaka Madrid Denver Lagos Seoul Porto Munich Hamburg Toronto Nairobi".split(),
    "company": "Acme Globex Umbrella Hooli Vandelay Stark Wayne Wonka Soylent Cyberdyne Tyrell Gringotts".split(),
    "product": "Analytics Search Vault Pulse Beacon Atlas Forge Harbor Prism Relay".split(),
    "month": "January February March April May June July August September October November December".split(),
    "team": "platform mobile data design growth security infrastructure support".split(),
    "name": "Ana Bruno Chen Dara Eitan Femi Goran Hana Ivo Jana Kofi Lena Milo Nora Omar Pia".split(),
    "role": "designer analyst engineer recruiter manager writer".split(),
    "feature": "export dashboard webhook onboarding audit-log sharing offline-mode search-filters".split(),
}
_TEMPLATES = {
    "ops_agent": [
        "The {system} cluster in {city} runs {n} nodes on version {v}.",
        "The {system} service restarts every {n} hours because of a memory leak in version {v}.",
        "Disk usage of the {system} database in {city} reached {n} percent.",
        "The {system} queue in {city} holds about {n} thousand messages at peak.",
    ],
    "sales_agent": [
        "{company} renewed its {product} licence for {n} seats in {month}.",
        "{company} asked for a discount of {n} percent on {product}.",
        "The {city} office of {company} evaluates {product} until {month}.",
        "{company} churned from {product} after {n} months.",
    ],
    "people_agent": [
        "{name} joined the {team} team as a {role} in {month}.",
        "The {team} team has {n} open positions for a {role}.",
        "{name} moved from the {team} team to the {city} office.",
        "The {team} team offsite takes place in {city} in {month}.",
    ],
    "finance_agent": [
        "The {team} budget for {month} is {n} thousand euros.",
        "{company} paid invoice {n} for {product} in {month}.",
        "Travel costs of the {team} team rose by {n} percent in {month}.",
        "The {system} hosting bill was {n} hundred dollars in {month}.",
    ],
    "product_agent": [
        "The {feature} feature shipped in release {v} with {n} open bugs.",
        "Users of {product} open the {feature} screen {n} times a week on average.",
        "The {feature} redesign is planned for {month} in {product}.",
        "Release {v} of {product} removed the old {feature} settings.",
    ],
}


def _buried_history(entity: str, rng: random.Random) -> list[dict]:
    exchanges = []
    for n in range(BURIED_EXCHANGES):
        process = BURIED_AGENTS[n % len(BURIED_AGENTS)]
        facts = []
        for template in rng.sample(_TEMPLATES[process], k=4) + [rng.choice(_TEMPLATES[process])]:
            words = {key: rng.choice(values) for key, values in _WORDS.items()}
            facts.append(template.format(**words, n=rng.randint(2, 990), v=f"{rng.randint(1, 9)}.{rng.randint(0, 40)}"))
        ago = timedelta(hours=1, minutes=5) + timedelta(minutes=rng.randint(0, 3 * 24 * 60))
        exchanges.append(_exchange(entity, process, " ".join(dict.fromkeys(facts)), ago=ago))
    return exchanges


def buried_paraphrase(stack: Stack) -> list[Row]:
    from memory.recall.text import tokenize

    name = "buried paraphrase"
    entity = "buried"
    started = time.perf_counter()
    stack.wait_for_jobs(stack.import_exchanges(_buried_history(entity, random.Random(14))), timeout=900)
    older = stack.memory_count(entity)
    recent = [_exchange(entity, process, fact, ago=timedelta(minutes=15)) for process, fact, _, _ in PARAPHRASES]
    stack.wait_for_jobs(stack.import_exchanges(recent))
    rows = [
        Row(name, "older memories of five agents (1 h to 3 days old)", str(older), "~750"),
        Row(name, "import and augmentation (s)", f"{time.perf_counter() - started:.0f}"),
    ]
    ungated = _ungated_ranks(stack, entity, [(marker, question) for _, _, marker, question in PARAPHRASES])
    for (process, fact, marker, question), diagnosis in zip(PARAPHRASES, ungated, strict=True):
        shared = set(tokenize(fact)) & set(tokenize(question))
        if shared:
            raise RuntimeError(f"the question shares {shared} with the fact")
        client, _ = stack.agent(entity, "support_agent")
        ask(client, question, system="You are the support agent.")
        block = memory_block(_request_of(stack, "You are the support agent."))
        items = stack.recall(entity, "support_agent", question, limit=100, token_budget=30_000)["items"]
        rank = next((n for n, item in enumerate(items, 1) if marker.lower() in item["content"].lower()), None)
        rows += [
            Row(name, f"{process}'s fact: in the default block; rank in recall's results",
                f"{'yes' if marker.lower() in block.lower() else 'no'}; {rank or 'not in'} of {len(items)}", "yes"),
            Row(name, f"{process}'s fact: cosine to the question; rank by score of all rows",
                f"{diagnosis['dense']:.2f}; {diagnosis['rank']} of {diagnosis['rows']}"),
        ]  # fmt: skip
    return rows


# Run by `manage.py shell` on the stack's database: the fact's place when every row is scored as
# ranking scores it (fresh-findings prior included), the relevance threshold aside (a row without a
# shared word needs a cosine of `min_dense`), and its cosine to the question.
_UNGATED = """
import json
import numpy as np
from memory.embedding import get_embedder
from memory.models import Entity
from memory.recall.index import IndexKey, recall_cache
from memory.recall.ranking import scores_of
from memory.recall.recent import fresh_findings
import time
entity = Entity.objects.get(external_id=ENTITY, tenant__name="agents")
embedder = get_embedder()
index = recall_cache().get(IndexKey(entity.pk, entity.created_at, entity.memory_version, embedder.name))
rows = np.flatnonzero(index.allowed_for(None))
found = []
for marker, question in PAIRS:
    vector = embedder.embed([question])[0]
    fresh = fresh_findings(index, caller_process_id=None, now=time.time())
    dense, _, fused = scores_of(index, rows, query=question, query_vector=vector, caller_process_id=None, fresh=fresh)
    order = np.argsort(-fused, kind="stable")
    place = next(n for n, i in enumerate(order) if marker.lower() in index.contents[rows[i]].lower())
    found.append({"rank": place + 1, "rows": int(rows.size), "dense": float(dense[order[place]])})
print(json.dumps(found))
"""


def _ungated_ranks(stack: Stack, entity: str, pairs: list[tuple[str, str]]) -> list[dict]:
    code = f"ENTITY = {entity!r}\nPAIRS = {pairs!r}\n{_UNGATED}"
    return json.loads(stack.manage("shell", "-c", code).strip().splitlines()[-1])
