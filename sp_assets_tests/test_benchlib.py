"""The benchmarks' shared summary rows: their target text and verdict feed the results table of
``benchmarks/run_all.py`` (and BENCHMARKS.md), so a changed direction or format would silently
misreport every paired benchmark at once."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from benchlib import figure, ratio_and_rss_figures  # noqa: E402


def test_a_speed_ratio_must_reach_its_limit_and_a_missing_ratio_fails() -> None:
    rows = ratio_and_rss_figures("x: ratio", 0.5, 0.5, "detail", "x: peak RSS (MB)", 400.0, 400.0, "rss detail")
    assert rows == [figure("x: ratio", 0.5, ">= 0.5", True, "detail"),
                    figure("x: peak RSS (MB)", 400.0, "<= 400 MB", True, "rss detail")]
    below = ratio_and_rss_figures("x", 0.499, 0.5, "", "y", 400.1, 400.0, "")
    assert [row["ok"] for row in below] == [False, False]
    assert ratio_and_rss_figures("x", None, 0.5, "", "y", 1.0, 400.0, "")[0]["ok"] is False


def test_a_cost_ratio_must_stay_at_or_under_its_limit() -> None:
    at, over = (ratio_and_rss_figures("m", value, 3.0, "", "r", 10.0, 1024.0, "", at_most=True)[0]
                for value in (3.0, 3.001))
    assert (at["target"], at["ok"], over["ok"]) == ("<= 3", True, False)
    assert ratio_and_rss_figures("m", None, 3.0, "", "r", 10.0, 1024.0, "", at_most=True)[0]["ok"] is False


def test_the_rss_note_follows_the_rss_target() -> None:
    rss = ratio_and_rss_figures("x", 1.0, 0.5, "", "y", 10.0, 400.0, "", rss_note=" (target is for >= 1 GB)")[1]
    assert rss["target"] == "<= 400 MB (target is for >= 1 GB)"
