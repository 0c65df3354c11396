"""Human word-pair similarity benchmarks: MEN and any ``word1 word2 score`` file.

MEN (Bruni, Tran & Baroni 2014; CC BY 2.0) comes in lemma form with POS
suffixes (``cat-n``) and an official dev (2000) / test (1000) split. Online it is
downloaded once from its official page into ``cache/`` and checked against
known checksums; offline it is read from a local folder. Other benchmarks
(SimLex-999, WordSim-353, your own) load from a TSV or space-separated file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import urllib.request
import zipfile
from collections.abc import Iterable

import pandas as pd

from .words import ConceptError, normalise_concept

MEN_URLS = (  # the official page (Bruni); the archive is offered as .zip and .tar.gz
    "https://staff.fnwi.uva.nl/e.bruni/resources/MEN.zip",
    "https://staff.fnwi.uva.nl/e.bruni/resources/MEN.tar.gz",
)
MEN_FILES = {
    "dev": "MEN_dataset_lemma_form.dev",
    "test": "MEN_dataset_lemma_form.test",
    "full": "MEN_dataset_lemma_form_full",
}
MEN_SHA256 = {
    "MEN_dataset_lemma_form.dev": "d7b1b92001d901dc152fa6ab019f061e6494115141f96215ed0bc88dd98f65c1",
    "MEN_dataset_lemma_form.test": "8ed8355642271c67f6f4be26ada5192faff54093651d486f0620bbd9ccfeeeda",
    "MEN_dataset_lemma_form_full": "d13c9c666691944c29aa4bdee7128fa69eb5f9734603f8c6048d1bc2ca08465a",
}
MEN_HUMAN_CEILING = 0.84  # correlation of two authors' mean ratings with MEN (Bruni et al. 2014)


class BenchmarkError(ValueError):
    """A benchmark file that cannot be read."""


# Score columns of benchmark files as distributed, found by name when no --score-column is given:
# SimLex-999 (``SimLex-999.txt``) and WordSim-353 (``combined.tab``, ``set1.tab``, ``combined.csv``).
SCORE_COLUMNS = ("SimLex999", "Human (mean)", "score")
SIMLEX_POS = {"A": "j", "N": "n", "V": "v"}  # SimLex-999's POS column in MEN's suffix letters


def read_pairs(path: str, score_column: str | None = None) -> pd.DataFrame:
    """Word pairs of a benchmark file: columns word1, word2, score, pos1, pos2.

    Lines are ``word1 word2 score`` separated by tabs or spaces; a header line
    (non-numeric score) is skipped; POS suffixes ``-n/-v/-j`` go to ``pos1/pos2``.
    A file whose header is tab- or comma-separated (SimLex-999, WordSim-353 as distributed) is read by column
    name: the words from the first two columns, the score from ``score_column`` or the first of
    ``SCORE_COLUMNS`` present (else the third column).
    """
    if not os.path.isfile(path):
        raise BenchmarkError(f"no such benchmark file: {path!r}")
    with open(path, "rb") as f:
        raw = f.read()
    if b"\x00" in raw[:4096]:
        raise BenchmarkError(f"{path!r} looks binary; a benchmark is a text file of 'word1 word2 score' lines")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BenchmarkError(f"{path!r} is not UTF-8 text (byte {e.start})") from None
    return parse_pairs(text, path, score_column)


def _table_delimiter(text: str, score_column: str | None) -> str | None:
    """The delimiter of a file with a header read by column name (None: plain ``word1 word2 score`` lines)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    fields = re.split(r"[\t ]+", first.strip())
    try:
        float(fields[2] if len(fields) > 2 else "")
        return None if score_column is None else r"[\t ]+"  # no header to name a column by
    except ValueError:
        pass
    if "\t" in first:
        return "\t"
    if "," in first:
        return ","
    return r"[\t ]+" if score_column is not None else None


