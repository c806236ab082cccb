"""How the ranked results become the block's lines: when each was said, no triple beside the
memory that already states it, and no episode a memory above it already tells.

**When.** Every memory and triple line starts with the date it was first said: its first mention's
original time (an imported exchange's `occurred_at`, not the import time), as "7 May 2023" (full
month names cost the same tokens as abbreviations and match dates written either way), in UTC.
A block without dates cannot answer "when did…" (LoCoMo's temporal questions) nor place relative
words ("yesterday", "last week") a memory carries. The dates come with the cached index
(`EntityIndex.first_seen`), so they cost a warm recall nothing.

**No restated triples.** A triple whose subject, predicate and object words (normalised and stemmed
as for search, memory/recall/text.py) all appear in a memory line of the block says nothing that
line does not, so it is left out and its place goes to other results. When the memory that states
it ranks below the triple, the memory takes the triple's place: the relation made the fact
relevant, and the memory says it whole.

**Episodes.** An exchange as it was said (memory/models/episodes.py) is a line of its own section,
`- [8 May 2023] Caroline: … [shares a photo: …]` (ending with its process when the text does not
start with it), marked "(superseded <day>)" as the memory first extracted from it that a later one
replaced. It is left out when the memory lines ranked above it, or the handoffs placed before
it, already hold its words (`is_told`): extraction kept what it said, in a form that stands on its
own. The block checks again against the memory lines that actually fit, wherever they rank
(block.py): the facts extracted from an exchange often rank just below its episode.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Protocol, TypeVar

import numpy as np

from memory.recall import block as blocks
from memory.recall.block import is_told
from memory.recall.hits import RecalledItem
from memory.recall.index import TRIPLE, EntityIndex, memory_mask
from memory.recall.text import tokenize
from memory.recall.validity import current_row

DAY = 86400
QUOTED_WORDS = 12  # of the other version a supersession note quotes


def said_on(timestamp: float) -> str:
    """The day `timestamp` (epoch seconds) falls on, in UTC: "7 May 2023"."""
    return _day_label(int(timestamp // DAY))


@lru_cache(maxsize=4096)
def _day_label(day_number: int) -> str:
    day = datetime.fromtimestamp(day_number * DAY, tz=UTC)
    return f"{day.day} {day:%B %Y}"


class Placed(Protocol):
    row: int


P = TypeVar("P", bound=Placed)


# The relations a sentence says with other words ("The top competitors ARE Mem0, Zep ..." restates
# "top competitors INCLUDES Zep"): the subject's and the object's words are what must be there.
_LINKING_WORDS = "is are was were be being been has have had includes include included contains contain is_a"


def without_restated_triples(
    index: EntityIndex, results: Sequence[P], *, stated_before: Sequence[Placed] = ()
) -> list[P]:
    """`results` in order, less the triples that one of their memory lines, or one of
    `stated_before` (lines placed before them), restates; a restating memory ranked below its
    triple moves up to the triple's place. A memory line's words are its content's and its first
    contributor's name (the "[Caroline]" a line ends with)."""
    if not any(index.kinds[r.row] == TRIPLE for r in results):
        return list(results)
    terms = {r.row: _line_terms(index, r.row) for r in results if memory_mask(index.kinds[r.row])}
    before = [_line_terms(index, r.row) for r in stated_before if memory_mask(index.kinds[r.row])]
    kept = list(results)
    position = 0
    while position < len(kept):
        row = kept[position].row
        triple = _terms(index.contents[row]) - _LINKING_TERMS if index.kinds[row] == TRIPLE else frozenset()
        restating = None
        if triple:
            restating = next((i for i, r in enumerate(kept) if r.row in terms and triple <= terms[r.row]), None)
            if restating is None and any(triple <= stated for stated in before):
                restating = -1
        if restating is None:
            position += 1
        elif restating < position:
            del kept[position]
        else:
            kept[position] = kept.pop(restating)
            position += 1
    return kept


def without_told_episodes(index: EntityIndex, results: Sequence[P], *, told_before: Sequence[Placed] = ()) -> list[P]:
    """`results` in order, less the episodes that the memory lines ranked above them, or those of
    `told_before` (lines placed before them: handoffs), already tell (`is_told`)."""
    if not any(index.is_episode[r.row] for r in results):
        return list(results)
    told: set[str] = set()
    for r in told_before:
        if memory_mask(index.kinds[r.row]):
            told |= _line_terms(index, r.row)
    kept: list[P] = []
    for r in results:
        if index.is_episode[r.row]:
            if is_told(_episode_terms(index.contents[r.row]), told):
                continue
        elif memory_mask(index.kinds[r.row]):
            told |= _line_terms(index, r.row)
        kept.append(r)
    return kept


