"""Supersession: a memory that states another value of the same claim replaces the older one.

"Payments go through Stripe", later "we moved payments to Adyen": both claim the value of
(payments, go_through). The later one is current; the earlier one keeps its history, closed by a
validity interval (``valid_to`` = when the newer one was said) and a ``superseded_by`` link, with an
audit entry. Nothing is deleted, and an operator can undo it (memory/services/supersession_undo.py).

Two claims conflict when they are about the same entity and normalized subject, in the same scope
(shared kinds across processes; an attribute only within its owner process), of the same value
type, with the same attribute (or either is the change statement "*"), and different values. Of two
conflicting claims, the one said later (``valid_from``; in one batch, job order then message order)
supersedes the other, except when two *different* processes said them within
``MEMORI_CONTRADICTION_WINDOW_SECONDS`` of each other: agents disagreeing at the same time is a
contradiction (memory/services/contradictions.py), for a person to resolve, not an update.

History may arrive out of order (an import of old exchanges): a claim older than the current one is
stored already superseded by the earliest later claim, and takes over the older claims whose
validity it falls inside. Only claims stored by this batch are compared (with each other, in order,
and with the entity's current claims of their subjects and those the current ones superseded), so a
supersession an operator undid is not redone until a new claim comes.

A superseded memory said again after it was superseded ("Stripe", then "Adyen", then the same
"Payments go through Stripe" again) is current again and supersedes what replaced it. It keeps its
``valid_from`` (when it was first said), so for the "as of" view its validity then overlaps the
interval of the value it had replaced: one row holds one interval.

Set-based: the batch's claims cost at most three reads (memories said again, the current claims of
their subjects and, only for claims older than a current one, what those superseded) and three
writes (validity, contradictions, audit entries), whatever the batch's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import Q

from memory.extraction.normalize import normalize_node_name, normalize_predicate
from memory.extraction.types import StateClaim
from memory.models import AuditEntry, Contradiction, Memory
from memory.services import contradictions

ANY_ATTRIBUTE = "*"
VALUE_TYPES = frozenset({"date", "money", "number", "name", "place", "other"})
ACTOR_LABEL = "system:supersession"
MAX_SUBJECT_CHARS = 200
MAX_ATTRIBUTE_CHARS = 100
MAX_VALUE_CHARS = 300


@dataclass(frozen=True)
class ClaimColumns:
    """A claim as stored on a memory: subject and attribute normalized, the value as written."""

    subject: str = ""
    attribute: str = ""
    value: str = ""
    value_type: str = ""

    @classmethod
    def of(cls, claim: StateClaim | None) -> ClaimColumns:
        """The columns of an extractor's claim; empty (no claim) when a part is missing."""
        if claim is None:
            return cls()
        subject = normalize_node_name(claim.subject or "")[:MAX_SUBJECT_CHARS]
        raw_attribute = (claim.attribute or "").strip()
        attribute = ANY_ATTRIBUTE if raw_attribute == ANY_ATTRIBUTE else normalize_predicate(raw_attribute)
        value = " ".join((claim.value or "").split())[:MAX_VALUE_CHARS]
        value_type = (claim.value_type or "other").strip().lower()
        if not (subject and attribute and value):
            return cls()
        value_type = value_type if value_type in VALUE_TYPES else "other"
        return cls(subject, attribute[:MAX_ATTRIBUTE_CHARS], value, value_type)

    def __bool__(self) -> bool:
        return bool(self.subject)


@dataclass(frozen=True)
class ClaimedMemory:
    """A memory this batch stored with a claim. ``order``: its place in the batch (job, then
    message), which breaks ties between claims said at the same time."""

    memory_id: int
    entity_id: int
    tenant_id: int
    owner_id: int | None
    process_id: int
    said_at: datetime
    claim: ClaimColumns
    order: tuple[int, int]


@dataclass
class SupersessionOutcome:
    """What the batch changed: (older id, newer id) pairs."""

    superseded: list[tuple[int, int]] = field(default_factory=list)
    contradicted: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class _Version:
    """One memory's claim on the timeline of its subject (stored, or new in this batch)."""

    memory_id: int
    process_id: int | None
    said_at: datetime
    order: tuple[int, int]
    attribute: str
    value: str
    value_type: str
    valid_to: datetime | None
    superseded_by: int | None
    reason: str = ""  # why its validity changed, for the audit entry

    def conflicts_with(self, other: _Version) -> bool:
        same_attribute = ANY_ATTRIBUTE in (self.attribute, other.attribute) or self.attribute == other.attribute
        return same_attribute and self.value_type == other.value_type and self.value != other.value

    def is_before(self, other: _Version) -> bool:
        return (self.said_at, self.order) < (other.said_at, other.order)