def parse_table(text: str, name: str, delimiter: str, score_column: str | None = None) -> pd.DataFrame:
    """Pairs of a benchmark with a header line, by column name (see ``read_pairs``)."""
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise BenchmarkError(f"{name}: no word pairs found")
    split = (lambda line: line.strip().split(delimiter)) if delimiter in ("\t", ",") else re.compile(delimiter).split
    header = [h.strip() for h in split(lines[0][1].strip())]
    if score_column is not None and score_column not in header:
        raise BenchmarkError(f"{name}: no column {score_column!r} (columns: {', '.join(header)})")
    if len(header) < 3 and score_column is None:
        raise BenchmarkError(f"{name}:1: expected a header of at least 3 columns, got {lines[0][1].strip()[:60]!r}")
    col = header.index(score_column or next((c for c in SCORE_COLUMNS if c in header), header[2]))
    pos_col = header.index("POS") if "POS" in header else None
    rows = []
    for i, line in lines[1:]:
        fields = [f.strip() for f in split(line.strip())]
        if len(fields) <= max(col, 1):
            raise BenchmarkError(f"{name}:{i}: expected {len(header)} columns, got {line.strip()[:60]!r}")
        try:
            score = float(fields[col])
        except ValueError:
            raise BenchmarkError(f"{name}:{i}: {header[col]} {fields[col][:20]!r} is not a number") from None
        if score != score:
            raise BenchmarkError(f"{name}:{i}: score is NaN")
        pos = SIMLEX_POS.get(fields[pos_col], "") if pos_col is not None and pos_col < len(fields) else ""
        try:
            w1, w2 = normalise_concept(fields[0]), normalise_concept(fields[1])
        except ConceptError as e:
            raise BenchmarkError(f"{name}:{i}: {e}") from None
        rows.append((w1, w2, score, pos, pos))
    if not rows:
        raise BenchmarkError(f"{name}: no word pairs found")
    return pd.DataFrame(rows, columns=["word1", "word2", "score", "pos1", "pos2"])


def parse_pairs(text: str, name: str = "benchmark", score_column: str | None = None) -> pd.DataFrame:
    delimiter = _table_delimiter(text, score_column)
    if delimiter is not None:
        return parse_table(text, name, delimiter, score_column)
    rows = []
    for i, line in enumerate(text.splitlines(), 1):
        fields = re.split(r"[\t ]+", line.strip())
        if fields == [""]:
            continue
        if len(fields) < 3:
            raise BenchmarkError(f"{name}:{i}: expected 'word1 word2 score', got {line.strip()[:60]!r}")
        try:
            score = float(fields[2])
        except ValueError:
            if not rows and i <= 1:  # header
                continue
            raise BenchmarkError(f"{name}:{i}: score {fields[2][:20]!r} is not a number") from None
        if score != score:
            raise BenchmarkError(f"{name}:{i}: score is NaN")
        w = []
        for token in fields[:2]:
            pos = token[-1] if re.search(r"-[nvja]$", token) else ""
            try:
                w += [normalise_concept(token), pos]
            except ConceptError as e:
                raise BenchmarkError(f"{name}:{i}: {e}") from None
        rows.append((w[0], w[2], score, w[1], w[3]))
    if not rows:
        raise BenchmarkError(f"{name}: no word pairs found")
    return pd.DataFrame(rows, columns=["word1", "word2", "score", "pos1", "pos2"])


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def men_path(split: str = "test", local_dir: str | None = None, cache_dir: str = "cache") -> str:
    """Path of a MEN split file: from ``local_dir`` if given, else downloaded once into ``cache_dir``.

    The download is checked against the official files' SHA-256.
    """
    if split not in MEN_FILES:
        raise BenchmarkError(f"MEN split must be one of {sorted(MEN_FILES)}, got {split!r}")
    fname = MEN_FILES[split]
    if local_dir:
        path = os.path.join(local_dir, fname)
        if not os.path.isfile(path):
            raise BenchmarkError(f"no {fname} in {local_dir!r}")
        return path
    path = os.path.join(cache_dir, "MEN", fname)
    if not os.path.isfile(path):
        _download_men(os.path.join(cache_dir, "MEN"))
    if _sha256(path) != MEN_SHA256[fname]:
        raise BenchmarkError(f"{path!r} does not match the official MEN checksum; delete it to download again")
    return path


def _download_men(folder: str) -> None:
    import tarfile

    os.makedirs(folder, exist_ok=True)
    errors = []
    for url in MEN_URLS:
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                data = r.read()
            break
        except OSError as e:
            errors.append(f"{url}: {e}")
    else:
        raise BenchmarkError(f"cannot download MEN ({'; '.join(errors)}); pass --men-dir with a local copy")
    opener = tarfile.open(fileobj=io.BytesIO(data)) if not data[:2] == b"PK" else zipfile.ZipFile(io.BytesIO(data))
    names = opener.getnames() if isinstance(opener, tarfile.TarFile) else opener.namelist()
    for fname in MEN_SHA256:
        member = next((n for n in names if n.endswith(fname)), None)
        if member is None:
            continue
        if isinstance(opener, zipfile.ZipFile):
            content = opener.read(member)
        elif (extracted := opener.extractfile(member)) is not None:
            content = extracted.read()
        else:
            continue  # a folder of that name, not the file
        with open(os.path.join(folder, fname), "wb") as f:
            f.write(content)


