import os

import pytest

from core.text.benchmarks import MEN_HUMAN_CEILING, BenchmarkError, coverage, load_men, read_pairs

MEN_DIR = "/work/shared/data/men"


def write(tmp_path, text, name="bench.txt"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_header_is_skipped(tmp_path):
    pairs = read_pairs(write(tmp_path, "word1\tword2\tscore\ncat\tdog\t40\ncar\tbus\t35.5\n"))
    assert pairs[["word1", "word2"]].values.tolist() == [["cat", "dog"], ["car", "bus"]]
    assert pairs["score"].tolist() == [40.0, 35.5]


def test_pos_suffixes_are_split_off(tmp_path):
    pairs = read_pairs(write(tmp_path, "sun-n sunlight-n 50.000000\nrun-v fast-j 20\n"))
    assert pairs.iloc[0][["word1", "word2", "pos1", "pos2"]].tolist() == ["sun", "sunlight", "n", "n"]
    assert pairs.iloc[1][["word1", "word2", "pos1", "pos2"]].tolist() == ["run", "fast", "v", "j"]


def test_missing_word_is_listed_by_coverage(tmp_path):
    pairs = read_pairs(write(tmp_path, "cat-n dog-n 40\ncat-n zebra-n 30\nquark-n zebra-n 5\n"))
    covered, missing = coverage(pairs, {"cat", "dog"})
    assert covered[["word1", "word2"]].values.tolist() == [["cat", "dog"]]
    assert missing["missing"].tolist() == ["zebra", "quark, zebra"]
    assert len(covered) + len(missing) == len(pairs)


def test_bad_files_are_refused(tmp_path):
    with pytest.raises(BenchmarkError):
        read_pairs(write(tmp_path, "cat dog forty\nbus car 3\ncar bus x\n"))
    with pytest.raises(BenchmarkError):
        read_pairs(str(tmp_path / "absent.txt"))


def test_human_ceiling():
    assert MEN_HUMAN_CEILING == 0.84


@pytest.mark.skipif(not os.path.isdir(MEN_DIR), reason="no local MEN copy")
def test_real_men_test_split():
    pairs = load_men("test", MEN_DIR)
    assert len(pairs) == 1000
    assert pairs["score"].between(0, 50).all()
    assert set(pairs["pos1"]) <= {"n", "v", "j"}
    assert not pairs["word1"].str.contains("-").any()
