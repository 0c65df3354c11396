"""Streamlit Community Cloud: the dashboard's pages/2_alignment.py (see deploy/cloud/cloud_entry.py)."""

from cloud_entry import run

run("pages/2_alignment.py")
