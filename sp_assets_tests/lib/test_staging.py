"""lib/staging.py: a stage is reused only for exactly its key, only while young, and never half-written."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from sp_assets.lib import staging

KEY = {"run_family": "run-1", "config": "abc", "assets": ["us/orders", "us/order_items"],
       "partitions": ["2026-03-01"], "params": {"by": "created", "window": [datetime(2026, 3, 1, 8, tzinfo=UTC)]}}


def _frames() -> dict[str, pl.DataFrame]:
    orders = pl.DataFrame({"amazon_order_id": ["A", "B"], "partition_date": [date(2026, 3, 1)] * 2,
                           "purchase_date": [datetime(2026, 3, 1, 9, tzinfo=UTC)] * 2,
                           "total": [1.5, None]})
    items = pl.DataFrame({"amazon_order_id": ["A"], "quantity": [3]})
    return {"orders": orders, "order_items": items}


def test_saved_frames_come_back_identical_with_the_calls_of_the_fetch(tmp_path: Path) -> None:
    staging.save(tmp_path, KEY, _frames(), {"orders": {"calls": 4}})
    staged = staging.load(tmp_path, KEY, max_age_s=60)
    assert staged is not None
    assert set(staged.frames) == {"orders", "order_items"}
    for name, frame in _frames().items():
        assert staged.frames[name].equals(frame), name
        assert staged.frames[name].schema == frame.schema
    assert staged.api == {"orders": {"calls": 4}}
    assert 0 <= staged.age_s < 60


@pytest.mark.parametrize("field, value", [("run_family", "run-2"), ("config", "abd"), ("assets", ["us/orders"]),
                                          ("partitions", ["2026-03-02"]), ("params", {"by": "last_updated"})])
def test_any_other_key_never_reuses_the_stage(tmp_path: Path, field: str, value: object) -> None:
    staging.save(tmp_path, KEY, _frames(), {})
    assert staging.load(tmp_path, {**KEY, field: value}, max_age_s=60) is None
    assert staging.load(tmp_path, KEY, max_age_s=60) is not None


def test_a_stage_older_than_the_bound_is_not_reused_and_is_removed(tmp_path: Path) -> None:
    path = staging.save(tmp_path, KEY, _frames(), {})
    manifest = json.loads((path / staging.MANIFEST).read_text(encoding="utf-8"))
    manifest["fetched_at"] = time.time() - 601
    (path / staging.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert staging.load(tmp_path, KEY, max_age_s=600) is None
    assert not path.exists()


def test_discard_removes_the_stage(tmp_path: Path) -> None:
    path = staging.save(tmp_path, KEY, _frames(), {})
    staging.discard(tmp_path, KEY)
    assert not path.exists()
    assert staging.load(tmp_path, KEY, max_age_s=60) is None


def test_a_stage_without_its_manifest_or_with_a_broken_frame_is_not_used(tmp_path: Path) -> None:
    path = staging.save(tmp_path, KEY, _frames(), {})
    (path / "0.parquet").write_bytes(b"not parquet")
    assert staging.load(tmp_path, KEY, max_age_s=60) is None
    assert not path.exists()
    path = staging.save(tmp_path, KEY, _frames(), {})
    (path / staging.MANIFEST).unlink()
    assert staging.load(tmp_path, KEY, max_age_s=60) is None


def test_discard_stale_removes_only_old_stages(tmp_path: Path) -> None:
    old = staging.save(tmp_path, KEY, _frames(), {})
    young = staging.save(tmp_path, {**KEY, "run_family": "run-2"}, _frames(), {})
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    (tmp_path / "unrelated").mkdir()
    assert staging.discard_stale(tmp_path, max_age_s=600) == 1
    assert not old.exists() and young.exists() and (tmp_path / "unrelated").exists()
