"""Knowledge-graph triples read from the parse of a kept statement.

A triple joins two noun phrases by a real relation: the statement's verb (with its particle or
preposition) or a copula's "is"/"is_a". Its subject is the statement's subject (the speaker's name
for "I"), its object the verb's direct object, or the object of a preposition that belongs to the
verb ("went to a support group"), or a copula's complement noun. Nodes are noun phrases without
their determiners ("her daughter's birthday" keeps its possessor, named: "Melanie's daughter's
birthday"); pronouns, adjectives, clauses and interjections are never nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Token

from memory.extraction.node_types import node_type
from memory.extraction.statements import FIRST_PERSON, SECOND_PERSON, Statement, Voice, third_person_singular
from memory.extraction.values import attaching_word, is_date, value_span

MAX_NODE_CHARS = 100
MAX_NODE_WORDS = 8
MAX_LIST_RELATIONS = 8  # "The top competitors are A, B, C, D and E": one edge each
_NOUNS = frozenset({"NOUN", "PROPN", "NUM"})
_MODIFIERS = frozenset({"compound", "amod", "nummod", "poss", "nmod", "quantmod", "case"})
_OBJECT_DEPS = frozenset({"dobj", "obj"})
_TIME_NOUNS = frozenset("day week weekend month year morning afternoon evening night time moment while".split())
_MODALS = {"ca": "can", "wo": "will", "sha": "shall", "'d": "would", "'ll": "will"}


@dataclass(frozen=True)
class Relation:
    subject: str
    predicate: str
    object: str
    subject_is_speaker: bool = False  # a person, whatever node_types makes of the name


def is_nounlike(token: Token) -> bool:
    """A noun, a name or a number; also a capitalised word inside a sentence that the small model
    tagged as an adjective ("The top competitors are Mem0, ...")."""
    if token.pos_ in _NOUNS:
        return True
    return token.pos_ in ("ADJ", "X") and token.text[:1].isupper() and token.i > token.sent.start


def noun_phrase(head: Token, voice: Voice) -> str | None:
    """The noun phrase headed by ``head``, without determiners, with "my" named; None when the
    head is not a noun (a pronoun, an adjective, a clause)."""
    if head.lower_ in FIRST_PERSON and head.pos_ == "PRON":
        return voice.speaker
    if head.lower_ in SECOND_PERSON:
        return voice.listener
    if not is_nounlike(head):
        return None
    if head.pos_ in ("NUM", "PROPN") and (is_date(head) or head.pos_ == "NUM"):
        value = value_span(head)  # "March 5", "$24 million"
        return value if len(value) <= MAX_NODE_CHARS else None
    left = min([t.i for t in head.subtree if t.i < head.i and _modifies(t, head)], default=head.i)
    pieces = [  # the words from the first modifier to the head, as written ("in-app", "$99")
        _named(token, voice) + token.whitespace_
        for token in head.doc[left : head.i + 1]
        if not (token.dep_ == "det" and token.tag_ != "PRP$")
    ]
    words = ["".join(pieces).strip()]
    for child in head.children:  # "a photo of a sunset", "the top 5 competitors in Europe"
        if child.dep_ == "prep" and child.lower_ == "of":
            objects = [c for c in child.children if c.dep_ == "pobj" and c.pos_ in _NOUNS]
            if objects:
                inner = noun_phrase(objects[0], voice)
                if inner:
                    words.extend(["of", inner])
    text = " ".join(" ".join(w for w in words if w).split())
    if not text or len(text) > MAX_NODE_CHARS or len(text.split()) > MAX_NODE_WORDS:
        return None
    return text


def _is_specific(head: Token) -> bool:
    """A node worth a place in the graph: a name, a number, a date, or a noun with something that
    narrows it ("support group", "daughter's birthday", "loads of books"); a bare common noun
    ("opportunity", "way", "pets") says too little to connect anything."""
    if head.pos_ in ("PROPN", "NUM") or head.lower_ in FIRST_PERSON or not head.pos_ == "NOUN":
        return head.pos_ != "PRON" or head.lower_ in FIRST_PERSON
    return any(
        c.dep_ in ("compound", "amod", "poss", "nummod", "nmod") or (c.dep_ == "prep" and c.lower_ == "of")
        for c in head.children
    )


def _modifies(token: Token, head: Token) -> bool:
    """A word of the phrase before its head: a compound, adjective, number or possessor (and the
    possessor's own words), never a determiner or a clause."""
    top = attaching_word(token, head, _a_modifier)
    return top is not None and (top.pos_ != "DET" or top.tag_ == "PRP$")


def _a_modifier(token: Token) -> bool:
    return token.dep_ in _MODIFIERS or (token.dep_ == "det" and token.tag_ == "PRP$")


def _named(token: Token, voice: Voice) -> str:
    lower = token.lower_
    if lower in ("my", "our"):
        return "the user's" if voice.speaker == "The user" else f"{voice.speaker}'s"
    if lower in ("your",) and voice.listener:
        return "the user's" if voice.listener == "The user" else f"{voice.listener}'s"
    if lower in ("his", "her", "their", "its"):
        return ""  # an unresolved possessor adds nothing a reader could follow
    return token.text


def _verb_form(verb: Token) -> str:
    """The predicate's verb as a third person would say it: "loves", "went", "is_living"."""
    auxiliaries = [c for c in verb.children if c.dep_ in ("aux", "auxpass") and c.i < verb.i]
    negated = any(c.dep_ == "neg" for c in verb.children)
    if verb.tag_ in ("VBP", "VBZ"):
        form = third_person_singular(verb.text, verb.lemma_)
    elif verb.tag_ == "VBG" and auxiliaries:
        form = "is_" + verb.lower_
    else:
        form = verb.lower_
    modal = next((c.lower_ for c in auxiliaries if c.tag_ == "MD"), None)
    if negated:
        if modal is not None:
            form = f"{_MODALS.get(modal, modal)}_not_{verb.lemma_.lower()}"
        elif any(c.lower_ == "did" for c in auxiliaries):
            form = "did_not_" + verb.lemma_.lower()
        elif verb.tag_ in ("VBP", "VBZ", "VB"):
            form = "does_not_" + verb.lemma_.lower()
        else:
            form = "not_" + form
    return form


def statement_relations(statement: Statement, voice: Voice) -> list[Relation]:
    """The triples a statement states (at most three)."""
    subject = statement.subject
    if subject is None or subject.dep_ == "expl":
        return []
    subject_name = noun_phrase(subject, voice)
    if not subject_name:
        return []
    speaker = subject.lower_ in FIRST_PERSON
    verb = subject.head
    relations: list[Relation] = []

    general_subject = not _is_specific(subject) and subject.lower_ not in FIRST_PERSON

    def add(predicate: str, head: Token) -> None:
        name = noun_phrase(head, voice)
        if not name or name.lower() == subject_name.lower():
            return
        named = head.pos_ in ("PROPN", "NUM") or node_type(name, predicate, is_object=True) != "concept"
        if (general_subject and not named) or not (_is_specific(head) or named):
            return  # "Pets have a way": a general subject needs a named object ("Passwords hashed with bcrypt")
        relations.append(Relation(subject_name, predicate, name, subject_is_speaker=speaker))

    if verb.lemma_ == "be":
        for child in verb.children:
            if child.dep_ in ("attr", "acomp") and is_nounlike(child):
                determiner = next((c for c in child.children if c.dep_ == "det"), None)
                indefinite = determiner is not None and determiner.lower_ in ("a", "an")
                predicate = "includes" if child.conjuncts else "is_a" if indefinite else "is"
                for member in (child, *child.conjuncts):
                    add(predicate, member)
                return relations[:MAX_LIST_RELATIONS]
            elif child.dep_ == "prep":
                for pobj in (c for c in child.children if c.dep_ == "pobj"):
                    add(f"is_{child.lower_}", pobj)
        return relations[:3]
    if verb.pos_ != "VERB":
        return []
    form = _verb_form(verb)
    particle = next((c.lower_ for c in verb.children if c.dep_ == "prt"), "")
    base = f"{form}_{particle}" if particle else form
    for child in verb.children:
        if child.dep_ in _OBJECT_DEPS:
            add(base, child)
            for conj in child.conjuncts:
                add(base, conj)
    for child in verb.children:
        if child.dep_ == "prep" and child.lower_ != "of":
            for pobj in (c for c in child.children if c.dep_ == "pobj"):
                if is_date(pobj) or pobj.lemma_.lower() in _TIME_NOUNS:
                    continue  # when is said by the memory's date, not by a graph node
                if not relations or pobj.pos_ in ("PROPN", "NUM"):
                    add(f"{base}_{child.lower_}", pobj)
    return relations[:3]