_STORED = (-1, -1)  # stored claims came before any claim of this batch said at the same time
_Group = tuple[int, int | None, str]  # (entity id, owner process id or None, subject)


def supersede_claims(*, claimed: list[ClaimedMemory], restated: list[ClaimedMemory] = ()) -> SupersessionOutcome:
    """Compare the batch's claims, in order, with each other and with the entities' stored claims
    of the same subjects; supersede older values, record contradictions, audit every change.
    ``claimed``: memories the batch created; ``restated``: stored memories it mentioned again."""
    outcome = SupersessionOutcome()
    said_again, was = _said_again_after_superseded(restated)
    if not claimed and not said_again:
        return outcome
    claimed = sorted([*claimed, *said_again], key=lambda item: item.order)
    new_ids = {item.memory_id for item in claimed}
    timelines = _stored_timelines(claimed, new_ids)
    changed: dict[int, tuple[_Version, tuple]] = {}
    for item in claimed:
        group = (item.entity_id, item.owner_id, item.claim.subject)
        new = _version_of(item)
        if item.memory_id in was:
            _reopen(new, was[item.memory_id], changed)
        _place(new, timelines[group], changed, outcome)
        timelines[group].append(new)
    tenants = {item.entity_id: item.tenant_id for item in claimed}
    entity_of = {version.memory_id: group[0] for group, versions in timelines.items() for version in versions}
    _write_validity(changed, entity_of, tenants)
    outcome.contradicted = _record_contradictions(outcome.contradicted, entity_of)
    return outcome


def _place(new: _Version, timeline: list[_Version], changed: dict, outcome: SupersessionOutcome) -> None:
    """Put ``new`` on its subject's timeline: close the older conflicting claims it follows, and
    close ``new`` itself at the earliest later one (out-of-order history)."""
    successor = None
    for version in timeline:
        if version.memory_id == new.memory_id or not version.conflicts_with(new):
            continue
        if version.valid_to is None and contradictions.disagree(
            version.process_id, version.said_at, new.process_id, new.said_at
        ):
            pair = (version.memory_id, new.memory_id) if version.is_before(new) else (new.memory_id, version.memory_id)
            outcome.contradicted.append(pair)
        elif version.is_before(new):
            if version.valid_to is None or version.valid_to > new.said_at:
                _close(version, at=new.said_at, by=new.memory_id, changed=changed)
                outcome.superseded.append((version.memory_id, new.memory_id))
        elif successor is None or version.is_before(successor):
            successor = version
    if successor is not None:
        _close(new, at=successor.said_at, by=successor.memory_id, changed=changed)
        outcome.superseded.append((new.memory_id, successor.memory_id))


def _close(version: _Version, *, at: datetime, by: int, changed: dict) -> None:
    """``version`` stops holding at ``at``, replaced by memory ``by``; ``changed`` keeps what it was."""
    changed.setdefault(version.memory_id, (version, (version.valid_to, version.superseded_by)))
    version.valid_to, version.superseded_by = at, by
    version.reason = f"superseded by memory {by}, a later value of the same claim"


def _reopen(version: _Version, was: tuple[datetime, int | None], changed: dict) -> None:
    changed.setdefault(version.memory_id, (version, was))
    version.reason = "said again after it was superseded: current again"


def _said_again_after_superseded(restated: list[ClaimedMemory]) -> tuple[list[ClaimedMemory], dict]:
    """The restated memories that a later value had superseded before this mention, each as its
    stored claim said at the mention's time, and what their validity was ({id: (valid_to,
    superseded_by)}); one query."""
    if not restated:
        return [], {}
    rows = Memory.objects.filter(pk__in=sorted({item.memory_id for item in restated}), valid_to__isnull=False)
    stored = {row[0]: row for row in _rows(rows.exclude(claim_subject="").order_by("pk").select_for_update())}
    said_again: list[ClaimedMemory] = []
    was: dict[int, tuple] = {}
    for item in sorted(restated, key=lambda item: item.order):
        if item.memory_id not in stored or item.memory_id in was:
            continue
        _, _, owner, subject, _, _, _, attribute, value, value_type, valid_to, superseded_by = stored[item.memory_id]
        if item.said_at > valid_to:
            was[item.memory_id] = (valid_to, superseded_by)
            claim = ClaimColumns(subject=subject, attribute=attribute, value=value, value_type=value_type)
            said_again.append(replace(item, claim=claim, owner_id=owner))
    return said_again, was


