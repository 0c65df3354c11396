"""Streamlit Community Cloud: the dashboard's pages/3_stability.py (see deploy/cloud/cloud_entry.py)."""

from cloud_entry import run

run("pages/3_stability.py")
