"""Streamlit Community Cloud: the dashboard's pages/5_extract.py (see deploy/cloud/cloud_entry.py)."""

from cloud_entry import run

run("pages/5_extract.py")
