"""Handoff gaps: calls where an agent did not get context another agent had already produced.

A recall (one LLM call) has a gap when, at the moment it ran:

* ``pending`` – other processes' exchanges of the entity were recorded but not augmented yet
  (``RecallEvent.pending_job_ids``). We say whether their raw text was served as pending context.
* ``missed`` – a shared memory contributed by another process existed and was relevant to the query
  but was not in the injected block. Relevance is judged lexically, so an operator can check it by eye:
  the memory shares at least two key words with the query (words of four or more letters that are not
  common words), or all of the query's key words when it has fewer than two.
* ``contradiction`` – two memories from different processes contradicted each other and neither had
  been resolved.

Everything is computed for a bounded list of recall events with a fixed number of queries.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet

from memory.models import AugmentationJob, Contradiction, Entity, Exchange, Memory, RecallEvent, RecallHit

MISSED_CANDIDATES = 1500  # newest shared memories considered per page of calls
MISSED_SHOWN = 3
COMMON_WORDS = frozenset(
    """about above after again against also because been before being below between both could does doing down
    during each from further have having here into itself just more most other over same should some such than
    that their them then there these they this those through under until very what when where which while will
    with would your yours please help based make need want tell know like using used""".split()
)
WORD = re.compile(r"[a-z0-9][a-z0-9_\-]{3,}")


def key_words(text: str) -> frozenset[str]:
    return frozenset(word for word in WORD.findall((text or "").lower()) if word not in COMMON_WORDS)


def words_needed(query_words: frozenset[str]) -> int:
    """A memory is relevant to a query when it shares this many of the query's key words."""
    return 2 if len(query_words) >= 2 else len(query_words)


@dataclass
class GapReason:
    kind: str  # pending | missed | contradiction
    text: str
    other_process: str
    exchange_ids: list[int] = field(default_factory=list)
    session_ids: list[int] = field(default_factory=list)
    memory_ids: list[int] = field(default_factory=list)
    contradiction_id: int | None = None


@dataclass
class HandoffGap:
    event: RecallEvent
    exchange_id: int | None
    session_id: int | None
    reasons: list[GapReason]

    @property
    def kinds(self) -> list[str]:
        return sorted({reason.kind for reason in self.reasons})


ALL_KINDS = ("pending", "missed", "contradiction")


def find_handoff_gaps(events: Sequence[RecallEvent], *, kinds: Sequence[str] = ALL_KINDS) -> list[HandoffGap]:
    """The events of ``events`` that had a gap, in the given order. ``events`` need ``process`` loaded.

    ``kinds`` limits the checks: the overview skips the "missed" check, which reads memory text.
    """
    if not events:
        return []
    event_ids = [event.pk for event in events]
    hits = _hits_by_event(event_ids)
    calls = {
        row["recall_event_id"]: row
        for row in Exchange.objects.filter(recall_event_id__in=event_ids).values("recall_event_id", "id", "session_id")
    }
    jobs = _pending_jobs(events)
    candidates = _missed_candidates(events) if "missed" in kinds else {}
    contradictions = _contradictions(events) if "contradiction" in kinds else {}
    gaps = []
    for event in events:
        reasons = (
            (_pending_reasons(event, jobs) if "pending" in kinds else [])
            + _missed_reasons(event, candidates.get(event.entity_id, MissedCandidates()), hits.get(event.pk, set()))
            + _contradiction_reasons(event, contradictions.get(event.entity_id, []), hits.get(event.pk, set()))
        )
        if reasons:
            call = calls.get(event.pk, {})
            gaps.append(HandoffGap(event, call.get("id"), call.get("session_id") or event.session_id, reasons))
    return gaps


def _hits_by_event(event_ids: list[int]) -> dict[int, set]:
    """Per event, what was injected: memory ids, and ("triple", id) pairs for relations."""
    hits: dict[int, set] = defaultdict(set)
    for event_id, memory_id, triple_id in RecallHit.objects.filter(event_id__in=event_ids).values_list(
        "event_id", "memory_id", "triple_id"
    ):
        hits[event_id].add(memory_id if memory_id else ("triple", triple_id))
    return hits


