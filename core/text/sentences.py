"""Positive sentences of concepts: read from files or mined from a corpus.

All sources produce ``{concept: [sentence, ...]}``; ``core.storage.store.Store``
keeps them. A sentence is kept for a concept only if it contains the word or
one of its inflections (``core.text.words``), so a positive set is always positive.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator

from core.errors import first_line

from .words import ConceptError, n_words, normalise_concept, tokens, word_forms

MIN_WORDS, MAX_WORDS = 5, 60


class SentenceFileError(ValueError):
    """A sentence or corpus file that cannot be read."""


def sentence_id(text: str) -> int:
    """Stable 63-bit id of a sentence (hash of its text): the store's key for it."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big") >> 1


def _open_text(path: str) -> io.TextIOBase:
    """Open a (possibly gzipped) UTF-8 text file, refusing binary files."""
    if not os.path.exists(path):
        raise SentenceFileError(f"no such file: {path!r}")
    if os.path.isdir(path):
        raise SentenceFileError(f"{path!r} is a folder; give a file")
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(4096)
    if b"\x00" in head:
        raise SentenceFileError(f"{path!r} looks binary (NUL bytes); give a UTF-8 text file")
    return opener(path, "rt", encoding="utf-8", errors="strict", newline="")


def _read_all(path: str) -> str:
    try:
        with _open_text(path) as f:
            return f.read()
    except UnicodeDecodeError as e:
        raise SentenceFileError(f"{path!r} is not UTF-8 text (byte {e.start}); re-save it as UTF-8") from None
    except (OSError, EOFError, zlib.error) as e:
        raise SentenceFileError(f"cannot read {path!r} ({first_line(e, 200)}); truncated or corrupt?") from None


def read_pairs(path: str) -> list[tuple[str, str]]:
    """(concept, sentence) pairs from a CSV/TSV/JSONL file or a folder of ``<concept>.txt``.

    CSV/TSV files need a header with ``concept`` and ``sentence`` columns; JSONL
    lines are objects with those keys. Concept names are normalised.
    """
    if os.path.isdir(path):
        return _read_txt_folder(path)
    name = path[:-3] if path.endswith(".gz") else path
    ext = os.path.splitext(name)[1].lower()
    text = _read_all(path)
    if not text.strip():
        raise SentenceFileError(f"{path!r} is empty")
    if ext == ".jsonl":
        pairs = _parse_jsonl(text, path)
    elif ext in (".csv", ".tsv"):
        pairs = _parse_table(text, path, "\t" if ext == ".tsv" else ",")
    elif ext == ".txt":
        pairs = [(os.path.basename(name)[:-4], line) for line in text.splitlines() if line.strip()]
    else:
        raise SentenceFileError(
            f"{path!r}: unknown format {ext or '(none)'}; use .csv, .tsv, .jsonl, .txt or a folder of .txt"
        )
    return _normalised(pairs, path)


def _read_txt_folder(folder: str) -> list[tuple[str, str]]:
    files = sorted(f for f in os.listdir(folder) if f.endswith(".txt"))
    if not files:
        raise SentenceFileError(f"folder {folder!r} has no .txt files (one file per concept: <concept>.txt)")
    pairs = []
    for f in files:
        text = _read_all(os.path.join(folder, f))
        pairs += [(f[:-4], line) for line in text.splitlines() if line.strip()]
    return _normalised(pairs, folder)


def _parse_jsonl(text: str, path: str) -> list[tuple[str, str]]:
    pairs = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise SentenceFileError(f"{path}:{i}: not valid JSON ({e.msg})") from None
        if (
            not isinstance(obj, dict)
            or not isinstance(obj.get("concept"), str)
            or not isinstance(obj.get("sentence"), str)
        ):
            raise SentenceFileError(
                f"{path}:{i}: each line must be an object with string fields 'concept' and 'sentence'"
            )
        pairs.append((obj["concept"], obj["sentence"]))
    return pairs


