"""``python -m sp_assets.backfill``: ``dagster job backfill`` with its date range checked first.

Dagster's own command, given ``--from`` after ``--to``, selects no partition and then fails printing
them (``ValueError: max() arg is an empty sequence``, from ``dagster/_cli/job.py``), which names
neither date. This wrapper reads the two dates, refuses a malformed date or a reversed range with a
sentence naming both, and otherwise hands every argument, unchanged, to ``dagster job backfill``:

    .venv/bin/python -m sp_assets.backfill -w workspace.yaml -j us_rolling_job --from 2026-10-01 --to 2026-10-31 --noprompt
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import date

DAGSTER_COMMAND = ("-m", "dagster", "job", "backfill")
USAGE_ERROR = 2  # what click (and so dagster) returns for a bad argument


class RangeError(ValueError):
    """A backfill range Dagster would not select any partition of; the message names the dates."""


def option_value(argv: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` (the last one given, as click reads it)."""
    found = None
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            found = argv[index + 1]
        elif arg.startswith(name + "="):
            found = arg[len(name) + 1:]
    return found


def _partition_date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RangeError(f"{option} {value!r} is not a partition date; use YYYY-MM-DD, e.g. 2026-10-01") from None


def check_range(argv: Sequence[str]) -> None:
    """Refuse a ``--from``/``--to`` pair that is malformed or reversed; one bound alone is Dagster's to check."""
    first, last = option_value(argv, "--from"), option_value(argv, "--to")
    start = _partition_date("--from", first) if first is not None else None
    end = _partition_date("--to", last) if last is not None else None
    if start is not None and end is not None and start > end:
        raise RangeError(f"--from {first} is after --to {last}: a backfill runs from its first partition to its "
                         f"last, so no partition lies between them; swap them: --from {last} --to {first}")


def dagster_command(argv: Sequence[str]) -> list[str]:
    return [sys.executable, *DAGSTER_COMMAND, *argv]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        check_range(args)
    except RangeError as error:
        sys.stderr.write(f"sp_assets: {error}\n")
        return USAGE_ERROR
    command = dagster_command(args)
    os.execv(command[0], command)  # dagster's own output, prompt and exit code, unchanged
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
