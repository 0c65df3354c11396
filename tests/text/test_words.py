import pytest

from core.text.words import ConceptError, contains_word, normalise_concept, word_forms


@pytest.mark.parametrize(
    "word, forms",
    [
        ("cat", {"cat", "cats"}),
        ("run", {"run", "runs", "running", "ran"}),
        ("big", {"big", "bigger", "biggest"}),
    ],
)
def test_inflections(word, forms):
    assert forms <= word_forms(word)


def test_whole_word_case_insensitive_match():
    assert contains_word("Cats sleep a lot.", "cat")
    assert contains_word("She RAN home.", "run")
    assert not contains_word("The category was wrong.", "cat")
    assert not contains_word("Concatenate them.", "cat")
    assert contains_word("A cat's toy.", "cat")


@pytest.mark.parametrize("raw, norm", [("Cat", "cat"), ("  dog ", "dog"), ("cat-n", "cat"), ("ice-cream", "ice-cream")])
def test_normalise(raw, norm):
    assert normalise_concept(raw) == norm


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "two words",
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE runs; --",
        "../etc/passwd",
        "a/b",
        "x" * 80,
        "café1",
    ],
)
def test_bad_concept_names_refused_with_one_line(bad):
    with pytest.raises(ConceptError) as e:
        normalise_concept(bad)
    assert "\n" not in str(e.value) and "invalid concept" in str(e.value)
