"""Command line: ``python -m core <command> ...`` or ``expert-neurons <command> ...`` (``-h`` lists them).

The options of ``extract`` are the fields of the configuration dataclasses (``ModelSpec``,
``DatasetConfig``, ``ExtractConfig``): names, defaults, choices and help come from them, so a
default lives once. Errors print one line and exit with status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from dataclasses import MISSING, fields

from core.analysis.alignment import N_BOOT
from core.config import (
    DTYPE_NAMES,
    DTYPES,
    MAX_SEED,
    NEGATIVE_MODES,
    POOLINGS,
    REFERENCES,
    DatasetConfig,
    ExtractConfig,
    ModelSpec,
    check_number,
)
from core.errors import first_line
from core.storage.paths import DEFAULT_STORE, DEMO_STORE, parts_dir_of
from core.tau import STABILITY_TAUS, TAU_DEFAULT, TAU_MAX, TAU_MIN

from . import analysis_commands, benchmark_commands, checkpoint_commands, commands, summary_commands

KNOWN_ERRORS: tuple[type[BaseException], ...] = (ValueError, RuntimeError, OSError, KeyError)
MAX_ERROR = 600  # characters of an error line: a message quoting user input stays one readable line
MAX_BOOT = 10_000  # bootstrap resamples: an (n_pairs, n_boot) array each; 10k is already tight CIs


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2), like every other refusal of the CLI."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (`{self.prog} -h` for help)\n")


def number(lo: float, hi: float | None = None, integer: bool = True):
    """argparse ``type``: a number in [lo, hi]; anything else is refused naming the range."""

    def parse(text: str):
        try:
            return check_number(text, lo, hi, integer, text=True)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.range = (lo, hi, integer)  # what tests and help can read
    return parse


CHOICES = {
    "dtype": (*DTYPE_NAMES, *DTYPES),
    "negatives": NEGATIVE_MODES,
    "pooling": POOLINGS,
    "reference": REFERENCES,
}  # fields with a closed set of values
NOT_OPTIONS = {"concepts", "module_patterns"}  # set from the concept arguments and --modules
MEN_SPLITS = ("dev", "test", "full")
SCORE_COLUMN_HELP = "the benchmark file's score column by name (default: SimLex999, Human (mean), score or the third)"
TAU_HELP = f"expert threshold in [{TAU_MIN}, {TAU_MAX:g}]"
FORCE_HELP = "replace --out if it exists (never the store itself)"


def field_help(cls) -> dict[str, str]:
    """``{field: text}`` from the ``Parameters`` section of a dataclass docstring (numpy style)."""
    doc = (cls.__doc__ or "").split("Parameters")[-1]
    out: dict[str, str] = {}
    names: list[str] = []
    for line in doc.splitlines():
        m = re.match(r"^    (\w+(?:, \w+)*) : (.*)$", line)
        if m:
            names = m.group(1).split(", ")
            for n in names:
                out[n] = m.group(2).strip()
        elif line.startswith("        ") and names:
            for n in names:
                out[n] += " " + line.strip()
    return {k: cli_text(v, out).replace("%", "%%") for k, v in out.items()}


def cli_text(text: str, options) -> str:
    """Docstring text as ``--help`` shows it: ``name`` of an option becomes ``--name``, other ``code`` plain."""

    def plain(m: re.Match) -> str:
        inner = m.group(1)
        return f"--{inner.replace('_', '-')}" if inner in options and inner not in NOT_OPTIONS else inner

    return re.sub(r"``([^`]+)``", plain, text)


def add_config_options(p: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One option per field of a configuration dataclass: ``--field-name``, its default, type and choices."""
    helps = field_help(cls)
    for f in fields(cls):
        if f.name in NOT_OPTIONS or f.name in skip:
            continue
        flags = [f"--{f.name.replace('_', '-')}"]
        default = f.default if f.default is not MISSING else None
        text = helps.get(f.name, "")
        kwargs = {
            "default": default,
            "help": text + (" (default: %(default)s)" if default not in (None, False) else ""),
        }
        if f.type in ("bool", bool):
            p.add_argument(*flags, action="store_true", **kwargs)
            continue
        kind = {"int": int, "float": float}.get(str(f.type).split(" | ")[0], str)
        if "range" in f.metadata:  # the field's own range (config.between): refused at parse time, in one line
            kind = number(*f.metadata["range"])
        p.add_argument(*flags, type=kind, choices=CHOICES.get(f.name), **kwargs)