def _parse_table(text: str, path: str, delimiter: str) -> list[tuple[str, str]]:
    """Rows of a CSV/TSV with their first line numbers; a quoted cell may not span lines.

    A sentence is one line, so a cell running over a line break can only come from a stray ``"`` that
    opened a quoted cell: it would swallow every later row into one "sentence". It is refused, with
    the line where it starts.
    """
    kind = "TSV" if delimiter == "\t" else "CSV"
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            if reader.line_num > start and any("\n" in cell or "\r" in cell for cell in row):
                raise SentenceFileError(
                    f'{path}:{start}: a quote (") opens a cell that runs on to line {reader.line_num}; '
                    f'close it, double the quotes inside (""), or remove the stray quote'
                )
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as e:
        raise SentenceFileError(f"{path}:{start}: malformed {kind} ({e})") from None
    if not rows:
        raise SentenceFileError(f"{path} is empty")
    header = [h.strip().lower() for h in rows[0][1]]
    if "concept" not in header or "sentence" not in header:
        raise SentenceFileError(f"{path}: the first line must be a header naming 'concept' and 'sentence' columns")
    ci, si = header.index("concept"), header.index("sentence")
    pairs = []
    for i, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(ci, si):
            raise SentenceFileError(f"{path}:{i}: expected {len(header)} columns, found {len(row)}")
        pairs.append((row[ci], row[si]))
    return pairs


def _normalised(pairs: list[tuple[str, str]], path: str) -> list[tuple[str, str]]:
    if not pairs:
        raise SentenceFileError(f"{path!r} holds no sentences")
    spellings: dict[str, str] = {}
    out = []
    for raw, sentence in pairs:
        try:
            concept = normalise_concept(raw)
        except ConceptError as e:
            raise SentenceFileError(f"{path}: {e}") from None
        first = spellings.setdefault(concept, raw.strip())
        if first != raw.strip() and first.lower() == raw.strip().lower():
            raise SentenceFileError(
                f"{path}: concepts {first!r} and {raw.strip()!r} differ only by case; concepts are case-insensitive, use one spelling"
            )
        out.append((concept, sentence.strip()))
    return out


def group_by_concept(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for concept, sentence in pairs:
        grouped[concept].append(sentence)
    return dict(grouped)


def split_positive(concept: str, sentences: Iterable[str]) -> tuple[list[str], list[str]]:
    """(kept, rejected): sentences that contain ``concept`` (or an inflection) as a whole word, deduplicated."""
    forms = word_forms(concept)
    kept, rejected = [], []
    for s in dict.fromkeys(s.strip() for s in sentences if s.strip()):
        (kept if not forms.isdisjoint(tokens(s)) else rejected).append(s)
    return kept, rejected


def iter_corpus(path: str) -> Iterator[str]:
    """Sentences of a corpus: plain text (one per line) or JSONL with a ``text`` field; ``.gz`` allowed."""
    name = path[:-3] if path.endswith(".gz") else path
    is_jsonl = name.endswith(".jsonl")
    try:
        with _open_text(path) as f:
            for i, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                if is_jsonl:
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise SentenceFileError(f"{path}:{i}: not valid JSON ({e.msg})") from None
                    text = obj.get("text") if isinstance(obj, dict) else None
                    if not isinstance(text, str):
                        raise SentenceFileError(f"{path}:{i}: JSONL corpus lines need a string field 'text'")
                    yield text
                else:
                    yield line
    except UnicodeDecodeError as e:
        raise SentenceFileError(f"{path!r} is not UTF-8 text (byte {e.start}); re-save it as UTF-8") from None
    except (EOFError, OSError, zlib.error) as e:  # a truncated or corrupt .gz, or a read error
        raise SentenceFileError(
            f"cannot read {path!r} ({first_line(e, 200)}); truncated or corrupt? nothing stored"
        ) from None


def mine(corpus: str | Iterable[str], concepts: Iterable[str], limit: int | None = None) -> dict[str, list[str]]:
    """Sentences of a corpus that contain each concept (whole word, any inflection, any case).

    Duplicates are dropped, as are sentences under 5 or over 60 words.
    ``limit`` keeps at most that many per concept (the first in corpus order).
    """
    concepts = [normalise_concept(c) for c in concepts]
    by_form: dict[str, list[str]] = defaultdict(list)
    for c in concepts:
        for form in word_forms(c):
            by_form[form].append(c)
    found: dict[str, list[str]] = {c: [] for c in concepts}
    seen: set[str] = set()
    lines = iter_corpus(corpus) if isinstance(corpus, str) else corpus
    for text in lines:
        hits = {c for t in tokens(text) for c in by_form.get(t, ())}
        if not hits or text in seen or not MIN_WORDS <= n_words(text) <= MAX_WORDS:
            continue
        seen.add(text)
        for c in hits:
            if limit is None or len(found[c]) < limit:
                found[c].append(text)
    return found
