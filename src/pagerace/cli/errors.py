"""The one error type the CLI turns into a single line on stderr and exit status 2."""

from __future__ import annotations


class BadInput(Exception):
    """Bad usage or bad input: unknown scenario, bad parameter, corrupt trace file, ..."""
