"""Compare ``--reference selfcond`` (and the default, masked mode) with the real apple/ml-selfcond code.

Nothing of the reference is copied here: it is run, unmodified, from a checkout given by ``--selfcond``
(e.g. ``git archive`` of github.com/apple/ml-selfcond into /tmp), with an interpreter that can import it
(``--ref-pythonpath`` adds what it needs beyond this project's venv, e.g. matplotlib). Everything is
written under ``--work`` (outside the repository):

1. a store with sentences mined from ``--corpus`` for ``--concepts``;
2. randomly initialised GPT-2s (``--layers``), with SmolLM2's BPE tokenizer (its pad token is EOS),
   in folders named ``gpt2-*`` (the reference only accepts GPT-2 names);
3. our runs, reference mode and masked mode, APs of every unit kept (``ap_floor = 0``);
4. the reference's input: one JSON per concept holding exactly our drawn positives and negatives;
   then its ``scripts/compute_responses.py`` (``--seq-len`` = our ``max_length``) and
   ``scripts/compute_expertise.py``;
5. the comparison, unit by unit by name (its ``layer`` = ``transformer.`` + our module + ``:0``):
   max |ΔAP| and the experts at τ = 0.5, printed as a Markdown table (docs/reference_mode.md).

    python scripts/compare_selfcond.py --selfcond /tmp/selfcond-ref --ref-pythonpath /tmp/selfcond-deps \\
        --work /tmp/selfcond-run --corpus ../shared/data/corpus/enwiki2015_sample/sentences.jsonl.gz

With ``--model`` (e.g. ``smollm2``) it needs no reference code and compares only our two modes on that
model (max |ΔAP| and expert Jaccard at τ = 0.5 between masked and reference mode, for the README):

    python scripts/compare_selfcond.py --model smollm2 --work /tmp/smollm2-modes \\
        --corpus ../shared/data/corpus/enwiki2015_sample/sentences.jsonl.gz --n-pos 100 --n-neg 300
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig  # noqa: E402
from core.extraction.extract import extract, prepare  # noqa: E402
from core.storage.store import Store  # noqa: E402

TAU = 0.5


def make_models(work: str, layers: list[int]) -> list[str]:
    """Random GPT-2s with SmolLM2's tokenizer, one folder per depth; returns the folder names."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from core.model.loading import resolve

    path, _, gguf = resolve(ModelSpec("smollm2"))
    tok = None
    names = []
    for n_layer in layers:
        name = f"gpt2-random-{n_layer}l"
        names.append(name)
        folder = os.path.join(work, name)
        if os.path.exists(os.path.join(folder, "config.json")):
            continue
        tok = tok or AutoTokenizer.from_pretrained(path, gguf_file=gguf)
        torch.manual_seed(n_layer)
        cfg = GPT2Config(vocab_size=len(tok), n_positions=128, n_embd=64, n_layer=n_layer, n_head=4)
        cfg.bos_token_id, cfg.eos_token_id = tok.bos_token_id, tok.eos_token_id
        GPT2LMHeadModel(cfg).save_pretrained(folder)
        tok.save_pretrained(folder)
    return names


