"""Contradictions: recorded as a pair and flagged on both sides, never silently overwritten.

Three sources: the knowledge graph (the same subject and predicate with a different object, for
predicates that hold one value at a time, or a predicate and its negation with the same object),
the extractor (a new memory marked as contradicting an existing one), and state claims
(memory/services/supersession.py). The dashboard lists the open pairs; the older memory stays
until a person resolves it.

A different value is a contradiction only when two processes say it at about the same time
(within ``MEMORI_CONTRADICTION_WINDOW_SECONDS``); a later value from the same process, or long
after, is an update. Memories record the update (supersession); triples carry no validity yet, so
for them an update is simply not a contradiction, and the older edge stays in the graph beside the
newer one.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from memory.models import Contradiction, Entity, Memory, Triple

# Predicates that hold one value at a time: a second, different object contradicts the first.
# Multi-valued ones ("uses", "likes", "knows") do not: a project uses JWT *and* bcrypt.
SINGLE_VALUED_PREDICATES = frozenset(
    {
        "is",
        "is_a",
        "is_an",
        "equals",
        "was",
        "located_in",
        "based_in",
        "lives_in",
        "born_in",
        "due",
        "due_on",
        "due_by",
        "deadline",
        "has_deadline",
        "scheduled_for",
        "costs",
        "has_budget",
        "priced_at",
        "version",
        "has_version",
        "written_in",
        "hosted_on",
        "deployed_to",
        "deployed_on",
        "owned_by",
        "led_by",
        "managed_by",
        "reports_to",
        "married_to",
        "works_at",
        "works_for",
        "has_status",
        "status",
        "named",
        "called",
    }
)
_NEGATIONS = ("does_not_", "do_not_", "did_not_", "not_", "never_", "no_longer_", "is_not_", "are_not_")


def is_single_valued(predicate: str) -> bool:
    return predicate in SINGLE_VALUED_PREDICATES or predicate.endswith("_is")


def negated(predicate: str) -> str | None:
    """'does_not_want' -> 'want' (and 'wants'), as a base to compare with; None when not negated."""
    for prefix in _NEGATIONS:
        if predicate.startswith(prefix):
            return predicate[len(prefix) :]
    return None


def _polar_variants(predicate: str) -> set[str]:
    """Predicates that say the opposite of ``predicate`` about the same object."""
    base = negated(predicate)
    if base is not None:
        return {base, base + "s", base + "es"} - {""}
    stem = predicate[:-2] if predicate.endswith("es") else predicate[:-1] if predicate.endswith("s") else predicate
    return {prefix + form for prefix in _NEGATIONS for form in {predicate, stem}}


def record_new_triple_contradictions(created_ids: set[int]) -> list[int]:
    """Check triples just created (of any entities) against their entity's triples with the same
    subjects, in one query; returns, for each contradiction pair recorded, the created triple's id."""
    if not created_ids:
        return []
    columns = ("pk", "entity_id", "subject_id", "predicate__name", "object_id", "first_process_id", "first_seen_at")
    rows = list(
        Triple.objects.filter(subject_id__in=Triple.objects.filter(pk__in=created_ids).values("subject_id"))
        .values_list(*columns)
        .order_by("pk")
    )
    by_subject: dict[int, list[tuple]] = {}
    for row in rows:
        by_subject.setdefault(row[2], []).append(row)
    recorded: list[int] = []
    seen: set[tuple[int, int]] = set()
    for pk, entity_id, subject, predicate, obj, process, said_at in rows:
        if pk not in created_ids:
            continue
        opposite = _polar_variants(predicate)
        for other, _, _, other_predicate, other_obj, other_process, other_said_at in by_subject[subject]:
            if other == pk:
                continue
            other_value = other_predicate == predicate and other_obj != obj and is_single_valued(predicate)
            clash = (other_value and disagree(process, said_at, other_process, other_said_at)) or (
                other_obj == obj and other_predicate in opposite
            )
            pair = (min(pk, other), max(pk, other))
            if clash and pair not in seen:
                seen.add(pair)
                if record_triple_contradiction(entity_id, *pair, Contradiction.Reason.SAME_SUBJECT_PREDICATE):
                    recorded.append(pk)
    return recorded


def disagree(process_id: int | None, said_at, other_process_id: int | None, other_said_at) -> bool:
    """Two different values are a contradiction when two processes say them at about the same
    time; otherwise the later one is an update."""
    window = timedelta(seconds=settings.MEMORI_CONTRADICTION_WINDOW_SECONDS)
    return process_id != other_process_id and abs(said_at - other_said_at) <= window


def record_triple_contradiction(entity_id: int, older_id: int, newer_id: int, reason: str) -> bool:
    """One Contradiction row per pair (older first) and both triples flagged; False if already known."""
    Triple.objects.filter(pk__in=[older_id, newer_id]).update(is_contradicted=True)
    return _create(entity_id, reason, triple_a_id=older_id, triple_b_id=newer_id)


def record_memory_contradiction(entity: Entity, older_id: int, newer_id: int, reason: str) -> bool:
    if older_id == newer_id or not Memory.objects.filter(pk=older_id, entity=entity).exists():
        return False
    Memory.objects.filter(pk__in=[older_id, newer_id]).update(is_contradicted=True)
    return _create(entity.pk, reason, memory_a_id=older_id, memory_b_id=newer_id)


def record_memory_contradictions(pairs: list[tuple[int, int, int]], reason: str) -> list[tuple[int, int]]:
    """(entity id, older id, newer id) triples of memories of one batch: every side flagged and one
    Contradiction row per pair not known yet (in either order), in three statements; returns the
    (older, newer) pairs recorded now."""
    wanted = {(older, newer): entity_id for entity_id, older, newer in pairs if older != newer}
    if not wanted:
        return []
    ids = sorted({pk for pair in wanted for pk in pair})
    Memory.objects.filter(pk__in=ids).update(is_contradicted=True)
    known = set(
        Contradiction.objects.filter(memory_a_id__in=ids, memory_b_id__in=ids).values_list("memory_a_id", "memory_b_id")
    )
    new = sorted(pair for pair in wanted if pair not in known and pair[::-1] not in known)
    Contradiction.objects.bulk_create(
        [
            Contradiction(entity_id=wanted[pair], reason=reason, memory_a_id=pair[0], memory_b_id=pair[1])
            for pair in new
        ],
        ignore_conflicts=True,
    )
    return new


def _create(entity_id: int, reason: str, **pair) -> bool:
    if Contradiction.objects.filter(**pair).exists():
        return False
    try:
        with transaction.atomic():
            Contradiction.objects.create(entity_id=entity_id, reason=reason, **pair)
    except IntegrityError:
        return False
    return True
