from memory.extraction.predicates import VERBS, negated_predicate, positive_predicate


def test_negated_copulas_map_back_to_the_claim_they_deny():
    assert positive_predicate("is_not") == "is"
    assert positive_predicate("is_not_a") == "is_a"


def test_every_negated_predicate_of_the_rules_extractor_maps_back_exactly():
    for verb in VERBS:
        assert positive_predicate(verb.negated) == verb.predicate
        assert positive_predicate(negated_predicate(verb.predicate)) == verb.predicate
    assert positive_predicate(negated_predicate("is_a")) == "is_a"


def test_positive_predicates_are_returned_unchanged():
    for predicate in ("is", "is_a", "uses", "located_in", "notes", "is_note", "not_", "nothing_like", "island_of"):
        assert positive_predicate(predicate) == predicate


def test_other_extractors_negated_predicates_lose_their_negation():
    assert positive_predicate("does_not_own_a") == "own_a"
    assert positive_predicate("is_not_part_of") == "is_part_of"
    assert positive_predicate("are_not") == "are"
    assert positive_predicate("no_longer_works_at") == "works_at"
    assert positive_predicate("never_uses") == "uses"
