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


# A few lines in the distributed formats, written for these tests (not copied from the datasets' files).
SIMLEX = (
    "word1\tword2\tPOS\tSimLex999\tconc(w1)\tconc(w2)\tconcQ\tAssoc(USF)\tSimAssoc333\tSD(SimLex)\n"
    "happy\tglad\tA\t8.9\t2.1\t2.3\t1\t6.1\t1\t0.7\n"
    "cat\tdog\tN\t3.5\t4.9\t4.8\t4\t2.0\t0\t1.2\n"
    "run\tjog\tV\t7.1\t4.0\t3.9\t3\t0.9\t0\t0.8\n"
)
WORDSIM_TAB = "Word 1\tWord 2\tHuman (mean)\ntiger\tcat\t7.35\nFBI\tinvestigation\t8.31\n"
WORDSIM_SET = "Word 1\tWord 2\tHuman (mean)\t1\t2\t3\nmoney\tcash\t9.15\t9\t9.5\t9\n"
WORDSIM_CSV = "Word 1,Word 2,Human (mean)\nlove,sex,6.77\n"


def test_simlex_999_is_read_as_distributed_by_its_score_column(tmp_path):
    pairs = read_pairs(write(tmp_path, SIMLEX, "SimLex-999.txt"))
    assert pairs[["word1", "word2"]].values.tolist() == [["happy", "glad"], ["cat", "dog"], ["run", "jog"]]
    assert pairs["score"].tolist() == [8.9, 3.5, 7.1]  # SimLex999, not POS or conc(w1)
    assert pairs["pos1"].tolist() == ["j", "n", "v"]
    other = read_pairs(write(tmp_path, SIMLEX, "SimLex-999.txt"), score_column="Assoc(USF)")
    assert other["score"].tolist() == [6.1, 2.0, 0.9]


def test_wordsim_353_files_are_read_as_distributed(tmp_path):
    tab = read_pairs(write(tmp_path, WORDSIM_TAB, "combined.tab"))
    assert tab.values[:, :3].tolist() == [["tiger", "cat", 7.35], ["fbi", "investigation", 8.31]]
    assert read_pairs(write(tmp_path, WORDSIM_SET, "set1.tab"))["score"].tolist() == [9.15]  # not a rater column
    assert read_pairs(write(tmp_path, WORDSIM_SET, "set1.tab"), score_column="2")["score"].tolist() == [9.5]
    assert read_pairs(write(tmp_path, WORDSIM_CSV, "combined.csv")).values[0, :3].tolist() == ["love", "sex", 6.77]


def test_a_score_column_that_is_not_there_is_named_in_one_line(tmp_path):
    with pytest.raises(BenchmarkError, match=r"no column 'SimLex' \(columns: word1, word2, POS, SimLex999"):
        read_pairs(write(tmp_path, SIMLEX), score_column="SimLex")
    with pytest.raises(BenchmarkError, match="no word pairs found"):
        read_pairs(write(tmp_path, "", "empty.txt"), score_column="SimLex999")
    with pytest.raises(BenchmarkError, match="no word pairs found"):
        read_pairs(write(tmp_path, SIMLEX.splitlines()[0] + "\n", "header.txt"))
    with pytest.raises(BenchmarkError, match=r"bench.txt:3: SimLex999 'x' is not a number"):
        read_pairs(write(tmp_path, SIMLEX.replace("\t3.5\t", "\tx\t")))
    with pytest.raises(BenchmarkError, match=r"bench.txt:2: expected 10 columns"):
        read_pairs(write(tmp_path, SIMLEX.replace("happy\tglad\tA\t8.9\t2.1\t2.3\t1\t6.1\t1\t0.7", "happy\tglad\tA")))
