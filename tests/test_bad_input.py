"""Bad input gets a one-line error (CLI: exit 2, no traceback) and leaves the store exactly as it was."""

import json
import os
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest

from core.cli.parser import main
from core.storage.store import SCHEMA_VERSION, Store
from tests.extraction.test_extract import fill_store
from tests.tiny import save_tiny_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLES = ("meta", "concepts", "sentences", "concept_sentences", "runs", "units", "results", "ap", "vectors")


def snapshot(path: str) -> dict:
    """Every table of a store, and every file of its parts folder with its bytes."""
    con = duckdb.connect(path, read_only=True)
    try:
        out = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in TABLES}
    finally:
        con.close()
    parts = os.path.splitext(path)[0] + ".parts"
    out["parts"] = {
        os.path.relpath(os.path.join(d, f), parts): open(os.path.join(d, f), "rb").read()
        for d, _, files in os.walk(parts)
        for f in files
    }
    return out


def assert_same(a, b):
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t], obj=t)
    assert a["parts"] == b["parts"]


@pytest.fixture
def store_path(tmp_path):
    path = str(tmp_path / "s.duckdb")
    fill_store(path)
    return path


def assert_one_line(err: str, message: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in err


def run_cli(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()  # drop what the test printed before (e.g. a model being saved)
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.err


def check_refused(capsys, store_path, argv, message):
    before = snapshot(store_path)
    code, err = run_cli(capsys, "--store", store_path, *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in err
    assert_same(before, snapshot(store_path))


@pytest.fixture(scope="module")
def opt_model(tmp_path_factory):
    """A real transformers architecture (OPT) whose units this project does not know."""
    import torch
    from transformers import AutoModelForCausalLM, OPTConfig

    from tests.tiny import save_tokenizer

    path = str(tmp_path_factory.mktemp("opt"))
    save_tokenizer(path)
    torch.manual_seed(0)
    cfg = OPTConfig(
        vocab_size=128,
        hidden_size=32,
        num_hidden_layers=2,
        ffn_dim=64,
        num_attention_heads=4,
        max_position_embeddings=64,
        word_embed_proj_dim=32,
    )
    AutoModelForCausalLM.from_config(cfg).save_pretrained(path)
    return path


EXTRACT = ["extract", "--concepts", "cat,dog", "--n-pos", "6", "--n-neg", "12", "--quiet"]


def test_unknown_model_id(capsys, store_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)  # read at import: set it if imported
    check_refused(capsys, store_path, EXTRACT + ["--model", "no-such-org/no-such-model"], "cannot load model")


def test_path_that_is_not_a_model(capsys, store_path, tmp_path):
    (tmp_path / "notes").mkdir()
    check_refused(capsys, store_path, EXTRACT + ["--model", str(tmp_path / "notes")], "cannot load model")
    check_refused(capsys, store_path, EXTRACT + ["--model", "./missing/folder"], "no such model folder")


def test_architecture_without_known_units(capsys, store_path, opt_model):
    check_refused(capsys, store_path, EXTRACT + ["--model", opt_model], "--modules")


def test_concept_without_sentences(capsys, store_path, tmp_path):
    model = save_tiny_model(str(tmp_path / "m"))
    check_refused(
        capsys, store_path, ["extract", "--model", model, "--concepts", "cat,zebra", "--quiet"], "'zebra' has 0"
    )


def test_fewer_positives_than_asked_says_how_many(capsys, store_path, tmp_path):
    model = save_tiny_model(str(tmp_path / "m"))
    check_refused(capsys, store_path, EXTRACT + ["--model", model, "--n-pos", "50"], "'cat' has 14")


def test_sentences_without_the_concept_are_reported_and_excluded(capsys, store_path, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("concept,sentence\ncat,The cat sat on the old mat.\ncat,The dog sat on the old mat.\n")
    code, _ = run_cli(capsys, "--store", store_path, "add", str(f))
    assert code == 0
    texts = Store(store_path, read_only=True).sentences(["cat"])["text"].tolist()
    assert "The cat sat on the old mat." in texts and "The dog sat on the old mat." not in texts


def test_add_reports_rejected(capsys, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("concept,sentence\ncat,The cat sat on the old mat.\ncat,The dog sat on the old mat.\n")
    assert main(["--store", str(tmp_path / "n.duckdb"), "add", str(f)]) == 0
    assert "1 rejected (no 'cat' in them)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.csv", b"", "is empty"),
        ("binary.csv", b"\x00\x01\x02\x03", "looks binary"),
        ("latin1.csv", "concept,sentence\ncat,Le café du cat était fermé.\n".encode("latin-1"), "not UTF-8"),
        ("bad.jsonl", b'{"concept": "cat", "sentence": "The cat."\n', "not valid JSON"),
        ("cols.csv", b"concept,sentence\ncat\n", "expected 2 columns"),
        (
            "case.csv",
            b"concept,sentence\nCat,The cat sat there now.\ncat,A cat sat there now.\n",
            "differ only by case",
        ),
        ("quote.csv", b'concept,sentence\n"cat\'; DROP TABLE runs; --",The cat sat.\n', "invalid concept"),
        ("html.csv", b"concept,sentence\n<img src=x onerror=alert(1)>,The cat sat.\n", "invalid concept"),
        ("path.csv", b"concept,sentence\n../../etc/passwd,The cat sat.\n", "invalid concept"),
    ],
)
def test_bad_sentence_files(capsys, store_path, tmp_path, name, content, message):
    f = tmp_path / name
    f.write_bytes(content)
    check_refused(capsys, store_path, ["add", str(f)], message)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "no word pairs"),
        (b"\x00\x00\x00", "looks binary"),
        (b"cat dog\n", "expected 'word1 word2 score'"),
        (b"word1 word2 score\ncat dog lots\n", "is not a number"),
        (b"cat dog 5\ncat \xff\xfe 3\n", "not UTF-8"),
    ],
)
def test_bad_benchmark_files(capsys, store_path, tmp_path, content, message):
    f = tmp_path / "bench.txt"
    f.write_bytes(content)
    check_refused(
        capsys, store_path, ["analyse", "alignment", "--benchmark", str(f), "--out", str(tmp_path / "o.csv")], message
    )


