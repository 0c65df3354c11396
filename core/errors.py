"""One-line error messages: what a command prints, or an error it wraps says of the cause, never a traceback."""

from __future__ import annotations


def first_line(e: BaseException, limit: int | None = None) -> str:
    """The first line of ``e``'s message (its type's name when it has none), cut to ``limit`` characters."""
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:limit]
