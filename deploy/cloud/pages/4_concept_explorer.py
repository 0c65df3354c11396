"""Streamlit Community Cloud: the dashboard's pages/4_concept_explorer.py (see deploy/cloud/cloud_entry.py)."""

from cloud_entry import run

run("pages/4_concept_explorer.py")