_ROLE_LABEL = re.compile(r"(?:^|(?<= / ))(?:user|assistant): ")


@lru_cache(maxsize=16384)
def _episode_terms(content: str) -> frozenset[str]:
    """An episode's words, without the role labels of its parts."""
    return frozenset(tokenize(_ROLE_LABEL.sub("", content)))


def _line_terms(index: EntityIndex, row: int) -> frozenset[str]:
    return _terms(f"{index.contents[row]} {index.first_process_names[row]}")


@lru_cache(maxsize=16384)
def _terms(text: str) -> frozenset[str]:
    """Memoised: recall compares the same lines again and again."""
    return frozenset(tokenize(text))


_LINKING_TERMS = frozenset(tokenize(_LINKING_WORDS.replace("_", " ")))


def block_lines(
    index: EntityIndex,
    items: Sequence[RecalledItem],
    section_of: Callable[[RecalledItem], str],
    *,
    allowed: np.ndarray,
    in_block: Collection[int] = (),
    undated: tuple[str, str] = ("", ""),
    outdated: Mapping[int, str] = MappingProxyType({}),
) -> list[blocks.Line]:
    """One line per item, dated, in the section `section_of` assigns it. `in_block`: the rows
    of every line of the block (these and the other sections'), for the supersession notes.
    `undated`: (section, day): that section's lines first said on that day go without their date
    (the block names it in the section's heading: recent handoffs, all of today but a few).
    `outdated`: the notes of the rows pending work gives a newer value of (pending_updates.py),
    laid out after it."""
    superseded = [row for row in in_block if index.is_superseded[row] and index.is_memory[row]]
    lines = []
    for item in items:
        said = said_on(float(index.first_seen[item.row]))
        section = section_of(item)
        if (section, said) == undated:
            said = ""
        note = outdated.get(item.row) or validity_note(
            index, item.row, allowed=allowed, in_block=in_block, superseded=superseded
        )
        if index.is_episode[item.row]:
            text = blocks.episode_line(item.content, index.first_process_names[item.row], said=said, note=note)
            words, processes = _episode_terms(item.content), (index.first_process_names[item.row],)
        else:
            text = blocks.memory_line(item.kind, item.content, item.processes, said=said, note=note)
            words = _line_terms(index, item.row) if memory_mask(index.kinds[item.row]) else frozenset()
            processes = tuple(item.processes[: blocks.MAX_PROCESS_NAMES])
        lines.append(
            blocks.Line(section=section, text=text, words=words, processes=processes, outdated=item.row in outdated)
        )
    return lines


def validity_note(
    index: EntityIndex,
    row: int,
    *,
    allowed: np.ndarray,
    in_block: Collection[int],
    superseded: Sequence[int] | None = None,
) -> str:
    """How a line stands to supersession, in a few tokens (empty for most lines):

    - a superseded memory: "superseded 12 March 2026", plus `by: "<current memory>"` when that one
      is not in the block (the caller may see it);
    - a current memory whose superseded version is in the block too: `current; replaces: "<older
      memory>"` (and "since <day>" when that differs from the day it was said), self-contained
      whether or not the older line fits the budget.

    `superseded`: the superseded memory rows among `in_block`, when the caller has them at hand.
    An episode is superseded with the memories first extracted from it (validity.py) and marked
    alike; it never replaces anything.
    """
    if index.is_superseded[row]:
        note = f"superseded {said_on(float(index.valid_to[row]))}"
        current = current_row(index, row, allowed)
        if current is not None and current not in in_block:
            note += f' by: "{quoted(index.contents[current])}"'
        return note
    if index.is_episode[row]:
        return ""
    if superseded is None:
        superseded = [other for other in in_block if index.is_superseded[other] and index.is_memory[other]]
    replaced = [other for other in superseded if current_row(index, other, allowed) == row]
    if not replaced:
        return ""
    latest = max(replaced, key=lambda other: index.valid_to[other])
    since = said_on(float(index.valid_to[latest]))
    when = "" if since == said_on(float(index.first_seen[row])) else f" since {since}"
    return f'current{when}; replaces: "{quoted(index.contents[latest])}"'


def quoted(content: str) -> str:
    """The first `QUOTED_WORDS` words of another version, for a note."""
    words = content.replace('"', "'").split()
    return " ".join(words[:QUOTED_WORDS]) + (" …" if len(words) > QUOTED_WORDS else "")
