"""Streamlit Community Cloud entrypoint (main file path: deploy/cloud/app.py): the dashboard's Home page."""

from cloud_entry import run

run("app.py")
