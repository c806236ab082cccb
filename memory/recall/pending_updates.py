"""Updates not yet augmented: a memory the block holds that another agent's pending work already
gives a newer value of.

Supersession (memory/services/supersession.py) marks a stale memory once the exchange stating the
new value is augmented. Until then the new value reaches the next agent only raw (context.py), and
the stale memory would stand above it unmarked: "Payments go through Stripe" as a fact, "We moved
payments to Adyen" below it as unprocessed work. So recall reads the pending statements the block
carries as augmentation will: with the extractor's own claim reader (the `rules` extractor, which
gives each statement its `StateClaim`), over exactly the shared statements served raw, so a
statement that would be its process's private attribute (never served) marks nothing either.

A pending claim outdates a memory of the block when augmentation would supersede it: a shared
memory's current claim of the same subject and attribute (or a change, "*"), of the same value
type, with another value, said before the pending statement. When two different processes say
the two values within `MEMORI_CONTRADICTION_WINDOW_SECONDS`, augmentation will record a
contradiction instead: the memory is marked disputed. The block marks the memory and what was
extracted with it (its exchange's episode and triples that name the stale value) with who said
the newer value and when, and lays them out after the pending work (block.py), so the current
value comes first.

Cost: nothing unless a memory of the block states a claim and work is pending; then the block's
claimed memories' claims are read in one query, and of the pending exchanges the block carries,
those naming one of their subjects are parsed, each once per process (cached by its text).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from memory.extraction.normalize import normalize_node_name
from memory.extraction.rules import extract
from memory.extraction.types import ExchangeInput, ExchangeMessage
from memory.models import Memory
from memory.recall.compose import quoted
from memory.recall.context import PendingWork
from memory.recall.index import ATTRIBUTE, TRIPLE, EntityIndex
from memory.recall.text import tokenize
from memory.services.contradictions import disagree
from memory.services.supersession import ANY_ATTRIBUTE, ClaimColumns

PARSED_EXCHANGES = 2048  # pending exchanges whose claims each process keeps (an exchange is parsed once)


@dataclass(frozen=True)
class PendingClaim:
    """A value a pending exchange states: who said it, when, and the statement as extracted."""

    process_pk: int
    process_id: str
    occurred_at: datetime
    claim: ClaimColumns
    statement: str


@dataclass(frozen=True)
class Outdated:
    """A line of the block that a pending statement gives a newer value of."""

    by: PendingClaim
    disputed: bool  # two processes at about the same time: a contradiction, not an update


def pending_claims(work: Sequence[PendingWork]) -> list[PendingClaim]:
    """The state claims of the pending work's shared statements, read by the `rules` extractor."""
    claims = []
    for w in work:
        for statement, claim in _claims_of(w.process_id, w.parts, w.occurred_at):
            claims.append(PendingClaim(w.process_pk, w.process_id, w.occurred_at, claim, statement))
    return claims


@lru_cache(maxsize=PARSED_EXCHANGES)
def _claims_of(
    process_id: str, parts: tuple[tuple[str, str], ...], occurred_at: datetime
) -> tuple[tuple[str, ClaimColumns], ...]:
    messages = tuple(ExchangeMessage(position, role, text) for position, (role, text) in enumerate(parts))
    extraction = extract(ExchangeInput(entity_id="", process_id=process_id, messages=messages, occurred_at=occurred_at))
    found = []
    for memory in extraction.memories:
        claim = ClaimColumns.of(memory.claim)
        if claim and memory.kind != "attribute":
            found.append((memory.content, claim))
    return tuple(found)


