"""Domain lists written for a run's concepts."""

from __future__ import annotations


def test_domain_list_of_a_runs_concepts_reads_back_as_a_domain_list(tmp_path):
    from core.text.concepts import domain_list_text, read_domains

    text = domain_list_text(["dog", "cat", "zebu"], {"cat": "animal", "dog": "animal", "car": "vehicle"})
    path = tmp_path / "domains.txt"
    path.write_text(text)
    assert read_domains(str(path)) == {"cat": "animal", "dog": "animal", "zebu": "unsorted"}
    assert "EXPERTS_DOMAINS" in text
