"""The verbs the rules extractor turns into triple predicates, and their negated forms.

Each verb has one positive predicate ("uses", "located_in", "is") and one negated predicate
("does_not_use", "not_located_in", "is_not"); an indefinite object turns "is" into "is_a" (negated
"is_not_a"). ``positive_predicate`` maps a negated predicate back to the claim it denies, so a
contradiction check can pair "is_not" with "is" without knowing English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Verb:
    pattern: str
    predicate: str
    negated: str
    functional: bool = False  # one object at a time: a different object contradicts
    personal: bool = False  # its base form needs a person ("Tools like X" is not a liking)


VERBS = (
    Verb(r"(?:(?:is|are|was|were) )?(?:located|based|headquartered) in", "located_in", "not_located_in", True),
    Verb(r"(?:lives|live|lived) in", "lives_in", "does_not_live_in", True, True),
    Verb(r"(?:(?:is|are|was|were) )?written in", "written_in", "not_written_in", True),
    Verb(r"(?:(?:is|are|was|were) )?(?:built|made) (?:with|on|using)", "built_with", "not_built_with"),
    Verb(r"(?:(?:is|are) )?(?:hosted|deployed) (?:on|to)", "hosted_on", "not_hosted_on"),
    Verb(r"(?:(?:is|are|was|were) )?part of", "part_of", "not_part_of"),
    Verb(r"(?:(?:was|were) )?founded in", "founded_in", "not_founded_in", True),
    Verb(r"(?:works|work|worked) (?:at|for)", "works_at", "does_not_work_at", True, True),
    Verb(r"(?:(?:is|are|was|were) using|uses|use|used|relies on|rely on|relied on)", "uses", "does_not_use"),
    Verb(r"(?:integrates|integrate|(?:is|are) integrated) with", "integrates_with", "does_not_integrate_with"),
    Verb(r"(?:depends|depend|depended) on", "depends_on", "does_not_depend_on"),
    Verb(r"(?:runs|run) on", "runs_on", "does_not_run_on"),
    Verb(r"(?:connects|connect) to", "connects_to", "does_not_connect_to"),
    Verb(r"(?:competes|compete) with", "competes_with", "does_not_compete_with"),
    Verb(r"(?:has|have|had)(?! (?:been|to|got)\b)", "has", "does_not_have"),
    Verb(r"(?:includes|include|included)", "includes", "does_not_include"),
    Verb(r"(?:contains|contain)", "contains", "does_not_contain"),
    Verb(r"(?:supports|support)", "supports", "does_not_support"),
    Verb(r"(?:requires|require|needs|need)(?! to\b)", "requires", "does_not_require"),
    Verb(r"(?:provides|provide|offers|offer)", "provides", "does_not_provide"),
    Verb(r"(?:stores|store)", "stores", "does_not_store"),
    Verb(r"(?:handles|handle)", "handles", "does_not_handle"),
    Verb(r"(?:manages|manage)", "manages", "does_not_manage"),
    Verb(r"(?:owns|own)", "owns", "does_not_own"),
    Verb(r"(?:leads|lead)", "leads", "does_not_lead"),
    Verb(r"(?:prefers|prefer)", "prefers", "does_not_prefer", personal=True),
    Verb(r"(?:likes|like|loves|love|enjoys|enjoy)", "likes", "does_not_like", personal=True),
    Verb(r"(?:dislikes|dislike|hates|hate)", "dislikes", "does_not_dislike", personal=True),
    Verb(r"(?:wants|want)(?! to\b)", "wants", "does_not_want", personal=True),
    Verb(r"(?:knows|know)(?! how\b)", "knows", "does_not_know", personal=True),
    Verb(r"(?:speaks|speak)", "speaks", "does_not_speak", personal=True),
    Verb(r"(?:costs|cost)", "costs", "does_not_cost", True),
    Verb(r"(?:acquired|acquires)", "acquired", "not_acquired"),
    Verb(r"(?:replaces|replace|replaced)", "replaces", "does_not_replace"),
    Verb(r"(?:targets|target)", "targets", "does_not_target"),
    Verb(r"(?:serves|serve)", "serves", "does_not_serve"),
    Verb(r"(?:am|is|are|was|were)", "is", "is_not", True),
)
_NEGATED = {verb.predicate: verb.negated for verb in VERBS} | {"is_a": "is_not_a"}


def negated_predicate(predicate: str) -> str:
    """The predicate of the negated claim: "uses" -> "does_not_use", "is_a" -> "is_not_a"."""
    return _NEGATED.get(predicate, f"not_{predicate}")


_POSITIVE = {negated: positive for positive, negated in _NEGATED.items()}
_NEGATED_PREFIXES = ("does_not_", "do_not_", "did_not_", "not_", "never_", "no_longer_")
_NEGATED_COPULAS = {"is_not": "is", "are_not": "are", "was_not": "was", "were_not": "were"}


def positive_predicate(predicate: str) -> str:
    """The claim a negated predicate denies: "is_not" -> "is", "is_not_a" -> "is_a",
    "does_not_use" -> "uses", "not_located_in" -> "located_in". A positive predicate is returned
    unchanged. The extractor's own predicates map exactly (back to the form it writes, so
    "does_not_live_in" -> "lives_in"); other snake_case predicates (from the LLM extractor or an
    import) lose their negation: "does_not_own_a" -> "own_a", "is_not_part_of" -> "is_part_of"."""
    known = _POSITIVE.get(predicate)
    if known is not None:
        return known
    for negated, positive in _NEGATED_COPULAS.items():
        if predicate == negated or predicate.startswith(negated + "_"):
            return positive + predicate[len(negated) :]
    for prefix in _NEGATED_PREFIXES:
        if predicate.startswith(prefix) and len(predicate) > len(prefix):
            return predicate[len(prefix) :]
    return predicate


VERB_CLAUSE = re.compile(
    r"(?P<neg1>(?:(?:does|do|did|will|would|can|could|should) not|no longer|never|(?:am|is|are|was|were) not) )?"
    r"(?:" + "|".join(f"(?P<v{i}>{verb.pattern})" for i, verb in enumerate(VERBS)) + r")\b"
    r"(?P<neg2> not)?\s+(?P<obj>\S.*)$",
    re.IGNORECASE,
)
# Words a verb clause can start with: a cheap test before trying the big pattern at a position.
VERB_CLAUSE_STARTS = frozenset(
    re.findall(r"[a-z]+", " ".join(verb.pattern for verb in VERBS))
    + "does do did will would can could should no never am is are was were".split()
)