def test_benchmark_whose_words_are_not_in_the_store(capsys, store_path, tmp_path):
    f = tmp_path / "bench.txt"
    f.write_text("zebra giraffe 30\nlion tiger 40\n")
    check_refused(
        capsys,
        store_path,
        ["analyse", "alignment", "--benchmark", str(f), "--out", str(tmp_path / "o.csv")],
        "not in the store",
    )


@pytest.mark.parametrize("tau", ["0.3", "1.5", "nan"])
def test_tau_outside_range(capsys, store_path, tmp_path, tau):
    check_refused(
        capsys, store_path, ["export", "--run", "x", "--tau", tau, "--out", str(tmp_path / "o.csv")], "tau must be"
    )


def test_corrupt_store_is_refused_and_untouched(capsys, tmp_path):
    path = tmp_path / "bad.duckdb"
    path.write_bytes(b"garbage" * 1000)
    code, err = run_cli(capsys, "--store", str(path), "runs")
    assert code == 2 and "cannot be opened" in err and len(err.strip().splitlines()) == 1
    assert path.read_bytes() == b"garbage" * 1000


def test_newer_schema_is_refused(capsys, store_path):
    con = duckdb.connect(store_path)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    before = snapshot(store_path)
    code, err = run_cli(capsys, "--store", store_path, "runs")
    assert code == 2 and "newer than this code" in err
    assert_same(before, snapshot(store_path))


def test_store_locked_by_another_process(capsys, store_path, monkeypatch):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)"),
            store_path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("EXPERTS_LOCK_TIMEOUT", "1")
        t = time.monotonic()
        code, err = run_cli(capsys, "--store", store_path, "runs")
        assert code == 2 and "locked by another process" in err and len(err.strip().splitlines()) == 1
        assert time.monotonic() - t < 20
    finally:
        holder.kill()
        holder.wait()
    assert json.loads(json.dumps(Store(store_path, read_only=True).concepts()["concept"].tolist()))