def _version_of(item: ClaimedMemory) -> _Version:
    claim = item.claim
    return _Version(
        memory_id=item.memory_id,
        process_id=item.process_id,
        said_at=item.said_at,
        order=item.order,
        attribute=claim.attribute,
        value=normalize_node_name(claim.value),
        value_type=claim.value_type,
        valid_to=None,
        superseded_by=None,
    )


def _stored_timelines(claimed: list[ClaimedMemory], new_ids: set[int]) -> dict[_Group, list[_Version]]:
    """The current stored claims of the batch's subjects, and, when a claim of the batch is older
    than a current one it conflicts with, the claims those current ones superseded."""
    subjects: dict[int, set[str]] = defaultdict(set)
    for item in claimed:
        subjects[item.entity_id].add(item.claim.subject)
    where = Q()
    for entity_id in sorted(subjects):
        where |= Q(entity_id=entity_id, claim_subject__in=sorted(subjects[entity_id]))
    # Same condition as the partial index memory_current_claims; locked in id order (PostgreSQL)
    # so that two batches superseding the same claim take turns.
    current = Memory.objects.filter(where, valid_to__isnull=True).exclude(claim_subject="")
    rows = [row for row in _rows(current.order_by("pk").select_for_update()) if row[0] not in new_ids]
    timelines: dict[_Group, list[_Version]] = defaultdict(list)
    for row in rows:
        timelines[_group_of(row)].append(_stored_version(row))
    later = _current_after_some_claim(claimed, timelines)
    if later:
        superseded = Memory.objects.filter(superseded_by_id__in=sorted(later)).exclude(claim_subject="")
        for row in _rows(superseded.order_by("pk").select_for_update()):
            if row[0] not in new_ids:
                timelines[_group_of(row)].append(_stored_version(row))
    return timelines


def _current_after_some_claim(claimed: list[ClaimedMemory], timelines: dict) -> set[int]:
    later: set[int] = set()
    for item in claimed:
        new = _version_of(item)
        for version in timelines.get((item.entity_id, item.owner_id, item.claim.subject), ()):
            if version.conflicts_with(new) and new.is_before(version):
                later.add(version.memory_id)
    return later


_COLUMNS = (
    "pk",
    "entity_id",
    "owner_process_id",
    "claim_subject",
    "first_process_id",
    "valid_from",
    "first_seen_at",
    "claim_attribute",
    "claim_value",
    "claim_value_type",
    "valid_to",
    "superseded_by_id",
)


def _rows(queryset) -> list[tuple]:
    return list(queryset.values_list(*_COLUMNS))


def _group_of(row: tuple) -> _Group:
    return (row[1], row[2], row[3])


def _stored_version(row: tuple) -> _Version:
    pk, _, _, _, process_id, valid_from, first_seen_at, attribute, value, value_type, valid_to, superseded_by = row
    return _Version(
        memory_id=pk,
        process_id=process_id,
        said_at=valid_from or first_seen_at,
        order=_STORED,
        attribute=attribute,
        value=normalize_node_name(value),
        value_type=value_type,
        valid_to=valid_to,
        superseded_by=superseded_by,
    )


def _write_validity(changed: dict[int, tuple], entity_of: dict[int, int], tenants: dict[int, int]) -> None:
    """One UPDATE for every memory whose validity changed, and one audit entry each."""
    if not changed:
        return
    versions = [changed[pk][0] for pk in sorted(changed)]
    Memory.objects.bulk_update(
        [Memory(pk=v.memory_id, valid_to=v.valid_to, superseded_by_id=v.superseded_by) for v in versions],
        ["valid_to", "superseded_by"],
    )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                tenant_id=tenants[entity_of[v.memory_id]],
                entity_id=entity_of[v.memory_id],
                actor_label=ACTOR_LABEL,
                action=AuditEntry.Action.UPDATE,
                object_type="memory",
                object_id=v.memory_id,
                before=_validity(*changed[v.memory_id][1]),
                after=_validity(v.valid_to, v.superseded_by) | {"reason": v.reason},
            )
            for v in versions
        ]
    )


def _validity(valid_to: datetime | None, superseded_by: int | None) -> dict:
    return {"valid_to": valid_to.isoformat() if valid_to else None, "superseded_by_id": superseded_by}


def _record_contradictions(pairs: list[tuple[int, int]], entity_of: dict[int, int]) -> list[tuple[int, int]]:
    """The pairs recorded now (a pair already on record is not counted again)."""
    if not pairs:
        return []
    return contradictions.record_memory_contradictions(
        [(entity_of[older], older, newer) for older, newer in pairs], Contradiction.Reason.SAME_SUBJECT_PREDICATE
    )
