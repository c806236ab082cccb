"""Normalisation is the dedup key of memories and graph nodes: it must fold spelling variants
together, keep different content (in any script) apart, and be stable under re-application."""

from hypothesis import given
from hypothesis import strategies as st

from memory.extraction.normalize import content_hash, normalize_node_name, normalize_predicate, normalize_text


def test_it_folds_case_width_whitespace_and_surrounding_punctuation():
    assert normalize_text("  Uses   PostgreSQL.  ") == "uses postgresql"
    assert normalize_text("**Uses PostgreSQL**") == "uses postgresql"
    assert normalize_text("Ｕｓｅｓ PostgreSQL") == "uses postgresql"  # full-width letters
    assert normalize_text("Uses\tPostgreSQL\n") == "uses postgresql"


def test_it_strips_list_markers():
    assert normalize_text("- Database: PostgreSQL") == "database: postgresql"
    assert normalize_text("1. Database: PostgreSQL") == "database: postgresql"
    assert normalize_text("\u2022 Database: PostgreSQL") == "database: postgresql"


def test_it_unifies_curly_quotes_and_dashes():
    assert normalize_text("I can\u2019t log in") == normalize_text("I can't log in")
    assert normalize_text("in\u2013app notifications") == normalize_text("in-app notifications")


def test_it_keeps_characters_that_carry_meaning():
    assert normalize_text("Written in C#") == "written in c#"
    assert normalize_text("Written in C++") == "written in c++"
    assert normalize_text("Discount is 50%") == "discount is 50%"
    assert normalize_text("Uses PostgreSQL (v16)") == "uses postgresql (v16)"


def test_it_drops_control_and_invisible_characters():
    assert normalize_text("Uses\x00PostgreSQL") == "uses postgresql"
    assert normalize_text("\ufeffUses\u200b PostgreSQL\u200e") == "uses postgresql"


def test_it_keeps_non_latin_scripts():
    assert normalize_text("我喜欢深色模式\u3002") == "我喜欢深色模式"
    assert normalize_text("Я предпочитаю Go.") == ("я предпочитаю go")
    arabic = "أنا أفضل الوضع الداكن"
    assert normalize_text(arabic + "؟") == arabic


def test_it_gives_empty_for_punctuation_only():
    assert normalize_text("") == ""
    assert normalize_text(" ...!? ") == ""


def test_content_hash_is_sha256_hex_of_the_normalised_text():
    import hashlib

    assert content_hash("Uses PostgreSQL.") == hashlib.sha256(b"uses postgresql").hexdigest()
    assert content_hash("uses postgresql") == content_hash("  USES PostgreSQL!")


def test_node_names_drop_articles_and_possessives():
    assert normalize_node_name("The database") == "database"
    assert normalize_node_name("our Database") == "database"
    assert normalize_node_name("Database") == "database"
    assert normalize_node_name("A") == "a"  # a lone article is a name, not nothing


def test_predicates_are_lower_snake_case():
    assert normalize_predicate("Located In") == "located_in"
    assert normalize_predicate("does not want") == "does_not_want"
    assert normalize_predicate("uses") == "uses"


@given(st.text())
def test_normalisation_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text())
def test_node_name_normalisation_is_idempotent(text):
    once = normalize_node_name(text)
    assert normalize_node_name(once) == once


@given(st.text())
def test_the_same_content_always_has_the_same_hash(text):
    assert content_hash(text) == content_hash(str(text))
    assert content_hash(text) == content_hash(normalize_text(text))
    assert len(content_hash(text)) == 64


_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_CYRILLIC = st.characters(min_codepoint=0x0430, max_codepoint=0x044F)  # lower-case: case-folding is a no-op


@given(st.lists(_CJK, min_size=2, max_size=30), st.lists(_CJK, min_size=2, max_size=30))
def test_different_chinese_sentences_have_different_hashes(a, b):
    first, second = "".join(a) + "\u3002", "".join(b) + "\u3002"
    assert (content_hash(first) == content_hash(second)) == (a == b)


@given(
    st.lists(st.text(_CYRILLIC, min_size=1, max_size=10), min_size=1, max_size=6),
    st.lists(st.text(_CYRILLIC, min_size=1, max_size=10), min_size=1, max_size=6),
)
def test_different_cyrillic_sentences_have_different_hashes(a, b):
    first, second = " ".join(a).capitalize() + ".", " ".join(b).capitalize() + "."
    assert (content_hash(first) == content_hash(second)) == (a == b)


def test_similar_sentences_in_other_scripts_stay_apart():
    assert content_hash("我喜欢深色模式") != content_hash("我喜欢浅色模式")
    assert content_hash("Я люблю чай") != content_hash("Я люблю кофе")
