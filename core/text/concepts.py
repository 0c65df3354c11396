"""Concept lists and domain lists.

A domain list is a text file of lines ``domain: concept, concept, ...``
(``#`` starts a comment). A plain list has one concept per line; its concepts
have no domain.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from .words import ConceptError, normalise_concept

DEFAULT_DOMAINS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data", "domains.txt"
)


class ConceptFileError(ValueError):
    """A concept or domain list that cannot be read."""


def read_domains(path: str = DEFAULT_DOMAINS) -> dict[str, str]:
    """``{concept: domain}`` of a domain list (domain ``""`` for plain lines), in file order."""
    if not os.path.isfile(path):
        raise ConceptFileError(f"no such concept file: {path!r}")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError:
        raise ConceptFileError(f"{path!r} is not UTF-8 text") from None
    out: dict[str, str] = {}
    for i, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        domain, _, rest = line.rpartition(":") if ":" in line else ("", "", line)
        for raw in rest.split(","):
            if not raw.strip():
                continue
            try:
                concept = normalise_concept(raw)
            except ConceptError as e:
                raise ConceptFileError(f"{path}:{i}: {e}") from None
            if concept in out and out[concept] != domain.strip():
                raise ConceptFileError(f"{path}:{i}: {concept!r} is listed in two domains")
            out[concept] = domain.strip()
    if not out:
        raise ConceptFileError(f"{path!r} lists no concepts")
    return out


def read_concept_file(path: str) -> list[str]:
    """The concepts of a plain or domain list, in file order."""
    return list(read_domains(path))


def domain_list_text(concepts: Iterable[str], known: Mapping[str, str]) -> str:
    """A domain list (``domain: a, b, c``, as ``read_domains`` reads it) of ``concepts``: each under its domain in
    ``known``, the others on a line of their own, to sort into domains by hand."""
    groups: dict[str, list[str]] = {}
    for c in sorted(set(concepts)):
        groups.setdefault(known.get(c) or "", []).append(c)
    lines = ["# Domain list of a run's concepts: one domain a line. Point EXPERTS_DOMAINS at this file."]
    lines += [f"{d}: {', '.join(cs)}" for d, cs in sorted(groups.items()) if d]
    if groups.get(""):
        lines += ["# not in a known domain list yet: give them a domain", "unsorted: " + ", ".join(groups[""])]
    return "\n".join(lines) + "\n"
