"""Fuzzing the file loaders and the query-string parsing: only the documented one-line errors, never a crash."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.text.benchmarks import BenchmarkError, parse_pairs, read_pairs
from core.text.concepts import ConceptFileError, read_domains
from core.text.sentences import SentenceFileError
from core.text.sentences import read_pairs as read_sentences
from ui.link_values import parse_choice, parse_multi, parse_number, parse_tau

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
text_lines = st.lists(st.text(alphabet=string.printable + "éü<>'\";\x00", max_size=40), max_size=8).map("\n".join)


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from([".csv", ".tsv", ".jsonl", ".txt", ".gz"]))
def test_sentence_files_never_crash(tmp_path, data, ext):
    f = tmp_path / f"fuzz{ext}"
    f.write_bytes(data)
    try:
        pairs = read_sentences(str(f))
    except SentenceFileError as e:
        assert "\n" not in str(e)
    else:
        assert all(isinstance(c, str) and isinstance(s, str) for c, s in pairs)


@SETTINGS
@given(text_lines)
def test_sentence_csv_text_never_crashes(tmp_path, body):
    f = tmp_path / "fuzz.csv"
    f.write_text("concept,sentence\n" + body, encoding="utf-8")
    try:
        read_sentences(str(f))
    except SentenceFileError as e:
        assert "\n" not in str(e)


@SETTINGS
@given(text_lines)
def test_benchmark_text_never_crashes(body):
    try:
        pairs = parse_pairs(body)
    except BenchmarkError as e:
        assert "\n" not in str(e)
    else:
        assert list(pairs.columns) == ["word1", "word2", "score", "pos1", "pos2"] and len(pairs) > 0


@SETTINGS
@given(st.binary(max_size=200))
def test_benchmark_bytes_never_crash(tmp_path, data):
    f = tmp_path / "b.txt"
    f.write_bytes(data)
    try:
        read_pairs(str(f))
    except BenchmarkError:
        pass


@SETTINGS
@given(text_lines)
def test_domain_files_never_crash(tmp_path, body):
    f = tmp_path / "d.txt"
    f.write_text(body, encoding="utf-8")
    try:
        domains = read_domains(str(f))
    except ConceptFileError as e:
        assert "\n" not in str(e)
    else:
        assert domains and all(c == c.lower() for c in domains)


@SETTINGS
@given(st.one_of(st.none(), st.text(max_size=30)))
def test_query_param_parsing_always_returns_a_valid_value(raw):
    tau, note = parse_tau(raw)
    assert 0.5 <= tau <= 1.0
    assert note is None or isinstance(note, str)
    value, _ = parse_number(raw, 0.0, 1.0, 0.2, "cut")
    assert 0.0 <= value <= 1.0
    choice, _ = parse_choice(raw, ["a", "b"], "a", "model")
    assert choice in ("a", "b")
    picked, _ = parse_multi(raw, ["x", "y"], "domain")
    assert picked is None or set(picked) <= {"x", "y"}
