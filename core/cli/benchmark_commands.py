"""``benchmark coverage``: what a benchmark file needs before anything runs (``core.cli.parser`` parses it)."""

from __future__ import annotations

import os


def add_parser(sub, count, score_column_help: str) -> None:
    """``benchmark coverage`` and its options on the subcommands ``sub`` (``count``: the CLI's checked count type)."""
    p = sub.add_parser("benchmark", help="a benchmark file's coverage before anything runs")
    bench = p.add_subparsers(dest="benchmark_command", required=True)
    q = bench.add_parser("coverage", help="which words have sentences in the store and which need mining")
    q.add_argument("file", help="SimLex-999, WordSim-353 or any 'word1 word2 score' file")
    q.add_argument("--score-column", help=score_column_help)
    q.add_argument("--n-pos", type=count, help="positives a word needs (default: extract's --n-pos)")
    q.add_argument("--min-pos", type=count, help="fewer positives accepted down to this (--min-pos)")
    q.add_argument("--out", help="CSV of every word with its sentences and status")
    q.set_defaults(func=cmd_benchmark)


def cmd_benchmark(args) -> int:
    """Read a benchmark file and say which of its words have enough sentences in the store and which need mining."""
    from core.config import DatasetConfig
    from core.storage.store import Store
    from core.text.benchmarks import read_pairs, word_coverage

    pairs = read_pairs(args.file, args.score_column)
    n_pos = args.n_pos or DatasetConfig.__dataclass_fields__["n_pos"].default
    counts: dict[str, int] = {}
    if os.path.exists(args.store):  # no store yet: every word needs mining
        known = Store(args.store, read_only=True).concepts()
        counts = dict(zip(known["concept"], known["n_sentences"]))
    words, ready = word_coverage(pairs, counts, n_pos, args.min_pos)
    by_status = words["status"].value_counts()
    print(
        f"{args.file}: {len(pairs)} pairs, {len(words)} words, scores {pairs['score'].min():g}–{pairs['score'].max():g}"
    )
    print(
        f"sentences in {args.store}: {by_status.get('ready', 0)} words have ≥ {n_pos}, "
        f"{by_status.get('short', 0)} fewer but ≥ {args.min_pos or n_pos} (--min-pos), "
        f"{by_status.get('needs mining', 0)} need mining"
    )
    print(f"pairs that could be extracted now: {len(ready)} of {len(pairs)}")
    need = words[words["status"] == "needs mining"]
    if len(need):
        shown = ", ".join(f"{w} ({n})" for w, n in zip(need["word"][:20], need["n_sentences"][:20]))
        more = f" … and {len(need) - 20} more" if len(need) > 20 else ""
        print(f"need mining (sentences now): {shown}{more}")
    if args.out:
        words.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    return 0
