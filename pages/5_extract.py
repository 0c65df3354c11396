"""Extract (local use only): start an extraction in its own process and watch it fill the store."""

from __future__ import annotations

import os
import shlex

import streamlit as st

import ui
from core.config import DatasetConfig, ModelSpec
from core.storage.store import Store
from core.text.concepts import ConceptFileError, read_concept_file
from ui import jobs

p = ui.page("Extract", "extract")
st.title("Extract experts")
if not p.settings.can_extract:
    st.info(
        "Extraction is disabled in this hosted demo: it only browses stored results. Run the project locally "
        "to extract experts for your own model and concepts.",
        icon=":material/lock:",
    )
    st.stop()
if missing := jobs.missing_model_stack():
    st.info(
        f"Extraction needs the model stack, which this install lacks ({', '.join(missing)}): it has the browse-only "
        "`requirements-dashboard.txt`. Run `pip install -r requirements.txt` (or `make run`) to extract here.",
        icon=":material/download:",
    )
    st.stop()

target = p.settings.write_store
st.markdown(
    "Runs `python -m core` in a separate process that writes to "
    f"`{os.path.relpath(target, os.getcwd()) if target.startswith(os.getcwd()) else target}`. The other pages keep "
    "working and show new concepts as they are stored; an interrupted extraction resumes where it stopped."
)
running = [j for j in jobs.load_all(target) if jobs.status(j) == "running"]


def launch(cmd: list[str], kind: str, model: str = "", concepts=(), revision=None, folds: int = 1) -> None:
    if running:
        raise ValueError("a job is already running on this store; wait for it or stop it below")
    job = jobs.start(cmd, target, model, list(concepts), revision, folds, kind=kind)
    st.success(f"Started job {job.id} (pid {job.pid}).")


st.subheader("1. Sentences")
st.caption(
    "Extraction needs positive sentences for every concept: mine them from a corpus (plain text, one sentence a "
    "line, or JSONL with `text`), or add your own (CSV/TSV/JSONL with concept and text, or a folder of "
    "`<concept>.txt`). Skip this step when the store already holds them."
)
with st.form("sentences", enter_to_submit=False):
    step = st.radio(
        "Sentence step",
        jobs.SENTENCE_STEPS,
        horizontal=True,
        format_func=lambda s: "mine a corpus" if s == "mine" else "add a file of sentences",
    )
    c1, c2 = st.columns([3, 1])
    source_path = c1.text_input("Corpus or sentence file (a path on this machine)", "")
    limit = c2.number_input("At most, per concept (mine)", 1, 100_000, 1500, step=100)
    mine_for = st.text_input("Concepts to mine (comma-separated; empty: the domain list)", "")
    add_sentences = st.form_submit_button("Add sentences")
if add_sentences:
    try:
        cmd = jobs.sentence_command(target, step, source_path, mine_for.split(","), p.settings.domains, int(limit))
        launch(cmd, step)
    except (ValueError, OSError) as e:
        st.error(f"Cannot start: {e}")

st.subheader("2. Experts")
with st.form("extract", enter_to_submit=False):
    c1, c2 = st.columns(2)
    model = c1.text_input("Model (Hub id, local folder, .gguf, or smollm2)", ModelSpec.model)
    revision = c2.text_input("Revision (optional, e.g. step1000)", "")
    source = st.radio("Concepts", ["domain list", "typed below"], horizontal=True)
    typed = st.text_area("Concepts (comma-separated)", "", placeholder="cat, dog, car")
    c3, c4, c5, c6 = st.columns(4)
    n_pos = c3.number_input("Positive sentences", 10, 100_000, DatasetConfig.n_pos, step=50)
    n_neg = c4.number_input("Negative sentences", 10, 100_000, DatasetConfig.n_neg, step=100)
    folds = c5.number_input("Folds", 1, 10, DatasetConfig.folds)
    min_pos = c6.number_input("Accept down to (0 = exactly n_pos)", 0, 100_000, 0, step=10)
    skip_short = st.checkbox("Skip concepts with too few sentences", True)
    b1, b2 = st.columns(2)
    show_plan = b1.form_submit_button("Show the plan (dry run)", help="What it would read and write, and how long")
    submitted = b2.form_submit_button("Start extraction", type="primary")

if show_plan or submitted:
    try:
        concepts = (
            read_concept_file(p.settings.domains)
            if source == "domain list"
            else [c for c in typed.replace("\n", ",").split(",") if c.strip()]
        )
        args = (int(n_pos), int(n_neg), int(folds), int(min_pos) or None, skip_short)
        cmd = jobs.extract_command(target, model, concepts, revision or None, *args)
        if show_plan:
            with st.spinner("Dry run: reading the sentences and timing a few batches on this device…"):
                st.session_state["_plan"] = (cmd, *jobs.plan(cmd))
        else:
            names = [c.strip().lower() for c in concepts]
            launch(cmd, "extract", model.strip(), names, revision.strip() or None, int(folds))
            st.session_state.pop("_plan", None)  # the job below shows its command now
    except (ValueError, ConceptFileError, OSError) as e:
        st.error(f"Cannot start: {e}")
if "_plan" in st.session_state:
    cmd, code, out = st.session_state["_plan"]
    with st.container(border=True):
        st.markdown("**Plan** (`--dry-run`: nothing was written)" + ("" if code == 0 else f" · exit code {code}"))
        st.caption(shlex.join(cmd[1:]))
        st.code(out or "(no output)", language=None)


@st.fragment(run_every=2.0)
def job_panel() -> None:
    """Recent jobs with progress (from the store) and their log; refreshes itself every 2 s."""
    recent = jobs.load_all(target, limit=5)
    if not recent:
        st.caption("No extraction started from here yet.")
        return
    store = Store(target, read_only=True, lock_timeout=5.0) if os.path.exists(target) else None

    def log_and_stop(job, state: str) -> None:
        """A job's log tail, its command and, while it runs, a Stop button."""
        tail = jobs.log_tail(job)
        if tail:
            st.code(tail, language=None)
        st.caption(shlex.join(job.cmd[1:]))
        if state == "running" and st.button("Stop", key=f"stop-{job.id}"):
            jobs.stop(job)
            st.rerun()

    for job in recent:
        state = jobs.status(job)
        kind = job.extra.get("kind", "extract")
        if kind != "extract":  # a sentence step: its log and command, no (concept, fold) progress
            with st.container(border=True):
                st.markdown(f"**{kind} sentences** · job `{job.id}` · **{state}**")
                log_and_stop(job, state)
            continue
        try:
            done, total = jobs.results_stored(store, job)
        except Exception as e:  # the store is busy or not there yet: show the log, try again in 2 s
            done, total = 0, len(job.concepts) * job.folds
            st.caption(f"Progress unavailable right now ({type(e).__name__}).")
        with st.container(border=True):
            rev = f" @ {job.revision}" if job.revision else ""
            st.markdown(
                f"**{job.model}{rev}** · {len(job.concepts)} concepts × {job.folds} folds · "
                f"job `{job.id}` · **{state}**" + (f" (exit code {job.returncode})" if state == "failed" else "")
            )
            st.progress(min(done / total, 1.0) if total else 0.0, text=f"{done} / {total} (concept, fold) results")
            log_and_stop(job, state)


st.subheader("Jobs")
job_panel()