def _pending_jobs(events: Sequence[RecallEvent]) -> dict[int, dict]:
    job_ids = {job_id for event in events for job_id in (event.pending_job_ids or []) if isinstance(job_id, int)}
    rows = AugmentationJob.objects.filter(pk__in=job_ids).values(
        "id", "status", "finished_at", "exchange_id", "exchange__session_id", "process_id", "process__external_id"
    )
    return {row["id"]: row for row in rows}


def _pending_reasons(event: RecallEvent, jobs: dict[int, dict]) -> list[GapReason]:
    by_process: dict[str, list[dict]] = defaultdict(list)
    for job_id in event.pending_job_ids or []:
        job = jobs.get(job_id)
        if job and job["process_id"] != event.process_id:
            by_process[job["process__external_id"]].append(job)
    reasons = []
    for process, rows in sorted(by_process.items()):
        served = (
            "their raw text was served as pending context, so the agent saw it un-augmented"
            if event.pending_context_served
            else "their text was NOT served (pending context was off or did not fit), so the agent missed it"
        )
        finished = [row["finished_at"] for row in rows if row["finished_at"]]
        later = ""
        if finished:
            seconds = (max(finished) - event.created_at).total_seconds()
            later = f" Augmentation finished {seconds:.1f} s after this call." if seconds > 0 else ""
        count = len(rows)
        reasons.append(
            GapReason(
                kind="pending",
                text=f"{count} exchange{'s' if count != 1 else ''} by {process} had not been augmented yet when "
                f"{event.process.external_id} recalled; {served}.{later}",
                other_process=process,
                exchange_ids=[row["exchange_id"] for row in rows],
                session_ids=[row["exchange__session_id"] for row in rows],
            )
        )
    return reasons


@dataclass
class MissedCandidates:
    """One entity's newest shared memories, with the positions of the rows holding each key word:
    a call is compared with the memories sharing its words, not with all of them."""

    rows: list[dict] = field(default_factory=list)
    rows_with_word: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, row: dict) -> None:
        row["words"] = key_words(row["content"])
        for word in row["words"]:
            self.rows_with_word[word].append(len(self.rows))
        self.rows.append(row)

    def relevant_to(self, query_words: frozenset[str]) -> list[dict]:
        """The rows relevant to the query (`words_needed`), newest first."""
        shared = Counter(position for word in query_words for position in self.rows_with_word.get(word, ()))
        needed = words_needed(query_words)
        return [self.rows[position] for position in sorted(p for p, count in shared.items() if count >= needed)]


def _missed_candidates(events: Sequence[RecallEvent]) -> dict[int, MissedCandidates]:
    latest = max(event.created_at for event in events)
    rows = (
        Memory.objects.filter(
            entity_id__in={event.entity_id for event in events},
            owner_process__isnull=True,
            first_process__isnull=False,
            first_seen_at__lt=latest,
        )
        .order_by("-first_seen_at")
        .values("id", "entity_id", "content", "first_process_id", "first_process__external_id", "first_seen_at")[
            :MISSED_CANDIDATES
        ]
    )
    by_entity: dict[int, MissedCandidates] = defaultdict(MissedCandidates)
    for row in rows:
        by_entity[row["entity_id"]].add(row)
    return by_entity


