"""Streamlit Community Cloud: the dashboard's pages/1_concept_domains.py (see deploy/cloud/cloud_entry.py)."""

from cloud_entry import run

run("pages/1_concept_domains.py")
