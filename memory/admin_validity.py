"""Whether a triple still holds, for the admin's triple list (memory/admin_knowledge.py).

Triples carry no validity of their own (memory/services/contradictions.py). Here a triple whose
predicate holds one value at a time is *superseded* when another value of its subject and
predicate was said more recently than its own last mention, and the two are not on record as a
contradiction (two processes saying both at about the same time): the most recently said of those
replaced it. The list filters with the SQL form of that rule (``superseded_triples``) and names the
replacement of each row of a page with its Python form (``replacements_of``), two queries a page.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Exists, OuterRef, Q

from memory.models import Contradiction, Triple
from memory.services.contradictions import SINGLE_VALUED_PREDICATES

ONE_VALUE = Q(predicate__name__in=SINGLE_VALUED_PREDICATES) | Q(predicate__name__endswith="_is")


def superseded_triples() -> Q:
    """Triples with a later value. The subject node is the entity's own and the unique constraint
    makes every other row of the subject and predicate another object; the lookup is by subject
    (not by entity, whose index of last mentions SQLite would scan instead: 25 times slower)."""
    pair = Q(triple_a=OuterRef("pk"), triple_b=OuterRef(OuterRef("pk"))) | Q(
        triple_a=OuterRef(OuterRef("pk")), triple_b=OuterRef("pk")
    )
    later = Triple.objects.filter(
        subject=OuterRef("subject"), predicate=OuterRef("predicate"), last_seen_at__gt=OuterRef("last_seen_at")
    ).exclude(Exists(Contradiction.objects.filter(pair)))
    return ONE_VALUE & Q(Exists(later))


def replacements_of(triples: list[Triple]) -> dict[int, Triple]:
    """For each superseded triple of ``triples`` (by id), the value that replaced it."""
    if not triples:
        return {}
    values = Triple.objects.filter(ONE_VALUE, subject_id__in={t.subject_id for t in triples})
    by_claim: dict[tuple[int, int], list[Triple]] = defaultdict(list)
    for value in values:
        by_claim[(value.subject_id, value.predicate_id)].append(value)
    one_value_ids = {value.pk for claim in by_claim.values() for value in claim}
    ids = one_value_ids | {t.pk for t in triples}
    contradicting = {
        frozenset(pair)
        for pair in Contradiction.objects.filter(triple_a_id__in=ids, triple_b_id__in=ids).values_list(
            "triple_a_id", "triple_b_id"
        )
    }
    replacements = {}
    for triple in triples:
        if triple.pk not in one_value_ids:
            continue
        later = [
            value
            for value in by_claim[(triple.subject_id, triple.predicate_id)]
            if value.last_seen_at > triple.last_seen_at and frozenset((triple.pk, value.pk)) not in contradicting
        ]
        if later:
            replacements[triple.pk] = max(later, key=lambda value: (value.last_seen_at, value.pk))
    return replacements
