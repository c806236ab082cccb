"""The text recall injects into a prompt, inside `<memori_context>` ... `</memori_context>`.

Sections, each only when it has lines: facts/preferences/skills, the caller's own attributes, the
knowledge graph, past exchanges as they were said (episodes, for what no memory holds), other
agents' memories of the last minutes (handoffs, admitted for being recent, not for matching),
recent work from other agents not yet processed, and last the lines that work gives a newer value
of (pending_updates.py; fitted in their own section's turn, laid out after it). Every memory line
says when it was said and names the processes that contributed it, so an agent can tell whose
work it builds on and place it in time. The whole block, delimiters included, stays within the
token budget: pending work may take up to `PENDING_SHARE` of it (and whatever the rest leaves),
handoffs up to `handoff_share` (`MEMORI_RECALL_HANDOFF_SHARE`, and whatever the memories leave),
results (memories and episodes, in rank order) the rest, episodes at most `episode_share` of it
(`MEMORI_RECALL_EPISODE_SHARE`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from memory.embedding import count_tokens
from memory.recall.ranking import fit_to_budget

OPEN = "<memori_context>"
CLOSE = "</memori_context>"
INTRO = "Shared memory of this entity, recalled for this request ([date said] memory [sources])."
PENDING_SHARE = 0.5
HANDOFF_SHARE = 0.25
COVERAGE_SHARE = 0.75  # the most one line per other recently active agent may take
EPISODE_SHARE = 0.5
MAX_PROCESS_NAMES = 3

SECTION_MEMORIES = "memories"
SECTION_ATTRIBUTES = "attributes"
SECTION_GRAPH = "graph"
SECTION_EPISODES = "episodes"
SECTION_HANDOFF = "handoff"
SECTION_PENDING = "pending"
SECTION_OUTDATED = "outdated"  # lines a pending statement gives a newer value of (pending_updates.py): laid out last
HEADINGS = {
    SECTION_MEMORIES: "## Facts, preferences and skills",
    SECTION_ATTRIBUTES: "## Your attributes (only you see these)",
    SECTION_GRAPH: "## Knowledge graph",
    SECTION_EPISODES: "## From past conversations",
    SECTION_HANDOFF: "## Just added by other agents (recent handoffs)",
    SECTION_PENDING: "## Recent work from other agents, not yet processed into memory",
    SECTION_OUTDATED: "## Probably outdated by the recent work above",
}
ORDER = (
    SECTION_MEMORIES,
    SECTION_ATTRIBUTES,
    SECTION_GRAPH,
    SECTION_EPISODES,
    SECTION_HANDOFF,
    SECTION_PENDING,
    SECTION_OUTDATED,
)


EPISODE_COVERED = 0.8  # share of an episode's words the memory lines of the block must hold to leave it out
EPISODE_NEW_WORDS = 3  # or at most this many words left over (with at least as many told)


@dataclass(frozen=True)
class Line:
    section: str
    text: str
    words: frozenset[str] = frozenset()  # the search terms it says (compose.py): whether it tells an episode
    processes: tuple[str, ...] = ()  # the processes it names as its sources
    outdated: bool = False  # laid out under SECTION_OUTDATED, after the pending work, yet fitted as its section

    @property
    def heading(self) -> str:
        """The section it is laid out in."""
        return SECTION_OUTDATED if self.outdated else self.section


@dataclass(frozen=True)
class Block:
    text: str
    token_count: int
    memory_lines: int  # how many of the memory lines (in the given order, episodes aside) made it in
    pending_lines: int
    handoff_lines: int = 0
    episode_lines: int = 0  # how many of the episode lines among them made it in
    results: tuple[int, ...] = ()  # the positions, among the memory lines given, of those that made it in
    handoffs: tuple[int, ...] = ()  # the positions, among the handoff lines given, of those that made it in


def memory_line(kind: str, content: str, processes: list[str], *, said: str = "", note: str = "") -> str:
    """A line such as `- [7 May 2023] (superseded 3 June 2023) (preference) <content> [process, …]`:
    when it was said and how it stands to supersession (compose.py), its kind unless a fact, the
    content on one line, the processes that contributed it."""
    when = f"[{said}] " if said else ""
    label = (f"({note}) " if note else "") + ("" if kind in ("fact", "attribute", "triple") else f"({kind}) ")
    names = ", ".join(processes[:MAX_PROCESS_NAMES]) + (" +" if len(processes) > MAX_PROCESS_NAMES else "")
    source = f" [{names}]" if names else ""
    return f"- {when}{label}{' '.join(content.split())}{source}"


def episode_line(content: str, process: str, *, said: str, note: str = "") -> str:
    """`- [8 May 2023] Caroline: … [shares a photo: …]`: the exchange as it was said (with how it
    stands to supersession, compose.py), ending with its process unless the text starts with it
    (a speaker's label)."""
    text = " ".join(content.split())
    source = "" if not process or text.startswith(f"{process}:") else f" [{process}]"
    label = f"({note}) " if note else ""
    return f"- [{said}] {label}{text}{source}"


def pending_line(process_id: str, when: str, text: str) -> str:
    return f"- [{process_id}, {when}] {text}"


def render(
    memory_lines: list[Line],
    pending_lines: list[Line],
    budget: int,
    handoff_lines: Sequence[Line] = (),
    *,
    handoff_share: float = HANDOFF_SHARE,
    episode_share: float = EPISODE_SHARE,
    handoff_round: int = 0,
    handoff_day: str = "",
) -> Block:
    """Fit lines into `budget` tokens and lay them out by section: pending work first (up to its
    share), then handoffs (up to theirs), then memories, then more handoffs and more pending work
    if room is left.

    Coverage across the other processes comes before relevance:
    - `pending_lines` (one per exchange, the processes in turns: context.py) reserve up to their
      share first, and take what the rest leaves at the end; when they do not all fit in that room
      they are cut to fair parts of it (`_fair_parts`), at a sentence's end but never below their
      first sentence, so that more agents' work is seen, each by its first statements.
    - `handoff_round`: how many of the first handoff lines are each a different process's first (the
      turn order puts them first); they may take up to `COVERAGE_SHARE` of the budget, more than
      `handoff_share`, so that every agent that just worked is represented before relevance fills
      the rest (a synthesis agent after 24 parallel agents). A first-round line moves to the end of
      the turn order when every process it names (`Line.processes`) is named by a result line that
      fits: its room goes to the processes that have no line yet, and it comes if room is left.
      Repeated until no such line is left, the handoffs' room never growing (so the results' room
      never shrinks and what names a process stays).
    - `handoff_day`: the day the handoff lines say nothing of (compose.py leaves out the date of a
      line first said that day), named once in their heading.

    `memory_lines` may hold episode lines (their section) in rank order among the others: they
    are taken in that order too, until one does not fit in the room left or in `episode_share` of
    the budget; the others go on (each stream keeps its first lines). An episode that the memory
    lines which fit (wherever they rank) or the handoffs placed before tell (`Line.words`,
    `is_told`) is left out, and its room goes to the next lines.

    The block's token count is the sum of its parts' counts (delimiters, intro, each heading once,
    each line), each cached: WordPiece splits on whitespace before anything else, so text joined
    by newlines has exactly the tokens of its parts, and the whole block is never tokenized again
    (that was most of the cost of rendering)."""
    overhead = count_tokens(OPEN) + count_tokens(INTRO) + count_tokens(CLOSE)
    handoff_lines = list(handoff_lines)
    if budget <= overhead or not (memory_lines or pending_lines or handoff_lines):
        return Block(text="", token_count=0, memory_lines=0, pending_lines=0)
    headings = dict(HEADINGS)
    if handoff_day:
        headings[SECTION_HANDOFF] = f"{HEADINGS[SECTION_HANDOFF]} on {handoff_day}"
    room = budget - overhead
    pending_costs = _costs(pending_lines, headings)
    pending_reserved = sum(pending_costs[: fit_to_budget(pending_costs, int(room * PENDING_SHARE))])
    remaining = room - pending_reserved
    coverage = min(sum(_costs(handoff_lines[:handoff_round], headings)), int(room * COVERAGE_SHARE))
    handoff_room = min(max(int(room * handoff_share), coverage if handoff_share > 0 else 0), remaining)
    placing = _place_handoffs_and_results(
        handoff_lines, memory_lines, handoff_room, remaining, int(room * episode_share), handoff_round, headings
    )
    order, costs, placed, results = placing.order, placing.costs, placing.placed, placing.results
    handoffs, handoff_tokens = order[:placed], sum(costs[:placed])
    remaining -= handoff_tokens + results.tokens
    more = fit_to_budget(costs[placed:], remaining)
    handoffs += order[placed : placed + more]
    handoff_tokens += sum(costs[placed : placed + more])
    remaining -= sum(costs[placed : placed + more])
    pending_lines = _fair_parts(pending_lines, pending_reserved + remaining, headings)
    pending_costs = _costs(pending_lines, headings)
    pending_kept = fit_to_budget(pending_costs, pending_reserved + remaining)
    if not (results.positions or pending_kept or handoffs):
        return Block(text="", token_count=0, memory_lines=0, pending_lines=0)
    tokens = overhead + results.tokens + sum(pending_costs[:pending_kept]) + handoff_tokens
    fitted = [memory_lines[position] for position in results.positions]
    text = _layout(fitted + [handoff_lines[position] for position in handoffs] + pending_lines[:pending_kept], headings)
    return Block(
        text=text,
        token_count=tokens,
        memory_lines=results.memories,
        pending_lines=pending_kept,
        handoff_lines=len(handoffs),
        episode_lines=results.episodes,
        results=tuple(results.positions),
        handoffs=tuple(handoffs),
    )


@dataclass
class _Placing:
    order: list[int]  # the handoff lines' positions in turn order
    costs: list[int]  # their tokens in that order
    placed: int  # how many of them, in that order, were placed before the results
    results: _Fitted


def _place_handoffs_and_results(
    handoff_lines: list[Line],
    memory_lines: list[Line],
    handoff_room: int,
    room: int,
    episode_room: int,
    handoff_round: int,
    headings: dict[str, str],
) -> _Placing:
    """Handoffs in turn order within `handoff_room`, then the results in what `room` has left. A
    first-round line (of the first `handoff_round`) every process of which a fitted result line
    names goes to the end of the turn order, and the two are placed again in a handoff room that
    never grows: the results' room never shrinks, so what named a process still does."""
    left_out: set[int] = set()
    while True:
        order = [position for position in range(len(handoff_lines)) if position not in left_out] + sorted(left_out)
        costs = _costs([handoff_lines[position] for position in order], headings)
        placed = fit_to_budget(costs, handoff_room)
        told = set().union(*(handoff_lines[position].words for position in order[:placed]))
        results = _fit_results(memory_lines, room - sum(costs[:placed]), episode_room, told, headings)
        named = set().union(*(memory_lines[position].processes for position in results.positions))
        represented = {
            position
            for position in order[:placed]
            if position < handoff_round
            and position not in left_out
            and handoff_lines[position].processes
            and set(handoff_lines[position].processes) <= named
        }
        if not represented:
            return _Placing(order=order, costs=costs, placed=placed, results=results)
        left_out |= represented
        handoff_room = sum(costs[:placed])


def _fair_parts(lines: list[Line], room: int, headings: dict[str, str]) -> list[Line]:
    """`lines` as they are if they fit in `room`; else a fair part each (max-min: the lines
    shorter than an even part keep their whole text and leave the rest to the others), the longer
    ones cut at the last sentence end within their part, never below their first sentence
    ("…" marks the cut)."""
    costs = _costs(lines, headings)
    if sum(costs) <= room:
        return lines
    left, count = room, len(lines)
    for cost in sorted(costs):
        if cost > left // count:
            break
        left, count = left - cost, count - 1
    part = left // max(count, 1)
    return [line if cost <= part else _shortened(line, part) for line, cost in zip(lines, costs, strict=True)]


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?:/\s+)?|\s+/\s+")


