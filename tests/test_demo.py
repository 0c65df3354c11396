import pytest

from core.demo import build_demo
from core.store import Store
from tests.synthetic import make_store


def test_demo_store_keeps_numbers_and_only_redistributable_sentences(tmp_path):
    src, run_ids = make_store(str(tmp_path / "src.duckdb"), revisions=("step1", "step1000"))
    src.add_sentences("cat", ["A generated cat sentence for the demo."], source="generated:smollm2")
    info = build_demo(src.path, str(tmp_path / "demo.duckdb"), run_ids=[run_ids[1]])
    demo = Store(info["path"], read_only=True)
    assert demo.runs()["run_id"].tolist() == [run_ids[1]]
    assert demo.ap(run_ids[1], fold=None).equals(src.ap(run_ids[1], fold=None))
    assert demo.units(run_ids[1]).equals(src.units(run_ids[1]))
    assert demo.vectors(run_ids[1], "word").keys() == src.vectors(run_ids[1], "word").keys()
    texts = demo.query("SELECT text FROM sentences")["text"].tolist()
    assert texts == ["A generated cat sentence for the demo."]  # corpus/synthetic-source text stays out
    assert info["concepts"] == 8 and info["size_mb"] < 5


def test_demo_store_over_budget_is_refused(tmp_path):
    src, _ = make_store(str(tmp_path / "src.duckdb"))
    with pytest.raises(ValueError, match="over the 0.01 MB budget"):
        build_demo(src.path, str(tmp_path / "demo.duckdb"), max_mb=0.01)
    assert not (tmp_path / "demo.duckdb").exists()