def outdated_rows(index: EntityIndex, rows: Collection[int], work: Sequence[PendingWork]) -> dict[int, Outdated]:
    """Which of `rows` (index rows of the block's lines) a pending statement of `work` outdates:
    the memories (see the module docstring), and the episodes and triples extracted with them."""
    claimed = [row for row in rows if _may_be_outdated(index, row)]
    if not claimed or not work:
        return {}
    stored = _stored_claims(index, claimed)
    claims = pending_claims(_naming_a_subject(work, stored.values()))
    if not claims:
        return {}
    outdated: dict[int, Outdated] = {}
    for row in claimed:
        claim = stored.get(int(index.ids[row]))
        newer = [c for c in claims if claim is not None and _outdates(index, row, claim, c)]
        if newer:
            latest = max(newer, key=lambda c: c.occurred_at)
            disputed = disagree(
                int(index.first_process_ids[row]) or None,
                datetime.fromtimestamp(float(index.first_seen[row]), tz=latest.occurred_at.tzinfo),
                latest.process_pk,
                latest.occurred_at,
            )
            outdated[row] = Outdated(by=latest, disputed=disputed)
    return outdated | _extracted_with(index, rows, outdated, stored)


def _naming_a_subject(work: Sequence[PendingWork], claims: Iterable[ClaimColumns]) -> list[PendingWork]:
    """The pending work whose words include every word of one of the claims' subjects: a statement
    claims a value of the subject it names ("We moved payments to Adyen": payments), so only these
    are worth parsing (a parse costs milliseconds; a burst of agents leaves dozens pending)."""
    subjects = [frozenset(words) for claim in claims if (words := tokenize(claim.subject))]
    return [w for w in work if any(subject <= frozenset(tokenize(w.text)) for subject in subjects)]


def outdated_note(outdated: Outdated, when: str) -> str:
    """`probably superseded 16:20 UTC by billing_agent, not yet processed: "<statement>"`, or
    `disputed …` for a contradiction; `when` is the pending line's time."""
    state = "disputed" if outdated.disputed else "probably superseded"
    return f'{state} {when} by {outdated.by.process_id}, not yet processed: "{quoted(outdated.by.statement)}"'


def _may_be_outdated(index: EntityIndex, row: int) -> bool:
    """A shared memory's current claim: attributes are only compared within their own process."""
    return bool(
        index.has_claim[row] and index.is_memory[row] and index.kinds[row] != ATTRIBUTE and not index.is_superseded[row]
    )


def _stored_claims(index: EntityIndex, rows: list[int]) -> dict[int, ClaimColumns]:
    ids = [int(index.ids[row]) for row in rows]
    columns = ("id", "claim_subject", "claim_attribute", "claim_value", "claim_value_type")
    return {
        pk: ClaimColumns(subject, attribute, value, value_type)
        for pk, subject, attribute, value, value_type in Memory.objects.filter(pk__in=ids).values_list(*columns)
    }


def _outdates(index: EntityIndex, row: int, claim: ClaimColumns, pending: PendingClaim) -> bool:
    """As supersession compares two claims (same subject, attribute or a change, value type; another
    value), the pending one said after the memory was."""
    new = pending.claim
    same_attribute = ANY_ATTRIBUTE in (claim.attribute, new.attribute) or claim.attribute == new.attribute
    return (
        claim.subject == new.subject
        and same_attribute
        and claim.value_type == new.value_type
        and normalize_node_name(claim.value) != normalize_node_name(new.value)
        and pending.occurred_at.timestamp() > float(index.first_seen[row])
    )


def _extracted_with(
    index: EntityIndex, rows: Collection[int], outdated: dict[int, Outdated], stored: dict[int, ClaimColumns]
) -> dict[int, Outdated]:
    """The episodes and triples of `rows` first extracted from the exchange an outdated memory was:
    an episode says what its memories say, stale value included (as validity.py supersedes it with
    them), and a triple naming the stale value states it too."""
    by_group: dict[int, list[int]] = {}
    for row in outdated:
        if index.comention_groups[row]:
            by_group.setdefault(int(index.comention_groups[row]), []).append(row)
    marked: dict[int, Outdated] = {}
    for row in rows:
        if row in outdated or not (index.is_episode[row] or index.kinds[row] == TRIPLE):
            continue
        for memory_row in by_group.get(int(index.comention_groups[row]), ()):
            value = stored[int(index.ids[memory_row])].value
            if index.is_episode[row] or _names(index.contents[row], value):
                marked[row] = outdated[memory_row]
                break
    return marked


def _names(content: str, value: str) -> bool:
    words = set(tokenize(value))
    return bool(words) and words <= set(tokenize(content))