def run_reference(args, name: str, plan, concepts: list[str]) -> dict[str, pd.DataFrame]:
    """The reference's expertise.csv per concept, computed by its own scripts on our sets."""
    data = os.path.join(args.work, f"selfcond-data-{args.max_length}", name)
    os.makedirs(os.path.join(data, "sense"), exist_ok=True)
    for c in concepts:
        sets = {
            "positive": [plan.texts[s] for s in plan.positives[(c, 0)].tolist()],
            "negative": [plan.texts[s] for s in plan.negatives[(c, 0)].tolist()],
        }
        with open(os.path.join(data, "sense", f"{c}.json"), "w") as f:
            json.dump({"concept": c, "group": "sense", "sentences": sets}, f)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([args.selfcond, *args.ref_pythonpath]), MPLBACKEND="Agg")
    responses = os.path.join(args.work, f"selfcond-responses-{args.max_length}")
    listed = ",".join(f"sense/{c}" for c in concepts)
    big = str(10**9)  # --num-per-concept above the set sizes: every sentence, in file order
    steps = [
        ["compute_responses.py", "--model-name-or-path", name, "--data-path", data, "--concepts", listed]
        + ["--responses-path", responses, "--seq-len", str(args.max_length), "--num-per-concept", big]
        + ["--device", "cpu"],
        ["compute_expertise.py", "--root-dir", responses, "--model-name", name, "--concepts", listed],
    ]
    for script, *argv in steps:
        cmd = [args.ref_python, os.path.join(args.selfcond, "scripts", script), *argv]
        out = subprocess.run(cmd, cwd=args.work, env=env, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{script} failed:\n{out.stderr[-3000:]}")
        dropped = out.stdout.count("Removing data (")
        if dropped:
            print(f"  {name} {script}: the reference dropped {dropped} sentences longer than {args.max_length} tokens")
    return {c: pd.read_csv(os.path.join(responses, name, "sense", c, "expertise", "expertise.csv")) for c in concepts}


def fill_store(args, concepts: list[str]) -> Store:
    """A store under ``--work`` with sentences mined from ``--corpus`` for ``concepts``."""
    from core.text.sentences import mine

    store = Store(os.path.join(args.work, "store.duckdb"))
    if not set(concepts) <= set(store.concepts()["concept"]):
        found = mine(args.corpus, concepts, limit=4 * (args.n_pos + args.n_neg))
        for c in concepts:
            store.add_sentences(c, found[c], source="corpus")
    return store


def both_modes(store: Store, model: str, ds: DatasetConfig, max_length: int) -> dict:
    """Run ids of the reference-mode and masked runs of ``model`` (APs of every unit stored)."""
    from core.model.loading import load_model

    loaded = load_model(ModelSpec(model))  # once for both runs (a GGUF takes minutes to load)
    runs = {}
    for mode in ("selfcond", None):
        cfg = RunConfig(ModelSpec(model), ds, ExtractConfig(reference=mode, max_length=max_length, ap_floor=0))
        runs[mode] = extract(store, cfg, show_progress=False, model=loaded).run_id
    return runs


def all_aps(store: Store, run_id: str, concept: str, units: pd.DataFrame) -> np.ndarray:
    return store.ap(run_id, [concept], above=-1.0).set_index("unit")["ap"].reindex(units["unit"]).to_numpy()


def agreement(ours: np.ndarray, theirs: np.ndarray) -> dict:
    """max |dAP|, expert counts at TAU and their Jaccard."""
    a, b = set(np.flatnonzero(ours > TAU)), set(np.flatnonzero(theirs > TAU))
    return {
        "max abs dAP": f"{np.abs(ours - theirs).max():.2g}",
        "experts ours vs theirs": f"{len(a)} vs {len(b)}",
        "Jaccard": f"{len(a & b) / len(a | b):.3f}" if a | b else "1 (both empty)",
    }


def print_table(rows: list[dict]) -> None:
    table = pd.DataFrame(rows)
    print("| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns))
    for r in table.itertuples(index=False):
        print("| " + " | ".join(map(str, r)) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--selfcond", help="checkout of apple/ml-selfcond (not needed with --model)")
    p.add_argument("--ref-python", default=sys.executable)
    p.add_argument("--ref-pythonpath", action="append", default=[], help="extra import path for the reference")
    p.add_argument("--model", help="only compare masked with reference mode on this model (e.g. smollm2)")
    p.add_argument("--work", required=True, help="working folder outside the repository")
    p.add_argument("--corpus", required=True)
    p.add_argument("--concepts", default="cat,music,river")
    p.add_argument("--n-pos", type=int, default=50)
    p.add_argument("--n-neg", type=int, default=150)
    p.add_argument("--layers", default="2,12")
    p.add_argument("--max-length", type=int, default=128)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    concepts = args.concepts.split(",")
    store = fill_store(args, concepts)
    ds = DatasetConfig(tuple(concepts), args.n_pos, args.n_neg)
    rows = []
    if args.model:  # masked vs reference mode, both ours
        runs = both_modes(store, args.model, ds, args.max_length)
        units = store.units(runs[None])
        res = store.results(runs["selfcond"]).set_index("concept")
        for c in concepts:
            row = {
                "model": args.model,
                "concept": c,
                "pos/neg (reference mode)": "{}/{}".format(*res.loc[c, ["n_pos", "n_neg"]]),
            }
            diff = agreement(all_aps(store, runs[None], c, units), all_aps(store, runs["selfcond"], c, units))
            row.update({f"masked vs reference mode: {k}": v for k, v in diff.items()})
            rows.append(row)
        return print_table(rows)
    if not args.selfcond:
        p.error("give --selfcond (a checkout of apple/ml-selfcond) or --model")
    args.selfcond = os.path.abspath(args.selfcond)
    for name in make_models(args.work, [int(x) for x in args.layers.split(",")]):
        runs = both_modes(store, os.path.join(args.work, name), ds, args.max_length)
        plan, _ = prepare(store, RunConfig(ModelSpec(os.path.join(args.work, name)), ds))
        units = store.units(runs[None])
        names = "transformer." + units["module"] + ":0"
        ref = run_reference(args, name, plan, concepts)
        res = store.results(runs["selfcond"]).set_index("concept")
        for c in concepts:
            theirs = ref[c].set_index(["layer", "unit"])["ap"].reindex(list(zip(names, units["index"]))).to_numpy()
            assert not np.isnan(theirs).any() and len(ref[c]) == len(units), "unit sets differ"
            row = {"model": name, "concept": c, "units": len(units)}
            row["pos/neg kept"] = "{}/{}".format(*res.loc[c, ["n_pos", "n_neg"]])
            for mode, label in (("selfcond", "reference mode"), (None, "masked")):
                diff = agreement(all_aps(store, runs[mode], c, units), theirs)
                row.update({f"{label} vs selfcond: {k}": v for k, v in diff.items()})
            rows.append(row)
    print_table(rows)


if __name__ == "__main__":
    main()