def _add_concept_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--concepts", help="comma-separated concepts, e.g. cat,dog,car")
    p.add_argument("--concepts-file", help="one concept per line, or a domain file (domain: a, b, c)")
    p.add_argument("--benchmark", help="use the words of a 'word1 word2 score' file, in pair-coverage order")
    p.add_argument("--score-column", help=SCORE_COLUMN_HELP)
    p.add_argument("--men-split", choices=MEN_SPLITS, help="use the words of a MEN split")
    p.add_argument("--men-dir", help="local MEN folder (default: download the official archive into cache/)")


def _add_extract_args(p: argparse.ArgumentParser, model: bool = True) -> None:
    """Options of ``extract`` (and of ``grid``, which takes ``--models`` instead of ``--model``)."""
    _add_concept_args(p)
    add_config_options(p, ModelSpec, skip=() if model else ("model",))
    p.add_argument(
        "--revisions",
        help="sweep checkpoints: step0,step1,... or 'all' (every step* folder or Hub branch); one run per revision",
    )
    p.add_argument("--keep-duplicates", action="store_true", help="run revisions the audit finds identical (marked)")
    p.add_argument("--hub-record", help="Hub metadata written by `checkpoints audit --record`, read instead of the Hub")
    p.add_argument(
        "--modules", help="unknown architectures: comma-separated regexes of the linear maps (in:regex hooks an input)"
    )
    add_config_options(p, DatasetConfig)
    p.add_argument("--skip-short", action="store_true", help="leave out concepts with too few sentences (listed)")
    add_config_options(p, ExtractConfig)
    p.add_argument("--concepts-per-task", type=number(1, 10_000), default=8, help="concepts per task")
    p.add_argument("--max-tasks", type=number(1), help="stop after this many tasks")
    hidden: dict = dict(default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # old spellings: still accepted, not shown
    p.add_argument("--concepts-per-unit", dest="concepts_per_task", type=number(1, 10_000), **hidden)
    p.add_argument("--max-units", dest="max_tasks", type=number(1), **hidden)
    p.add_argument("--limit-concepts", type=number(1), help="only the first N concepts")
    p.add_argument("--parts", help="folder for result parts (default: beside the store)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--engine", default="local", choices=["local", "ray"], help="where tasks run")
    p.add_argument("--address", help="Ray cluster to join (default: RAY_ADDRESS, else a local Ray)")
    p.add_argument("--workers", type=number(1, 4096), help="Ray actors (default: one per GPU, or per CPU without GPUs)")
    p.add_argument(
        "--num-gpus-per-worker",
        type=number(0, 64, integer=False),
        help="GPUs per Ray actor (default 1 with GPUs, else 0)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--store", default=os.environ.get("EXPERTS_STORE", DEFAULT_STORE), help="DuckDB store file")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks (EXPERTS_LOAD_PROGRESS=1 shows the model-loading bars)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("add", help="import sentences from CSV/TSV/JSONL or a folder of <concept>.txt")
    p.add_argument("file")
    p.set_defaults(func=commands.cmd_add)

    p = sub.add_parser("mine", help="mine positive sentences from a text or JSONL corpus")
    p.add_argument("corpus", help="plain text (one sentence per line) or JSONL with 'text'; .gz allowed")
    _add_concept_args(p)
    p.add_argument("--limit", type=number(1), default=1500, help="at most this many sentences per concept")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=commands.cmd_mine)

    p = sub.add_parser("generate", help="generate positive sentences with an instruct LM (as the paper)")
    _add_concept_args(p)
    p.add_argument("--model", default="smollm2", help="instruct model id or folder (default: SmolLM2-135M-Instruct)")
    p.add_argument("--gguf-file")
    p.add_argument("--n", type=number(1, 100_000), default=400)
    p.add_argument("--seed", type=number(0, MAX_SEED), default=0)
    p.add_argument("--max-rounds", type=number(1, 10_000), default=50)
    p.set_defaults(func=commands.cmd_generate)

    p = sub.add_parser("extract", help="find the experts of a model for concepts (resumable)")
    _add_extract_args(p)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (sentences, tokens, units, parts) and its estimated time on this device; write nothing",
    )
    p.set_defaults(func=commands.cmd_extract)

    p = sub.add_parser("grid", help="every (model, revision) of a grid with the same sets, locally or on Ray")
    p.add_argument("--models", required=True, help="comma-separated Hub ids or local folders")
    _add_extract_args(p, model=False)
    p.add_argument("--dry-run", action="store_true", help="print the runs the grid would compute; write nothing")
    p.set_defaults(func=commands.cmd_grid)

    checkpoint_commands.add_parser(sub)

    p = sub.add_parser("runs", help="list runs")
    p.set_defaults(func=commands.cmd_runs)

    p = sub.add_parser("ingest", help="load result parts written by extraction into the store")
    p.add_argument("--parts")
    p.set_defaults(func=commands.cmd_ingest)

    p = sub.add_parser("pack", help="pack the parts of finished runs into one file per run (small enough to commit)")
    p.add_argument("--parts")
    p.add_argument("--run", help="only this run (default: every finished run)")
    p.set_defaults(func=commands.cmd_pack)

    p = sub.add_parser("export", help="export expert sets of a run as CSV or Parquet")
    p.add_argument("--run", required=True)
    p.add_argument("--tau", type=float, default=TAU_DEFAULT, help=TAU_HELP)
    p.add_argument("--out", required=True, help="file.csv or file.parquet")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.set_defaults(func=commands.cmd_export)

    p = sub.add_parser("analyse", help="alignment, domains, stability or layer breakdown of stored experts")
    analyses = p.add_subparsers(dest="analysis", required=True)
    a = analyses.add_parser("alignment", help="Spearman rho with human pair scores, per run and method")
    a.add_argument("--runs", help="comma-separated run ids (default: every run with results)")
    a.add_argument(
        "--n-boot", type=number(1, MAX_BOOT), default=N_BOOT, help="bootstrap resamples for CIs and paired tests"
    )
    a.add_argument("--seed", type=number(0, MAX_SEED), default=0)
    d = analyses.add_parser("domains", help="recover semantic domains from expert overlap (Louvain)")
    d.add_argument("--domains", default=None, help="domain file 'domain: a, b, c' (default: data/domains.txt)")
    d.add_argument(
        "--min-weight",
        type=number(0, 1, integer=False),
        default=0.0,
        help="drop edges with reciprocal overlap at or below",
    )
    d.add_argument("--seed", type=number(0, MAX_SEED), default=0)
    st = analyses.add_parser("stability", help="expert-set overlap across folds vs across concepts")
    st.add_argument(
        "--taus", help=f"comma-separated thresholds (default: {','.join(f'{t:g}' for t in STABILITY_TAUS)})"
    )
    la = analyses.add_parser("layers", help="alignment with expert Jaccard restricted to one layer or kind")
    la.add_argument("--by", default="layer", choices=["layer", "kind", "module"])
    for q in (a, la):
        q.add_argument("--benchmark", help="'word1 word2 score' file")
        q.add_argument("--score-column", help=SCORE_COLUMN_HELP)
        q.add_argument("--men-split", choices=MEN_SPLITS, help="a MEN split")
        q.add_argument("--men-dir", help="local MEN folder (default: download the official archive into cache/)")
    for q in (d, st, la):
        q.add_argument("--run", required=True, help="run id (`python -m core runs` lists them)")
    for q in (a, d, la):
        q.add_argument("--tau", type=float, default=TAU_DEFAULT, help=TAU_HELP)
    for q in (a, d, st, la):
        q.add_argument("--out", required=True, help="CSV file to write")
        q.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.set_defaults(func=analysis_commands.cmd_analyse)
    p = sub.add_parser("report", help="write results/ (CSV + README.md): alignment, domains, stability, layers")
    p.add_argument("--out", default="results")
    p.add_argument("--benchmark", help="a 'word1 word2 score' file (default: MEN)")
    p.add_argument("--score-column", help=SCORE_COLUMN_HELP)
    p.add_argument("--men-split", default="test", choices=MEN_SPLITS)
    p.add_argument("--men-dir", help="local MEN folder (default: download the official archive into cache/)")
    p.add_argument("--domains", help="domain list (default: data/domains.txt)")
    p.add_argument("--tau", type=float, default=TAU_DEFAULT, help=TAU_HELP)
    p.add_argument(
        "--n-boot", type=number(1, MAX_BOOT), default=N_BOOT, help="bootstrap resamples for CIs and paired tests"
    )
    p.add_argument("--seed", type=number(0, MAX_SEED), default=0)
    p.set_defaults(func=analysis_commands.cmd_report)

    p = sub.add_parser("build-demo", help="write the committed demo store (derived numbers only) from --store")
    p.add_argument("--out", default=DEMO_STORE)
    p.add_argument("--runs", help="comma-separated run ids (default: every run with results)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.add_argument("--max-mb", type=number(0.1, 100_000, integer=False), default=50.0)
    p.add_argument("--men-dir", help="local MEN folder: keep MEN-test alignment at every slider τ (not the ratings)")
    p.add_argument("--benchmark", action="append", help="another word-pair file to keep alignment of (repeatable)")
    p.add_argument("--score-column", help=SCORE_COLUMN_HELP + " (the same for every --benchmark)")
    p.add_argument(
        "--n-boot", type=number(1, MAX_BOOT), default=N_BOOT, help="bootstrap resamples for CIs and paired tests"
    )
    p.set_defaults(func=analysis_commands.cmd_build_demo)

    benchmark_commands.add_parser(sub, number(1, 1_000_000), SCORE_COLUMN_HELP)
    summary_commands.add_parser(sub, number(1, MAX_BOOT), SCORE_COLUMN_HELP)
    return parser


INTERRUPTED = "interrupted: finished concepts are stored; run the same command to continue"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # -h (0) or a one-line usage error (2): nothing ran
        return e.code if isinstance(e.code, int) else 2
    interrupted = []

    def on_sigint(signum, frame):  # remember it: a library may turn the KeyboardInterrupt into its own error
        interrupted.append(signum)
        signal.default_int_handler(signum, frame)

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: keep Python's own handler
        previous = None
    created = _missing_paths(args.store)
    parts = parts_dir_of(os.path.abspath(args.store))
    created_folders = ([parts] if created and not os.path.exists(parts) else []) + created[1:]
    ok = False
    try:
        _resolve_run_ids(args)
        code = args.func(args)
        ok = code == 0
        return code
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except Exception as e:
        if interrupted:
            print(INTERRUPTED, file=sys.stderr)
            return 130
        if args.debug or not isinstance(e, KNOWN_ERRORS):
            raise
        print(f"error: {first_line(e, MAX_ERROR)}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if not ok and created:
            _remove_empty_store(created[0], created_folders)


def _resolve_run_ids(args) -> None:
    """Let ``--run``/``--runs`` name a run by a unique start of its id (progress bars print the first 8 characters)."""
    given = {name: getattr(args, name, None) for name in ("run", "runs")}
    if not any(given.values()) or not os.path.isfile(args.store):
        return
    from core.analysis.run_choice import resolve_run_id
    from core.storage.store import Store

    ids = [r.run_id for r in Store(args.store, read_only=True, lock_timeout=5).runs()]
    if given["run"]:
        args.run = resolve_run_id(args.run, ids)
    if given["runs"]:
        args.runs = ",".join(resolve_run_id(r.strip(), ids) for r in given["runs"].split(",") if r.strip())


def _missing_paths(store: str) -> list[str]:
    """The store file and the folders above it that do not exist yet (deepest first)."""
    out = []
    path = os.path.abspath(store)
    while not os.path.exists(path):
        out.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return out


def _remove_empty_store(path: str, folders: list[str]) -> None:
    """After a failed command: remove the store it created if it holds nothing, and the empty folders it made."""
    from core.storage.store import Store, StoreError

    if os.path.exists(path):
        try:
            if not Store(path, read_only=True, lock_timeout=1).is_empty():
                return
        except StoreError:
            return
        for leftover in (path, path + ".wal"):
            if os.path.exists(leftover):
                os.remove(leftover)
    for folder in folders:
        _remove_empty_tree(folder)


def _remove_empty_tree(folder: str) -> None:
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        _remove_empty_tree(os.path.join(folder, name))
    if not os.listdir(folder):
        os.rmdir(folder)