def _shortened(line: Line, tokens: int) -> Line:
    if count_tokens(line.text) <= tokens:
        return line
    shortened = None
    for end in _SENTENCE_END.finditer(line.text):
        candidate = line.text[: end.start()].rstrip(" /") + " …"
        if shortened is not None and count_tokens(candidate) > tokens:
            break
        shortened = candidate
    return dataclasses.replace(line, text=shortened) if shortened else line


@dataclass
class _Fitted:
    positions: list[int]
    tokens: int = 0
    memories: int = 0
    episodes: int = 0


def _fit_results(
    lines: list[Line], room: int, episode_room: int, told_before: set[str], headings: dict[str, str]
) -> _Fitted:
    """The result lines, in order, that fit (`_fit_in_order`), less the episodes that the memory
    lines which fit, wherever they rank, or the handoffs placed before them (`told_before`) already
    tell (`is_told`): extraction kept what the exchange said, in a form that stands on its own, and
    the episode's room goes to the next lines. Repeated until no fitted episode is told (each round
    leaves out at least one line, and the room it frees only lets more lines in)."""
    left_out: set[int] = set()
    while True:
        fitted = _fit_in_order(lines, room, episode_room, left_out, headings)
        told = set(told_before)
        for position in fitted.positions:
            if lines[position].section != SECTION_EPISODES:
                told |= lines[position].words
        told_episodes = {
            position
            for position in fitted.positions
            if lines[position].section == SECTION_EPISODES and is_told(lines[position].words, told)
        }
        if not told_episodes:
            return fitted
        left_out |= told_episodes


