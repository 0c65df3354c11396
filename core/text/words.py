"""Concept words: normalisation, inflected forms and whole-word matching.

A concept is matched in a sentence by any of its inflected forms (cat/cats,
run/runs/running/ran, big/bigger/biggest) as a whole ``[A-Za-z]+`` token,
case-insensitively. Forms come from lemminflect, a maintained inflection
lexicon, so that positives are mined and negatives filtered by the same rule.
"""

from __future__ import annotations

import re
from functools import cache

_TOKEN = re.compile(r"[A-Za-z]+")
_VALID_CONCEPT = re.compile(r"^[a-z][a-z'\-]{0,63}$")
_UPOS = {"n": "NOUN", "v": "VERB", "j": "ADJ", "a": "ADJ", "r": "ADV"}


class ConceptError(ValueError):
    """A concept name that cannot be used."""


def normalise_concept(name: str) -> str:
    """Return the canonical (lower-case, stripped) form of a concept name.

    A concept is a single English word (letters, optionally ``'`` or ``-``); a
    MEN-style POS suffix (``cat-n``) is dropped. Anything else is refused with a
    one-line reason, since concept names end up in file names, SQL and HTML.
    """
    if not isinstance(name, str):
        raise ConceptError(f"concept must be a string, got {type(name).__name__}")
    word = name.strip().lower()
    if len(word) > 2 and word[-2] == "-" and word[-1] in _UPOS:
        word = word[:-2]
    if not _VALID_CONCEPT.match(word):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise ConceptError(f"invalid concept {shown!r}: use one word of letters (a-z, optionally ' or -)")
    return word


@cache
def word_forms(word: str, pos: str | None = None) -> frozenset[str]:
    """All inflected forms of ``word`` (lower-case), the word itself included.

    ``pos`` ("n", "v", "j") restricts the forms to one part of speech, as MEN's
    lemma suffixes do; by default the forms of every part of speech are used.
    """
    from lemminflect import getAllInflections, getAllInflectionsOOV

    word = word.lower()
    upos = _UPOS.get(pos) if pos else None
    inflections = getAllInflections(word, upos=upos) if upos else getAllInflections(word)
    if not inflections:
        inflections = getAllInflectionsOOV(word, upos=upos or "NOUN")
    forms = {word}
    for variants in inflections.values():
        forms.update(v.lower() for v in variants)
    return frozenset(forms)


def tokens(text: str) -> set[str]:
    """The lower-cased whole-word tokens of a sentence."""
    return {t.lower() for t in _TOKEN.findall(text)}


def contains_word(text: str, word: str) -> bool:
    """Whether ``text`` contains ``word`` or one of its inflections as a whole word."""
    return not word_forms(word).isdisjoint(tokens(text))


def n_words(text: str) -> int:
    """Number of whitespace-separated words (the paper's 5–60 word filter)."""
    return len(text.split())
