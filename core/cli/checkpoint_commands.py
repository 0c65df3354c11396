"""What ``checkpoints audit`` does, and the audit ``grid`` and ``extract --revisions`` run before they plan.

Both read the Hub's metadata only (``core.model.audit``): a revision whose weight files equal those of one already
planned is left out (or, with ``--keep-duplicates``, kept and marked), and one that mixes files of other revisions
is named, before a byte is downloaded.
"""

from __future__ import annotations

import os
import sys


def add_parser(sub) -> None:
    """``checkpoints audit`` and its options, on the command line's subcommands ``sub``."""
    p = sub.add_parser("checkpoints", help="audit a Hub model's checkpoints from its metadata, before downloading")
    c = p.add_subparsers(dest="checkpoints", required=True).add_parser(
        "audit", help="revisions with the same weight files as another, and revisions that mix files of others"
    )
    c.add_argument("--model", required=True, help="Hub id, e.g. EleutherAI/pythia-2.8b")
    c.add_argument("--revisions", help="comma-separated revisions (default: every branch)")
    c.add_argument("--format", default="table", choices=["table", "csv"], help="what to print")
    c.add_argument("--out", help="also write the table as CSV to this file")
    c.add_argument("--record", help="write the metadata read (refs and file trees) to this JSON file")
    c.add_argument("--hub-record", help="read the metadata from a file written by --record instead of the Hub")
    p.set_defaults(func=cmd_checkpoints)


def is_hub_id(model: str) -> bool:
    return not os.path.exists(model) and not model.startswith((".", "/", "~")) and model.count("/") == 1


def cmd_checkpoints(args) -> int:
    """``checkpoints audit``: the table of every branch (or ``--revisions``), its summary, and CSV on request."""
    from core.model.audit import audit, audit_frame, hub_api, record, revision_files, summary_lines

    if not is_hub_id(args.model):
        raise ValueError(f"{args.model!r} is not a Hub id (org/name): the audit reads the Hub's metadata")
    api = hub_api(args.hub_record)
    if args.record:
        n = record(args.model, args.record, api)
        print(f"recorded {n} branches of {args.model} to {args.record}", file=sys.stderr)
        api = hub_api(args.record)  # the audit reads what was recorded: one pass over the Hub
    wanted = [r.strip() for r in args.revisions.split(",") if r.strip()] if args.revisions else None
    rows = audit(revision_files(args.model, wanted, api))
    table = audit_frame(rows)
    if args.format == "csv":
        print(table.to_csv(index=False), end="")
    else:
        print(table.to_string(index=False))
        print("\n".join(summary_lines(args.model, rows)))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def audited_revisions(args, model: str, text: str) -> list[str]:
    """The revisions of ``--revisions`` to run for ``model``, after the audit (Hub ids only; local folders as given).

    Without ``--hub-record``, a Hub that cannot be reached skips the audit with one line (cached models still run).
    """
    from core.model.audit import hub_api, plan_revisions, revision_files
    from core.model.checkpoints import STEP, resolve_revisions

    record = getattr(args, "hub_record", None)
    if not is_hub_id(model):
        return resolve_revisions(model, text)
    api = hub_api(record)
    revisions = resolve_revisions(model, text, api)
    try:
        branches = [b.name for b in api.list_repo_refs(model).branches]
        extra = [b for b in branches if b not in revisions and not STEP.fullmatch(b)]  # main: widens the mix check
        files = revision_files(model, revisions + extra, api)
    except Exception as e:
        if record:
            raise
        from core.errors import first_line

        print(f"checkpoint audit of {model} skipped: {first_line(e)}", file=sys.stderr)
        return revisions
    plan = plan_revisions(files, revisions, keep_duplicates=getattr(args, "keep_duplicates", False))
    for line in plan_lines(model, plan):
        print(line, file=sys.stderr)
    return plan.keep


def plan_lines(model: str, plan) -> list[str]:
    """What the audit did to a model's revisions, one line each kind."""

    def pairs(d: dict[str, str]) -> str:
        items = [f"{r} (= {o})" for r, o in d.items()]
        return ", ".join(items[:12]) + (f" … {len(items) - 12} more" if len(items) > 12 else "")

    lines = []
    if plan.skipped:
        lines.append(
            f"{model}: skipping {len(plan.skipped)} revision(s) whose weight files on the Hub equal those of a planned"
            f" one: {pairs(plan.skipped)}; pass --keep-duplicates to run them"
        )
    if plan.marked:
        lines.append(f"{model}: keeping {len(plan.marked)} duplicate revision(s) as asked: {pairs(plan.marked)}")
    for revision, owners in plan.mixed.items():
        of = ", ".join(f"{n} file(s) of {o}" for o, n in owners.items())
        lines.append(f"{model}: {revision} mixes weight files of other revisions ({of}): not one checkpoint")
    for revision, later in plan.later.items():
        lines.append(f"{model}: {revision} holds the same weight files on the Hub as the later {later}")
    return lines


def print_grid_plan(runs: list[tuple[str, str | None]]) -> int:
    """``grid --dry-run``: the (model, revision) runs the grid would compute, after the audit; nothing is written."""
    models = list(dict.fromkeys(m for m, _ in runs))
    print(f"grid plan: {len(runs)} run(s) over {len(models)} model(s); nothing written")
    for m in models:
        revisions = [r or "(default)" for mm, r in runs if mm == m]
        print(f"  {m}: {len(revisions)} run(s): {', '.join(revisions)}")
    return 0
