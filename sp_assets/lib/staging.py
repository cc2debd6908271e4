"""Fetched frames kept on disk between a fetch and its write, so a retried write does not fetch again.

A step that fetched from Amazon and then failed to write (the DuckDB file locked by another program
past its busy timeout, the sp_assets lock held past its timeout) is retried by Dagster's step retry
policy. Without a stage the retry would ask Amazon again for everything (minutes of quota for a
large window, and different data if the seller's orders moved meanwhile). Here the fetched frames are
written to parquet right after the fetch and before the write; the next attempt of the same run
family with the same key reuses them, and a successful write deletes them.

The key is a mapping of everything that decides what was fetched (asset keys, window, run family,
the marketplace's configuration): its SHA-256 names the stage folder, and the full key is stored in
the manifest and compared on load, so a different configuration never reuses a stage. A stage
older than ``max_age_s`` is never reused (and is removed by ``discard_stale``).

No Dagster import: the caller (``defs/rest_support.py``) decides the key and the age bound.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

MANIFEST = "manifest.json"
STAGE_PREFIX = "stage-"


@dataclass(frozen=True)
class Staged:
    """Frames reused from a stage, with when they were fetched and the API calls the fetch made."""

    frames: dict[str, pl.DataFrame]
    fetched_at: float
    api: dict[str, Any]
    path: Path

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.fetched_at)


def _canonical(key: Mapping[str, Any]) -> str:
    return json.dumps(dict(key), sort_keys=True, default=str, separators=(",", ":"))


def stage_dir(root: Path, key: Mapping[str, Any]) -> Path:
    """The folder of ``key``'s stage under ``root`` (named by the key's SHA-256)."""
    digest = hashlib.sha256(_canonical(key).encode("utf-8")).hexdigest()[:32]
    return root / f"{STAGE_PREFIX}{digest}"


def save(root: Path, key: Mapping[str, Any], frames: Mapping[str, pl.DataFrame], api: Mapping[str, Any]) -> Path:
    """Write ``frames`` (name -> frame) and a manifest atomically: a stage is complete or absent.

    The frames go to a temporary folder that is renamed into place, so an attempt killed while
    staging leaves nothing a retry could mistake for a complete stage.
    """
    target = stage_dir(root, key)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    try:
        names = {}
        for index, (name, frame) in enumerate(frames.items()):
            file = f"{index}.parquet"
            frame.write_parquet(temporary / file)
            names[name] = file
        manifest = {"key": json.loads(_canonical(key)), "fetched_at": time.time(), "frames": names,
                    "api": json.loads(json.dumps(dict(api), default=str))}
        (temporary / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        temporary.rename(target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return target


def load(root: Path, key: Mapping[str, Any], max_age_s: float) -> Staged | None:
    """The stage of exactly ``key`` if it exists, is complete and is younger than ``max_age_s``; else None.

    A stale or unreadable stage is removed, so it is never considered again.
    """
    target = stage_dir(root, key)
    manifest_path = target / MANIFEST
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest["key"] != json.loads(_canonical(key)):
            return None  # a digest collision: never reuse another key's data
        fetched_at = float(manifest["fetched_at"])
        if not 0 <= time.time() - fetched_at <= max_age_s:
            discard(root, key)
            return None
        frames = {name: pl.read_parquet(target / file) for name, file in manifest["frames"].items()}
    except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError):
        discard(root, key)
        return None
    return Staged(frames=frames, fetched_at=fetched_at, api=dict(manifest.get("api") or {}), path=target)


def discard(root: Path, key: Mapping[str, Any]) -> None:
    """Remove ``key``'s stage (after a successful write, or when it may not be reused)."""
    shutil.rmtree(stage_dir(root, key), ignore_errors=True)


def discard_stale(root: Path, max_age_s: float) -> int:
    """Remove every stage under ``root`` older than ``max_age_s`` (those of attempts that never
    succeeded); returns how many. Stages are small and few, so scanning them is cheap."""
    if not root.is_dir():
        return 0
    removed = 0
    now = time.time()
    for folder in root.iterdir():
        if not folder.name.startswith((STAGE_PREFIX, f".{STAGE_PREFIX}")):
            continue
        try:
            age = now - folder.stat().st_mtime
        except OSError:
            continue
        if age > max_age_s:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
