"""The text recall injects into a prompt, inside `<memori_context>` ... `</memori_context>`.

Sections, each only when it has lines: facts/preferences/skills, the caller's own attributes, the
knowledge graph, other agents' memories of the last minutes (handoffs, admitted for being recent,
not for matching), and recent work from other agents not yet processed. Every memory line says when
it was said and names the processes that contributed it, so an agent can tell whose work it builds
on and place it in time. The whole block,
delimiters included, stays within the token budget: pending work may take up to `PENDING_SHARE` of
it, handoffs up to `handoff_share` (`MEMORI_RECALL_HANDOFF_SHARE`, and whatever the memories leave),
memories (in rank order) the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.embedding import count_tokens
from memory.recall.ranking import fit_to_budget

OPEN = "<memori_context>"
CLOSE = "</memori_context>"
INTRO = "Shared memory of this entity, recalled for this request ([date said] memory [sources])."
PENDING_SHARE = 0.5
HANDOFF_SHARE = 0.25
MAX_PROCESS_NAMES = 3

SECTION_MEMORIES = "memories"
SECTION_ATTRIBUTES = "attributes"
SECTION_GRAPH = "graph"
SECTION_HANDOFF = "handoff"
SECTION_PENDING = "pending"
HEADINGS = {
    SECTION_MEMORIES: "## Facts, preferences and skills",
    SECTION_ATTRIBUTES: "## Your attributes (only you see these)",
    SECTION_GRAPH: "## Knowledge graph",
    SECTION_HANDOFF: "## Just added by other agents (recent handoffs)",
    SECTION_PENDING: "## Recent work from other agents, not yet processed into memory",
}
ORDER = (SECTION_MEMORIES, SECTION_ATTRIBUTES, SECTION_GRAPH, SECTION_HANDOFF, SECTION_PENDING)


@dataclass(frozen=True)
class Line:
    section: str
    text: str


@dataclass(frozen=True)
class Block:
    text: str
    token_count: int
    memory_lines: int  # how many of the memory lines (in the given order) made it in
    pending_lines: int
    handoff_lines: int = 0


def memory_line(kind: str, content: str, processes: list[str], *, said: str = "", note: str = "") -> str:
    """A line such as `- [7 May 2023] (superseded 3 June 2023) (preference) <content> [process, …]`:
    when it was said and how it stands to supersession (compose.py), its kind unless a fact, the
    content on one line, the processes that contributed it."""
    when = f"[{said}] " if said else ""
    label = (f"({note}) " if note else "") + ("" if kind in ("fact", "attribute", "triple") else f"({kind}) ")
    names = ", ".join(processes[:MAX_PROCESS_NAMES]) + (" +" if len(processes) > MAX_PROCESS_NAMES else "")
    source = f" [{names}]" if names else ""
    return f"- {when}{label}{' '.join(content.split())}{source}"


def pending_line(process_id: str, when: str, text: str) -> str:
    return f"- [{process_id}, {when}] {text}"


def render(
    memory_lines: list[Line],
    pending_lines: list[Line],
    budget: int,
    handoff_lines: Sequence[Line] = (),
    *,
    handoff_share: float = HANDOFF_SHARE,
) -> Block:
    """Fit lines into `budget` tokens and lay them out by section: pending work first (up to its
    share), then handoffs (up to theirs), then memories, then more handoffs if room is left.

    The block's token count is the sum of its parts' counts (delimiters, intro, each heading once,
    each line), each cached: WordPiece splits on whitespace before anything else, so text joined
    by newlines has exactly the tokens of its parts, and the whole block is never tokenized again
    (that was most of the cost of rendering)."""
    overhead = count_tokens(OPEN) + count_tokens(INTRO) + count_tokens(CLOSE)
    handoff_lines = list(handoff_lines)
    if budget <= overhead or not (memory_lines or pending_lines or handoff_lines):
        return Block(text="", token_count=0, memory_lines=0, pending_lines=0)
    pending_costs = _costs(pending_lines)
    pending_kept = fit_to_budget(pending_costs, int((budget - overhead) * PENDING_SHARE))
    remaining = budget - overhead - sum(pending_costs[:pending_kept])
    handoff_costs = _costs(handoff_lines)
    handoff_kept = fit_to_budget(handoff_costs, min(int((budget - overhead) * handoff_share), remaining))
    remaining -= sum(handoff_costs[:handoff_kept])
    memory_costs = _costs(memory_lines)
    memory_kept = fit_to_budget(memory_costs, remaining)
    remaining -= sum(memory_costs[:memory_kept])
    handoff_kept += fit_to_budget(handoff_costs[handoff_kept:], remaining)
    if not (memory_kept or pending_kept or handoff_kept):
        return Block(text="", token_count=0, memory_lines=0, pending_lines=0)
    tokens = (
        overhead
        + sum(memory_costs[:memory_kept])
        + sum(pending_costs[:pending_kept])
        + sum(handoff_costs[:handoff_kept])
    )
    text = _layout(memory_lines[:memory_kept] + handoff_lines[:handoff_kept] + pending_lines[:pending_kept])
    return Block(
        text=text,
        token_count=tokens,
        memory_lines=memory_kept,
        pending_lines=pending_kept,
        handoff_lines=handoff_kept,
    )


def _costs(lines: list[Line]) -> list[int]:
    """Tokens of each line, plus its section heading when it is the section's first line."""
    seen: set[str] = set()
    costs = []
    for line in lines:
        cost = count_tokens(line.text)
        if line.section not in seen:
            seen.add(line.section)
            cost += count_tokens(HEADINGS[line.section])
        costs.append(cost)
    return costs


def _layout(lines: list[Line]) -> str:
    if not lines:
        return ""
    parts = [OPEN, INTRO]
    for section in ORDER:
        section_lines = [line.text for line in lines if line.section == section]
        if section_lines:
            parts.append(HEADINGS[section])
            parts.extend(section_lines)
    parts.append(CLOSE)
    return "\n".join(parts)
