import gzip
import json
import os

import pytest

from core.text.sentences import SentenceFileError, group_by_concept, mine, read_pairs, split_positive

CORPUS = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "corpus", "enwiki2015_sample", "sentences.jsonl.gz"
)


def test_mine_inflections_dedupe_and_length_filter():
    lines = [
        "The cat sat on the mat today.",
        "The cat sat on the mat today.",  # duplicate
        "Two cats were playing in the garden.",
        "He ran to the station every morning.",
        "A cat.",  # too short
        "The category of this item is unclear to all.",
        " ".join(["word"] * 61) + " cat.",  # too long
    ]
    found = mine(lines, ["cat", "run"])
    assert found["cat"] == ["The cat sat on the mat today.", "Two cats were playing in the garden."]
    assert found["run"] == ["He ran to the station every morning."]


@pytest.mark.skipif(not os.path.exists(CORPUS), reason="shared corpus not present")
def test_mine_real_corpus():
    with gzip.open(CORPUS, "rt") as f:
        lines = [json.loads(next(f))["text"] for _ in range(20000)]
    found = mine(lines, ["year", "city", "war"], limit=50)
    assert all(len(v) == 50 for v in found.values())
    assert all(5 <= len(s.split()) <= 60 for v in found.values() for s in v)
    assert len(set(found["year"])) == 50


def test_read_csv_tsv_jsonl_and_folder(tmp_path):
    (tmp_path / "s.csv").write_text('concept,sentence\ncat,"The cat, a pet, slept."\nDog,A dog barked loudly there.\n')
    (tmp_path / "s.tsv").write_text("sentence\tconcept\nThe cat slept well at home.\tcat\n")
    (tmp_path / "s.jsonl").write_text('{"concept": "cat", "sentence": "My cat is black and white."}\n')
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "bus.txt").write_text("The bus was late again today.\n\nA bus stopped at the corner.\n")
    assert read_pairs(str(tmp_path / "s.csv")) == [
        ("cat", "The cat, a pet, slept."),
        ("dog", "A dog barked loudly there."),
    ]
    assert read_pairs(str(tmp_path / "s.tsv")) == [("cat", "The cat slept well at home.")]
    assert read_pairs(str(tmp_path / "s.jsonl")) == [("cat", "My cat is black and white.")]
    assert group_by_concept(read_pairs(str(folder))) == {
        "bus": ["The bus was late again today.", "A bus stopped at the corner."]
    }


def test_split_positive_reports_sentences_without_the_word():
    kept, rejected = split_positive("cat", ["The cat slept.", "The dog slept.", "The cat slept."])
    assert kept == ["The cat slept."] and rejected == ["The dog slept."]


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "e.csv", "empty"),
        (b"\x00\x01\x02binary", "b.csv", "binary"),
        (b"concept,sentence\ncat,\xff\xfe bad bytes\n", "enc.csv", "not UTF-8"),
        (b"word,text\ncat,The cat.\n", "h.csv", "header"),
        (b'{"concept": "cat", "sentence": \n', "m.jsonl", "not valid JSON"),
        (b'{"concept": "cat"}\n', "k.jsonl", "'sentence'"),
        (b"concept,sentence\nCat,The cat sat there.\ncat,A cat sat there.\n", "case.csv", "differ only by case"),
        (b"concept,sentence\n<b>x</b>,The cat sat there.\n", "html.csv", "invalid concept"),
        (b"x", "f.xlsx", "unknown format"),
    ],
)
def test_bad_files_get_one_line_errors(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SentenceFileError, match=message) as e:
        read_pairs(str(path))
    assert "\n" not in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(SentenceFileError, match="no such file"):
        read_pairs(str(tmp_path / "nope.csv"))
