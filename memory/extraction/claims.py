"""State claims: what a statement says is the current value of something (see types.StateClaim).

A statement claims a state when it gives a typed value (a date, an amount, a number, a name, a
place) to a subject through a relation that holds one value at a time:
- a copula or "due" ("The invoice date is March 5", "The invoice is due on March 5");
- a present-tense verb of a thing's setup ("Payments go through Stripe", "The API runs on AWS")
  or of where a person lives or works ("Dana lives in Lisbon", "Sam works at Acme");
- a change ("We moved payments to Adyen", "The date was changed to March 12"), whose attribute is
  "*": it updates whichever claim about the subject has a value of the same type.
Past events ("Caroline went to Paris") and likes claim nothing: they stay true when another comes.
The subject is the noun phrase's head with its compounds ("invoice date"); an attribute noun
that names the value ("date", "price", "provider") becomes the attribute, its owner the subject
("invoice" + "date"), so "the invoice is due March 5" and "the invoice date moved to March 12"
speak of the same thing.
"""

from __future__ import annotations

from spacy.tokens import Token

from memory.extraction.normalize import normalize_node_name
from memory.extraction.relations import noun_phrase
from memory.extraction.statements import Statement, Voice
from memory.extraction.types import StateClaim
from memory.extraction.values import value_span, value_type

CHANGE_VERBS = frozenset(
    "move switch change migrate update reschedule postpone push shift transfer upgrade downgrade swap"
    " replace relocate bump".split()
)
RESIDENCE_VERBS = frozenset({"live", "reside", "work", "study", "stay", "bank"})
# Nouns that name an attribute of their owner rather than a thing ("the invoice's date").
ATTRIBUTE_NOUNS = frozenset(
    "date day deadline time price cost fee amount total budget plan tier name address location city country"
    " provider vendor email phone number version status owner manager limit rate salary".split()
)


def _core(head: Token) -> str:
    """A claim's subject: the head's lemma with its compounds ("invoice date", "payment"), without
    possessors or adjectives, so "our payments" and "payments" are one subject."""
    words = [c.lower_ for c in head.children if c.dep_ == "compound" and c.i < head.i] + [head.lemma_.lower()]
    return normalize_node_name(" ".join(words))


def _subject_and_attribute(head: Token, voice: Voice, attribute: str) -> tuple[str, str] | None:
    """("invoice", "date") for "the invoice date"; ("payments", attribute) for "payments"."""
    owner = [c for c in head.children if c.dep_ in ("compound", "poss") and c.pos_ in ("NOUN", "PROPN", "PRON")]
    names_the_value = attribute in ("be", "*", "due")  # "the invoice date is ...", not "the plan costs ..."
    if head.lemma_.lower() in ATTRIBUTE_NOUNS and owner and names_the_value:
        owner_token = owner[-1]
        owner_name = noun_phrase(owner_token, voice) if owner_token.pos_ == "PRON" else _core(owner_token)
        if owner_name:
            return normalize_node_name(owner_name), head.lemma_.lower() if attribute != "*" else "*"
    if head.pos_ == "PRON":
        name = noun_phrase(head, voice)
        return (normalize_node_name(name), attribute) if name else None
    return _core(head), attribute


def _claim(subject: Token, attribute: str, value_head: Token, voice: Voice) -> StateClaim | None:
    value_text = value_span(value_head)
    kind = value_type(value_head, value_text)
    if kind is None:
        return None
    pair = _subject_and_attribute(subject, voice, attribute)
    if pair is None or not pair[0]:
        return None
    return StateClaim(subject=pair[0], attribute=pair[1], value=value_text, value_type=kind)


def _prep_object(verb: Token, preps: tuple[str, ...]) -> Token | None:
    """The object of the first of ``preps`` attached to the verb (or to its direct object, where the
    small model often hangs it: "moved payments [to Adyen]")."""
    holders = [verb] + [c for c in verb.children if c.dep_ in ("dobj", "obj")]
    for holder in holders:
        for child in holder.children:
            if child.dep_ in ("prep", "dative") and child.lower_ in preps:
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        return pobj
    return None


def statement_claim(statement: Statement, voice: Voice) -> StateClaim | None:
    """The StateClaim of a statement, or None."""
    subject = statement.subject
    if subject is None or subject.dep_ == "expl":
        return None
    verb = subject.head
    lemma = verb.lemma_.lower()
    present = verb.tag_ in ("VBZ", "VBP") or any(c.lower_ in ("is", "are", "am", "'s", "'re") for c in verb.children)
    if lemma in CHANGE_VERBS:
        target = _prep_object(verb, ("to", "for", "until"))
        if target is None:
            return None
        thing = next((c for c in verb.children if c.dep_ in ("dobj", "obj")), None)
        if thing is None:
            thing = subject if subject.dep_ == "nsubjpass" or subject.pos_ != "PRON" else None
        if thing is None or thing.lower_ in ("it", "that", "this"):
            return None
        return _claim(thing, "*", target, voice)
    if not present or any(c.dep_ == "neg" for c in verb.children):
        return None
    if lemma == "be":
        attr = next((c for c in verb.children if c.dep_ in ("attr", "acomp")), None)
        if attr is not None and attr.lemma_.lower() == "due":
            target = _prep_object(attr, ("on", "by", "in")) or next(
                (c for c in attr.children if c.dep_ in ("npadvmod", "pobj")), None
            )
            return _claim(subject, "due", target, voice) if target is not None else None
        if attr is not None and attr.dep_ == "attr":
            return _claim(subject, "be", attr, voice)
        target = _prep_object(verb, ("on", "in", "at", "with"))
        return _claim(subject, "be_" + target.head.lower_, target, voice) if target is not None else None
    if subject.pos_ in ("PRON", "PROPN") or subject.lower_ in ("user",):
        if lemma not in RESIDENCE_VERBS:
            return None  # what people do and like accumulates; where they live or work is one place
    target = next((c for c in verb.children if c.dep_ in ("dobj", "obj")), None)
    preposition = ""
    if target is None:
        for child in verb.children:
            if child.dep_ == "prep":
                pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                if pobj is not None:
                    target, preposition = pobj, child.lower_
                    break
    if target is None:
        return None
    particle = next((c.lower_ for c in verb.children if c.dep_ == "prt"), "")
    attribute = "_".join(filter(None, (lemma, particle, preposition)))
    return _claim(subject, attribute, target, voice)