def test_debug_shows_traceback(store_path, tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "--store",
            store_path,
            "--debug",
            "export",
            "--run",
            "x",
            "--tau",
            "2",
            "--out",
            str(tmp_path / "o.csv"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "Traceback" in r.stderr


# -- issue 14: every option and file validated at the boundary ------------------------------------------------


def check_no_store_left(capsys, tmp_path, argv, message):
    """A failing command on a --store that does not exist leaves no store (nor folders) behind."""
    path = tmp_path / "new" / "deeper" / "s.duckdb"
    code, err = run_cli(capsys, "--store", str(path), *argv)
    assert code == 2
    assert_one_line(err, message)
    assert not (tmp_path / "new").exists()


def test_truncated_gzip_corpus_names_the_file(capsys, store_path, tmp_path):
    import gzip

    lines = "\n".join(json.dumps({"text": f"The cat number {i} sat on the warm mat."}) for i in range(5000))
    data = gzip.compress(lines.encode())
    corpus = tmp_path / "corpus.jsonl.gz"
    corpus.write_bytes(data[: len(data) // 2])
    argv = ["mine", str(corpus), "--concepts", "cat"]
    check_refused(capsys, store_path, argv, f"cannot read {str(corpus)!r}")
    check_no_store_left(capsys, tmp_path, argv, "truncated or corrupt")


@pytest.mark.parametrize("ext, sep", [(".csv", ","), (".tsv", "\t")])
def test_stray_quote_does_not_swallow_later_rows(capsys, store_path, tmp_path, ext, sep):
    f = tmp_path / f"s{ext}"
    rows = ["concept,sentence", 'cat,"The cat sat on the mat today.', "dog,The dog ran in the park today."]
    f.write_text("\n".join(r.replace(",", sep, 1) for r in rows + ["bus,The red bus was late again today."]) + "\n")
    check_refused(capsys, store_path, ["add", str(f)], f"{f}:2: a quote")
    check_no_store_left(capsys, tmp_path, ["add", str(f)], "runs on to line 4")


def test_quoted_cells_that_close_are_still_read(tmp_path):
    from core.text.sentences import read_pairs

    f = tmp_path / "ok.csv"
    f.write_text('concept,sentence\ncat,"The cat sat, on the mat."\ndog,"The ""dog"" ran in the park."\n')
    assert read_pairs(str(f)) == [("cat", "The cat sat, on the mat."), ("dog", 'The "dog" ran in the park.')]


@pytest.mark.parametrize("limit", ["0", "-1", "nan", "2.5"])
def test_mine_limit_below_one(capsys, store_path, tmp_path, limit):
    corpus = tmp_path / "c.txt"
    corpus.write_text("The cat sat on the warm mat today.\n")
    check_refused(
        capsys, store_path, ["mine", str(corpus), "--concepts", "cat", "--limit", limit], "must be an integer >= 1"
    )


def test_mine_that_finds_nothing_is_an_error(capsys, store_path, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("Nothing about any of the words here at all.\n")
    check_refused(capsys, store_path, ["mine", str(corpus), "--concepts", "cat"], "nothing stored")
    check_no_store_left(capsys, tmp_path, ["mine", str(corpus), "--concepts", "cat"], "nothing stored")


def test_ingest_from_a_missing_parts_folder(capsys, store_path, tmp_path):
    missing = str(tmp_path / "nowhere")
    check_refused(capsys, store_path, ["ingest", "--parts", missing], "no parts folder")
    check_no_store_left(capsys, tmp_path, ["ingest", "--parts", missing], "no parts folder")
    check_no_store_left(capsys, tmp_path, ["ingest"], "no parts folder")


def test_failed_extract_on_a_new_store_leaves_nothing(capsys, tmp_path):
    model = save_tiny_model(str(tmp_path / "m"))
    check_no_store_left(capsys, tmp_path, EXTRACT + ["--model", model], "'cat' has 0")


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--max-length", "0", "--max-length: must be an integer in [1, 65536], got 0"),
        ("--max-length", "-1", "--max-length: must be an integer in [1, 65536], got -1"),
        ("--batch-tokens", "0", "--batch-tokens: must be an integer in [1, 10000000], got 0"),
        ("--batch-tokens", "-1", "--batch-tokens: must be an integer in [1, 10000000], got -1"),
        ("--concepts-per-task", "-1", "--concepts-per-task: must be an integer in [1, 10000], got -1"),
        ("--concepts-per-unit", "-1", "--concepts-per-unit: must be an integer in [1, 10000], got -1"),
        ("--folds", "1e3", "--folds: must be an integer in [1, 100]"),
        ("--ap-floor", "nan", "--ap-floor: must be a number in [0, 1], got nan"),
        ("--seed", "-3", "--seed: must be an integer in [0, 4294967295]"),
        ("--device", "tpu9", "device must be auto, cpu, mps, cuda or cuda:N"),
    ],
)
def test_extract_options_out_of_range(capsys, store_path, tmp_path, option, value, message):
    model = save_tiny_model(str(tmp_path / "m"))
    check_refused(capsys, store_path, EXTRACT + ["--model", model, option, value], message)


def test_max_length_beyond_the_models_context(capsys, store_path, tmp_path):
    model = save_tiny_model(str(tmp_path / "m"))  # 128 positions
    check_refused(
        capsys,
        store_path,
        EXTRACT + ["--model", model, "--reference", "selfcond", "--max-length", "500"],
        "in [1, 128] for this model",
    )


def test_unavailable_device_is_refused_before_anything_is_written(capsys, store_path, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    model = save_tiny_model(str(tmp_path / "m"))
    check_refused(
        capsys, store_path, EXTRACT + ["--model", model, "--device", "cuda"], "device 'cuda' is not available"
    )


@pytest.mark.parametrize("n_boot", ["0", "-5", "inf"])
def test_n_boot_below_one(capsys, store_path, tmp_path, n_boot):
    f = tmp_path / "bench.txt"
    f.write_text("cat dog 30\ncat bus 10\ndog bus 5\n")
    argv = ["analyse", "alignment", "--benchmark", str(f), "--n-boot", n_boot, "--out", str(tmp_path / "o.csv")]
    check_refused(capsys, store_path, argv, "--n-boot: must be an integer in [1, 10000]")
    assert not (tmp_path / "o.csv").exists()


def test_revision_that_does_not_exist_writes_nothing(capsys, store_path, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    model = save_tiny_model(str(tmp_path / "m"))
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    for argv, message in [
        (["--model", model, "--revision", "step9"], "revision 'step9' not found"),  # a local folder
        (["--model", "smollm2", "--revision", "step9"], "revision 'step9' not found: smollm2 is one GGUF file"),
        (["--model", str(gguf), "--revision", "step9"], "revision 'step9' not found"),
        (["--model", "no-such-org/no-such-model", "--revision", "step9"], "cannot load model"),  # a Hub id
    ]:
        check_refused(capsys, store_path, EXTRACT + argv, message)
        # on a new store, an id that is not a local path is only tried after the sentences are found wanting
        check_no_store_left(capsys, tmp_path, EXTRACT + argv, "'cat' has 0" if "cannot load" in message else message)


@pytest.mark.parametrize(
    "command", [["runs"], ["add", "SENTENCES"], ["ingest"], ["export", "--run", "x", "--out", "o.csv"]]
)
def test_truncated_store_is_refused_and_untouched(capsys, store_path, tmp_path, command):
    size = os.path.getsize(store_path)
    with open(store_path, "r+b") as f:
        f.truncate(size // 2)
    (tmp_path / "s.csv").write_text("concept,sentence\ncat,the cat sat on the mat .\n")
    argv = [str(tmp_path / "s.csv") if a == "SENTENCES" else str(tmp_path / a) if a == "o.csv" else a for a in command]
    before = open(store_path, "rb").read()
    code, err = run_cli(capsys, "--store", store_path, *argv)
    assert code == 2, err
    assert_one_line(err, store_path)
    assert "ingest" in err and ("truncated" in err or "corrupt" in err or "cannot be opened" in err)
    assert open(store_path, "rb").read() == before
    assert not os.path.exists(tmp_path / "o.csv")
