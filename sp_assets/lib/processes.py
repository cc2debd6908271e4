"""Whether a process a run recorded (by pid, at a moment) is still that process, and still running.

A pid alone is not enough: a SIGKILLed run worker leaves its pid free for the kernel to hand to an
unrelated process, and a killed child of a live parent stays a zombie (``kill(pid, 0)`` succeeds on
it) until the parent reaps it. On Linux ``/proc/<pid>/stat`` gives the state and the start time, so a
zombie is dead and a process started after the pid was recorded is somebody else. Elsewhere only
``kill(pid, 0)`` is available, which errs on the side of "alive": a run is never failed by mistake.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
# /proc/stat's btime has one-second resolution; a process is "ours" if it started no later than this
# after the moment its pid was recorded.
START_TIME_SLACK_S = 2.0
DEAD_STATES = frozenset({"Z", "X", "x"})


def process_alive(pid: int, recorded_at: float | None = None) -> bool:
    """True while ``pid`` runs and (when ``recorded_at``, a Unix time, is given) started before it."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user: cannot be inspected further without /proc
    except OSError:
        return False
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc (macOS) or it vanished meanwhile: trust kill(pid, 0)
    state, started_at = stat
    if state in DEAD_STATES:
        return False
    return recorded_at is None or started_at is None or started_at <= recorded_at + START_TIME_SLACK_S


def _proc_stat(pid: int) -> tuple[str, float | None] | None:
    """(state, start time as a Unix time) from ``/proc/<pid>/stat``; None without procfs."""
    try:
        text = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
    fields = text[text.rfind(")") + 2:].split()
    state = fields[0] if fields else "?"
    try:
        ticks = int(fields[19])  # field 22 of the file: start time in clock ticks after boot
        return state, _boot_time() + ticks / os.sysconf("SC_CLK_TCK")
    except (IndexError, ValueError, OSError):
        return state, None


def _boot_time() -> float:
    for line in (PROC / "stat").read_text(encoding="utf-8").splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")
