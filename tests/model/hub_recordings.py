"""Writes tests/model/hub/*.json: Hub metadata of three Pythia repositories in the shape ``audit.record`` writes.

The shapes are the Hub API's own (``/refs``: name, ref, targetCommit; ``/tree``: type, oid, size, path and, for LFS
files, lfs.oid = the file's SHA-256, size, pointerSize), the branch names are Pythia's 154 (step0, step1 … step512,
step1000 … step143000) plus ``main``, and the file names and sizes are those of each size. The hashes are made up
(this machine cannot reach the Hub) but carry the three published defects:

- pythia-2.8b serves final-era weights on 86 of its 154 branches, step0 included (EleutherAI/pythia#205); here step0
  and step59000 … step143000 hold the same file as ``main`` (some on their own commits, some on ``main``'s commit).
- pythia-12b steps 50000 and 58000 hold the final model's first shard beside their own other shards (#206).
- step0 and step1 are identical for every size (#83): pythia-70m and pythia-12b here.

``python -m core checkpoints audit --record FILE --model ORG/NAME`` writes the real ones where the Hub is reachable.
Run ``python tests/model/hub_recordings.py`` to rewrite the files.
"""

from __future__ import annotations

import hashlib
import json
import os

HERE = os.path.join(os.path.dirname(__file__), "hub")
STEPS = [0] + [2**i for i in range(10)] + list(range(1000, 143001, 1000))  # Pythia's 154 checkpoints


def _hex(*parts, n: int = 64) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:n]


def _lfs(model: str, path: str, weights: str, size: int) -> dict:
    sha = _hex(model, path, weights)
    return {"type": "file", "oid": _hex("blob", sha, n=40), "size": size, "path": path,
            "lfs": {"oid": sha, "size": size, "pointerSize": 135}}  # fmt: skip


def _small(model: str, path: str, text: str) -> dict:
    return {"type": "file", "oid": _hex("blob", model, path, text, n=40), "size": len(text), "path": path}


def recording(model: str, shards: dict[str, int], weights_of) -> dict:
    """Refs and trees of ``model``: ``weights_of(step, shard)`` names the weights each step's shard holds."""
    branches, trees = [], {}
    final_commit = _hex(model, "main", n=40)
    for step in STEPS + ["main"]:
        name = "main" if step == "main" else f"step{step}"
        files = {s: weights_of(143000 if step == "main" else step, s) for s in shards}
        same_commit = step != "main" and all(files[s] == f"final:{s}" for s in shards) and step % 2000 == 0
        commit = final_commit if (step == "main" or same_commit) else _hex(model, name, n=40)
        branches.append({"name": name, "ref": f"refs/heads/{name}", "targetCommit": commit})
        if commit in trees:
            continue
        tree = [_small(model, ".gitattributes", "*.bin filter=lfs"), _small(model, "config.json", name)]
        if len(shards) > 1:
            tree.append(_small(model, "pytorch_model.bin.index.json", name))
        tree += [_lfs(model, s, files[s], size) for s, size in shards.items()]
        trees[commit] = tree
    return {"model": model, "refs": {"branches": branches, "converts": [], "tags": []}, "trees": trees}


def pythia_28b(step: int, shard: str) -> str:
    return f"final:{shard}" if step == 0 or step >= 59000 else f"step{step}:{shard}"


def pythia_12b(step: int, shard: str) -> str:
    if step == 143000 or (step in (50000, 58000) and shard.startswith("pytorch_model-00001")):
        return f"final:{shard}"
    return f"step{max(step, 1)}:{shard}"  # step0 = step1


def pythia_70m(step: int, shard: str) -> str:
    return "final:" + shard if step == 143000 else f"step{max(step, 1)}:{shard}"


RECORDINGS = {
    "pythia-2.8b": ("EleutherAI/pythia-2.8b", {"pytorch_model.bin": 5_684_368_000}, pythia_28b),
    "pythia-12b": (
        "EleutherAI/pythia-12b",
        {
            f"pytorch_model-0000{i}-of-00003.bin": n
            for i, n in ((1, 9_965_000_000), (2, 9_956_000_000), (3, 3_924_000_000))
        },
        pythia_12b,
    ),
    "pythia-70m": ("EleutherAI/pythia-70m", {"pytorch_model.bin": 166_049_099}, pythia_70m),
}


def path_of(name: str) -> str:
    return os.path.join(HERE, f"{name}.json")


if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    for name, (model, shards, weights_of) in RECORDINGS.items():
        with open(path_of(name), "w") as fh:
            json.dump(recording(model, shards, weights_of), fh)
        print(path_of(name), os.path.getsize(path_of(name)))
