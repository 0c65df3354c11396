"""Command line: the parser (built from the config dataclasses) and what each command does."""
