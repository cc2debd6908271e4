"""The code location: loads ``sp_assets/defs/``, whose one ``@dg.definitions`` (``marketplace_factory.py``)
builds every domain for every configured marketplace from one read of the configuration."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