def load_men(split: str = "test", local_dir: str | None = None, cache_dir: str = "cache") -> pd.DataFrame:
    """MEN pairs of one split (lemma form, scores 0–50)."""
    return read_pairs(men_path(split, local_dir, cache_dir))


def words_of(pairs: pd.DataFrame) -> list[str]:
    """Distinct words of a benchmark, most frequent first (ties alphabetical)."""
    counts = pd.concat([pairs["word1"], pairs["word2"]]).value_counts()
    return sorted(counts.index, key=lambda w: (-counts[w], w))


def coverage_order(pairs: pd.DataFrame, words: list[str] | None = None) -> list[str]:
    """Order words so that each prefix covers as many pairs as possible (greedy).

    Extracting concepts in this order makes a partial run cover the most pairs.
    """
    pool = set(words if words is not None else words_of(pairs))
    neighbours: dict[str, list[str]] = {w: [] for w in pool}
    for a, b in zip(pairs["word1"], pairs["word2"]):
        if a in pool and b in pool and a != b:
            neighbours[a].append(b)
            neighbours[b].append(a)
    gain = {w: 0 for w in pool}  # pairs a word would complete with the words chosen so far
    chosen: list[str] = []
    while gain:
        best = max(gain, key=lambda w: (gain[w], len(neighbours[w]), w))
        chosen.append(best)
        del gain[best]
        for n in neighbours[best]:
            if n in gain:
                gain[n] += 1
    return chosen


def coverage(pairs: pd.DataFrame, concepts: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(covered, missing): pairs with both words among ``concepts``, and the rest with the reason."""
    ok = pairs["word1"].isin(concepts) & pairs["word2"].isin(concepts)
    missing = pairs[~ok].copy()
    missing["missing"] = [
        ", ".join(w for w in (a, b) if w not in concepts) for a, b in zip(missing["word1"], missing["word2"])
    ]
    return pairs[ok].reset_index(drop=True), missing.reset_index(drop=True)


def benchmark_name(path: str) -> str:
    """How a benchmark file is named in tables, pages and stored alignment: ``MEN test`` for a MEN split file,
    else the file name without its extension."""
    base = os.path.basename(path)
    split = next((s for s, f in MEN_FILES.items() if f == base), None)
    return f"MEN {split}" if split else os.path.splitext(base)[0]


def pairs_hash(pairs: pd.DataFrame) -> str:
    """SHA-256 of a benchmark's parsed pairs (word1, word2, score in file order): what its alignment depends on.

    Stored alignment summaries are keyed by it, so an edited rating makes them stale, while a file that only
    changes in layout (spacing, line endings, a header) keeps them.
    """
    text = "\n".join(f"{a}\t{b}\t{float(s)!r}" for a, b, s in zip(pairs["word1"], pairs["word2"], pairs["score"]))
    return hashlib.sha256(text.encode()).hexdigest()


def find_benchmarks(men_dir: str, extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(name, path) of the benchmark files present: MEN splits in ``men_dir``, then ``extra`` files.

    Only files already on disk count: the dashboard never downloads.
    """
    out = []
    for split in ("test", "dev", "full"):
        path = os.path.join(men_dir, MEN_FILES[split])
        if os.path.isfile(path):
            out.append((benchmark_name(path), path))
    for path in extra:
        if os.path.isfile(path):
            out.append((os.path.splitext(os.path.basename(path))[0], path))
    return out


def word_coverage(pairs: pd.DataFrame, sentence_counts: dict[str, int], n_pos: int, min_pos: int | None = None):
    """(words, pairs_ready): each benchmark word's sentences and status, and the pairs both of whose words are ready.

    A word is ``ready`` with at least ``n_pos`` sentences, ``short`` with fewer but at least ``min_pos`` (usable
    with ``--min-pos``), else ``needs mining``. ``words`` has columns word, n_sentences, n_pairs, status, most
    frequent words first; a pair is ready when neither word needs mining.
    """
    floor = n_pos if min_pos is None else min(min_pos, n_pos)
    counts = pd.concat([pairs["word1"], pairs["word2"]]).value_counts()
    words = words_of(pairs)
    n_sent = [int(sentence_counts.get(w, 0)) for w in words]
    status = ["ready" if n >= n_pos else "short" if n >= floor else "needs mining" for n in n_sent]
    table = pd.DataFrame({"word": words, "n_sentences": n_sent, "n_pairs": [int(counts[w]) for w in words]})
    table["status"] = status
    usable = set(table.loc[table["status"] != "needs mining", "word"])
    return table, coverage(pairs, usable)[0]
