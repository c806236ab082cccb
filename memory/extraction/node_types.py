"""Node types for the knowledge graph: a small heuristic, enough to colour the graph.

A node is a place, person, organisation, technology or concept, judged from its name (known
names, suffixes such as "Inc", name shapes such as "Node.js" or "GraphQL") and from the predicate
that points at it (whatever someone "lives in" is a place).
"""

from __future__ import annotations

import functools
import re

from memory.extraction.lexicon import ORGANISATIONS, PLACES, TECHNOLOGIES
from memory.extraction.normalize import normalize_node_name

node_key = functools.lru_cache(maxsize=8192)(normalize_node_name)  # the same few names recur

_ORG_SUFFIX = re.compile(
    r"\b(?:inc|ltd|llc|corp|corporation|gmbh|co|labs|technologies|systems|group|bank|university|foundation)\.?$"
)
_PERSON_TITLE = re.compile(r"^(?:mr|mrs|ms|dr|prof)\.?\s")
_PROPER_NAME = re.compile(r"^[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}$")
_TECH_SHAPE = re.compile(r"[a-z][A-Z]|\w\.js\b|(?:DB|SQL|API|SDK|QL)s?\b|^[A-Z]{2,5}s?$|(?:^|\s)[A-Za-z][A-Za-z.-]*\d")
_PLACE_PREDICATES = frozenset({"located_in", "lives_in"})
_ORG_PREDICATES = frozenset({"works_at", "competes_with", "acquired"})
_PERSON_PREDICATES = frozenset({"works_at", "lives_in", "speaks", "knows", "prefers", "likes", "dislikes", "wants"})


def node_type(name: str, predicate: str, *, is_object: bool) -> str:
    """place, person, organisation, technology or concept (the default when nothing matches)."""
    key = node_key(name)
    if key in PLACES or (is_object and predicate in _PLACE_PREDICATES):
        return "place"
    if key in {"user", "customer", "client"} or _PERSON_TITLE.match(key):
        return "person"
    if key in ORGANISATIONS or _ORG_SUFFIX.search(key) or (is_object and predicate in _ORG_PREDICATES):
        return "organisation"
    if key in TECHNOLOGIES or any(word in TECHNOLOGIES for word in key.split()) or _TECH_SHAPE.search(name):
        return "technology"
    if not is_object and predicate in _PERSON_PREDICATES and _PROPER_NAME.match(name):
        return "person"
    return "concept"
