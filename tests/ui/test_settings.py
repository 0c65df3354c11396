"""Dashboard settings: store paths, the demo fallback, benchmark files and the store stamp."""

from __future__ import annotations

from core.storage.paths import store_stamp
from core.text.benchmarks import find_benchmarks
from ui import settings


# -- settings -----------------------------------------------------------------------------------------
def test_settings_default_store_and_demo_fallback(tmp_path):
    cfg = settings.resolve_settings({}, {}, root=str(tmp_path))
    assert cfg.store == str(tmp_path / "cache" / "experts.duckdb") and cfg.source == "default"
    assert not cfg.hosted and cfg.can_extract and not cfg.is_demo
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "demo.duckdb").write_bytes(b"")
    cfg = settings.resolve_settings({}, {}, root=str(tmp_path))
    assert cfg.is_demo and cfg.store.endswith("demo.duckdb") and cfg.notices
    assert cfg.write_store.endswith("experts.duckdb")  # extraction never writes into the demo
    (tmp_path / "cache" / "experts.duckdb").write_bytes(b"")
    assert not settings.resolve_settings({}, {}, root=str(tmp_path)).is_demo


def test_settings_env_beats_secrets_and_named_store_is_never_replaced(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "demo.duckdb").write_bytes(b"")
    cfg = settings.resolve_settings(
        {"EXPERTS_STORE": "a.duckdb"}, {"store": "b.duckdb", "hosted": True}, root=str(tmp_path)
    )
    assert cfg.store == str(tmp_path / "a.duckdb") and cfg.source == "EXPERTS_STORE" and cfg.hosted
    cfg = settings.resolve_settings({}, {"store": "/abs/b.duckdb"}, root=str(tmp_path))
    assert cfg.store == "/abs/b.duckdb" and cfg.source == "secrets:store" and not cfg.is_demo
    assert settings.resolve_settings({"EXPERTS_HOSTED": "0"}, {"hosted": True}, root=str(tmp_path)).hosted is False
    assert not settings.resolve_settings({"EXPERTS_HOSTED": "1"}, {}, root=str(tmp_path)).can_extract


def test_benchmarks_are_found_not_downloaded(tmp_path):
    men = tmp_path / "MEN"
    men.mkdir()
    (men / "MEN_dataset_lemma_form.test").write_text("cat-n dog-n 40\n")
    extra = tmp_path / "simlex.txt"
    extra.write_text("a b 1\n")
    found = find_benchmarks(str(men), [str(extra), str(tmp_path / "missing.txt")])
    assert [n for n, _ in found] == ["MEN test", "simlex"]


def test_store_stamp_changes_with_the_file(tmp_path):
    f = tmp_path / "s.duckdb"
    assert store_stamp(str(f))[1] is None
    f.write_bytes(b"x")
    a = store_stamp(str(f))
    f.write_bytes(b"xy")
    assert store_stamp(str(f)) != a


def test_store_choices_offer_yours_the_demo_and_every_store_under_cache(tmp_path):
    """Keys in the link are never paths: ``own``, ``demo``, or a name under ``cache/``."""
    from ui.settings import resolve_settings, store_choices, with_store

    (tmp_path / "cache" / "runs").mkdir(parents=True)
    for name in ("experts.duckdb", "demo.duckdb", "runs/sweep.duckdb", "notes.txt"):
        (tmp_path / "cache" / name).write_bytes(b"x")
    cfg = resolve_settings({}, root=str(tmp_path))
    choices = store_choices(cfg, root=str(tmp_path))
    assert [c.key for c in choices] == ["own", "demo", "runs/sweep.duckdb"]
    assert choices[0].label == "Your store (cache/experts.duckdb)" and choices[1].label == "Demo store (read-only)"
    demo = with_store(cfg, choices[1])
    assert demo.is_demo and demo.store.endswith("demo.duckdb") and demo.write_store == cfg.write_store
    hosted = resolve_settings({"EXPERTS_HOSTED": "1"}, root=str(tmp_path))
    assert len(store_choices(hosted, root=str(tmp_path))) == 1  # a hosted dashboard serves one store
    (tmp_path / "cache" / "experts.duckdb").unlink()  # no store of your own yet: the demo is shown, and offered
    cfg = resolve_settings({}, root=str(tmp_path))
    assert cfg.is_demo and [c.key for c in store_choices(cfg, root=str(tmp_path))] == ["demo", "runs/sweep.duckdb"]