def _missed_reasons(event: RecallEvent, candidates: MissedCandidates, hit_ids: set[int]) -> list[GapReason]:
    query_words = key_words(event.query)
    if not query_words:
        return []
    missed: dict[str, list[dict]] = defaultdict(list)
    for row in candidates.relevant_to(query_words):
        if (
            row["first_seen_at"] < event.created_at
            and row["first_process_id"] != event.process_id
            and row["id"] not in hit_ids
        ):
            missed[row["first_process__external_id"]].append(row)
    reasons = []
    for process, rows in sorted(missed.items()):
        shown = "; ".join(f"“{row['content'][:90]}”" for row in rows[:MISSED_SHOWN])
        more = f" and {len(rows) - MISSED_SHOWN} more" if len(rows) > MISSED_SHOWN else ""
        reasons.append(
            GapReason(
                kind="missed",
                text=f"{len(rows)} relevant memor{'ies' if len(rows) != 1 else 'y'} from {process} existed but "
                f"{'were' if len(rows) != 1 else 'was'} not injected: {shown}{more}. Relevant means sharing key "
                f"words with the query “{event.query[:80]}”.",
                other_process=process,
                memory_ids=[row["id"] for row in rows[:MISSED_SHOWN]],
            )
        )
    return reasons


def _contradictions(events: Sequence[RecallEvent]) -> dict[int, list[dict]]:
    """Contradictions between two processes, one row per pair of sides (memories or triples)."""
    latest = max(event.created_at for event in events)
    fields = ["id", "entity_id", "detected_at", "resolved_at"]
    for side in ("memory_a", "memory_b", "triple_a", "triple_b"):
        fields += [f"{side}_id", f"{side}__content", f"{side}__first_process_id", f"{side}__first_process__external_id"]
    rows = Contradiction.objects.filter(
        entity_id__in={event.entity_id for event in events}, detected_at__lte=latest
    ).values(*fields)[:200]
    by_entity: dict[int, list[dict]] = defaultdict(list)
    seen: set[tuple] = set()
    for row in rows:
        # A resolved contradiction may have lost one side (deleted); the other still says which kind.
        prefix = "memory" if row["memory_a_id"] or row["memory_b_id"] else "triple"
        sides = [
            {
                "memory_id": row[f"{prefix}_{letter}_id"] if prefix == "memory" else None,
                "content": row[f"{prefix}_{letter}__content"] or "",
                "process_id": row[f"{prefix}_{letter}__first_process_id"],
                "process": row[f"{prefix}_{letter}__first_process__external_id"] or "unknown",
                "hit_key": row[f"{prefix}_{letter}_id"]
                if prefix == "memory"
                else ("triple", row[f"triple_{letter}_id"]),
            }
            for letter in ("a", "b")
        ]
        pair = (row["entity_id"], frozenset(side["content"].lower() for side in sides))
        if sides[0]["process_id"] == sides[1]["process_id"] or pair in seen:
            continue
        seen.add(pair)
        by_entity[row["entity_id"]].append({**row, "sides": sides})
    return by_entity


def _contradiction_reasons(event: RecallEvent, rows: list[dict], hit_ids: set[int]) -> list[GapReason]:
    reasons = []
    for row in rows:
        live = row["detected_at"] <= event.created_at and (
            row["resolved_at"] is None or row["resolved_at"] > event.created_at
        )
        if not live:
            continue
        side_a, side_b = row["sides"]
        injected = [side for side in row["sides"] if side["hit_key"] in hit_ids]
        served = (
            "both sides were injected, so the agent got conflicting context"
            if len(injected) == 2
            else "one side was injected"
            if injected
            else "neither side was injected"
        )
        other = side_b["process"] if side_a["process"] == event.process.external_id else side_a["process"]
        reasons.append(
            GapReason(
                kind="contradiction",
                text=f"Unresolved contradiction between {side_a['process']} (“{side_a['content'][:70]}”) and "
                f"{side_b['process']} (“{side_b['content'][:70]}”); {served}.",
                other_process=other,
                memory_ids=[side["memory_id"] for side in row["sides"] if side["memory_id"]],
                contradiction_id=row["id"],
            )
        )
    return reasons


def recall_events_newest_first(entity: Entity) -> QuerySet[RecallEvent]:
    """The entity's recalls for the Handoff gaps page, newest first (the page paginates them)."""
    return RecallEvent.objects.filter(entity=entity).select_related("process", "entity").order_by("-created_at", "-pk")
