"""Values inside a parsed sentence: a date, an amount, a number, a name, as one span of words.

Read from the parse and the words' shapes, without the pipeline's named-entity recogniser: in the
small English pipeline that component carries its own token encoder and more than doubled the cost
of a parse, for labels that were unreliable on product names anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spacy.tokens import Token

MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_SHAPE = re.compile(
    rf"\b{MONTHS} \d{{1,2}}\b|\b\d{{1,2}} {MONTHS}|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b{MONTHS} \d{{4}}\b"
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|^(?:19|20)\d{2}$",
    re.IGNORECASE,
)
MONEY_SHAPE = re.compile(
    r"[$\u20ac\u00a3\u00a5]\s?\d|\b\d[\d,.]*\s?(?:dollars|euros|pounds|usd|eur|gbp)\b", re.IGNORECASE
)
_LEFT = frozenset({"compound", "nummod", "nmod", "quantmod", "amod", "poss", "case"})
_RIGHT = frozenset({"nummod", "npadvmod", "appos"})


def value_span(head: Token) -> str:
    """The words of a flat value around ``head``, as written: "March 5, 2023", "$24 million",
    "Acme Corp."; its determiner left out."""
    doc = head.doc
    left = min(
        [t.i for t in head.subtree if t.i < head.i and attaching_word(t, head, _in_value) and t.dep_ != "det"],
        default=head.i,
    )
    right = head.i
    for child in head.rights:
        if child.dep_ in _RIGHT and (child.pos_ == "NUM" or child.like_num):
            right = max(right, child.right_edge.i)
    text = doc[left : right + 1].text
    return text.strip(" ,")


def attaching_word(token: Token, head: Token, admits: Callable[[Token], bool]) -> Token | None:
    """The word through which ``token`` hangs on ``head`` (``token`` itself or one of its heads,
    at most four steps up), when every word on the way is one ``admits``; else None."""
    walker = token
    for _ in range(4):
        if not admits(walker):
            return None
        if walker.head.i == head.i:
            return walker
        walker = walker.head
    return None


def _in_value(token: Token) -> bool:
    return token.dep_ in _LEFT or token.pos_ == "SYM"


def value_type(head: Token, text: str) -> str | None:
    """date, money, number or name (a place is a name too); None for a common noun, which holds no
    single-valued state."""
    if DATE_SHAPE.search(text):
        return "date"
    if MONEY_SHAPE.search(text):
        return "money"
    if head.pos_ == "NUM" or head.like_num:
        return "number"
    if head.pos_ == "PROPN" or (head.text[:1].isupper() and head.i > head.sent.start):
        return "name"
    return None


def is_date(head: Token) -> bool:
    return bool(DATE_SHAPE.search(value_span(head)))
