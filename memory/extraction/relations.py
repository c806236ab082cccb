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

from memory.extraction.statements import FIRST_PERSON, SECOND_PERSON, Statement, Voice, third_person_singular

MAX_NODE_CHARS = 100
MAX_NODE_WORDS = 8
_NOUNS = frozenset({"NOUN", "PROPN", "NUM"})
_MODIFIERS = frozenset({"compound", "amod", "nummod", "poss", "nmod", "quantmod", "case"})
_OBJECT_DEPS = frozenset({"dobj", "obj"})
_ENTITY_TYPES = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "PRODUCT": "technology",
    "WORK_OF_ART": "concept",
    "EVENT": "concept",
    "NORP": "concept",
    "DATE": "date",
    "TIME": "date",
    "MONEY": "money",
}


@dataclass(frozen=True)
class Relation:
    subject: str
    subject_type: str | None  # from named-entity recognition; None: let node_types decide
    predicate: str
    object: str
    object_type: str | None


def noun_phrase(head: Token, voice: Voice) -> str | None:
    """The noun phrase headed by ``head``, without determiners, with "my" named; None when the
    head is not a noun (a pronoun, an adjective, a clause)."""
    if head.lower_ in FIRST_PERSON and head.pos_ == "PRON":
        return voice.speaker
    if head.lower_ in SECOND_PERSON:
        return voice.listener
    if head.pos_ not in _NOUNS:
        return None
    words: list[str] = []
    for token in head.subtree:
        if token.i > head.i:
            break
        if token.i == head.i or _modifies(token, head):
            words.append(_named(token, voice))
    for child in head.children:  # "a photo of a sunset", "the top 5 competitors in Europe"
        if child.dep_ == "prep" and child.lower_ == "of":
            objects = [c for c in child.children if c.dep_ == "pobj" and c.pos_ in _NOUNS]
            if objects:
                inner = noun_phrase(objects[0], voice)
                if inner:
                    words.extend(["of", inner])
    text = " ".join(w for w in words if w).replace(" 's", "'s").strip()
    if not text or len(text) > MAX_NODE_CHARS or len(text.split()) > MAX_NODE_WORDS:
        return None
    return text


def _modifies(token: Token, head: Token) -> bool:
    """A word of the phrase before its head: a compound, adjective, number or possessor (and the
    possessor's own words), never a determiner or a clause."""
    walker = token
    for _ in range(4):
        if walker.dep_ not in _MODIFIERS and not (walker.dep_ == "det" and walker.tag_ == "PRP$"):
            return False
        if walker.head.i == head.i:
            return walker.pos_ != "DET" or walker.tag_ == "PRP$"
        walker = walker.head
    return False


def _named(token: Token, voice: Voice) -> str:
    lower = token.lower_
    if lower in ("my", "our") :
        return "the user's" if voice.speaker == "The user" else f"{voice.speaker}'s"
    if lower in ("your",) and voice.listener:
        return "the user's" if voice.listener == "The user" else f"{voice.listener}'s"
    if lower in ("his", "her", "their", "its"):
        return ""  # an unresolved possessor adds nothing a reader could follow
    return token.text


def _entity_type(token: Token) -> str | None:
    return _ENTITY_TYPES.get(token.ent_type_) if token.ent_type_ else None


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
    if negated:
        form = ("does_not_" + verb.lemma_.lower()) if verb.tag_ in ("VBP", "VBZ", "VB") else "not_" + form
    return form


def statement_relations(statement: Statement, voice: Voice) -> list[Relation]:
    """The triples a statement states (at most three)."""
    subject = statement.subject
    if subject is None or subject.dep_ == "expl":
        return []
    subject_name = noun_phrase(subject, voice)
    if not subject_name:
        return []
    subject_type = "person" if subject.lower_ in FIRST_PERSON else _entity_type(subject)
    verb = subject.head
    relations: list[Relation] = []

    def add(predicate: str, head: Token) -> None:
        name = noun_phrase(head, voice)
        if name and name.lower() != subject_name.lower():
            relations.append(Relation(subject_name, subject_type, predicate, name, _entity_type(head)))

    if verb.lemma_ == "be":
        for child in verb.children:
            if child.dep_ == "attr" and child.pos_ in _NOUNS:
                determiner = next((c for c in child.children if c.dep_ == "det"), None)
                indefinite = determiner is not None and determiner.lower_ in ("a", "an")
                add("is_a" if indefinite else "is", child)
                for conj in child.conjuncts:
                    add("is_a" if indefinite else "is", conj)
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
                if not relations or pobj.pos_ == "PROPN" or pobj.ent_type_:
                    add(f"{base}_{child.lower_}", pobj)
    return relations[:3]