def _fit_in_order(
    lines: list[Line], room: int, episode_room: int, left_out: set[int], headings: dict[str, str]
) -> _Fitted:
    """The lines, in order and but those `left_out`, that fit: memory lines until the first that
    does not fit in `room`; episode lines until the first that does not fit in `room` or in
    `episode_room`."""
    fitted = _Fitted(positions=[])
    episodes_full = False
    candidates = [position for position in range(len(lines)) if position not in left_out]
    for position, cost in zip(candidates, _costs([lines[p] for p in candidates], headings), strict=True):
        if lines[position].section == SECTION_EPISODES:
            if episodes_full:
                continue
            if cost > room - fitted.tokens or cost > episode_room:
                episodes_full = True
                continue
            episode_room -= cost
            fitted.episodes += 1
        elif cost > room - fitted.tokens:
            break
        else:
            fitted.memories += 1
        fitted.tokens += cost
        fitted.positions.append(position)
    return fitted


def is_told(words: frozenset[str], told: set[str]) -> bool:
    """An episode is told by memory lines holding `EPISODE_COVERED` of its words, or half of them
    with at most `EPISODE_NEW_WORDS` left over (the task an agent was given, a "yesterday" the
    memory resolved to a date)."""
    if not words:
        return False
    covered = len(words & told)
    left = len(words) - covered
    return covered >= EPISODE_COVERED * len(words) or (covered >= left and left <= EPISODE_NEW_WORDS)


def _costs(lines: list[Line], headings: dict[str, str]) -> list[int]:
    """Tokens of each line, plus its section heading when it is the section's first line."""
    seen: set[str] = set()
    costs = []
    for line in lines:
        cost = count_tokens(line.text)
        if line.heading not in seen:
            seen.add(line.heading)
            cost += count_tokens(headings[line.heading])
        costs.append(cost)
    return costs


def _layout(lines: list[Line], headings: dict[str, str]) -> str:
    if not lines:
        return ""
    parts = [OPEN, INTRO]
    for section in ORDER:
        section_lines = [line.text for line in lines if line.heading == section]
        if section_lines:
            parts.append(headings[section])
            parts.extend(section_lines)
    parts.append(CLOSE)
    return "\n".join(parts)
