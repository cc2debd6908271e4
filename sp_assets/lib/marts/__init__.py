"""The analyst's layer: SQL models (``models/<table>.sql``) built into schema ``marts`` by the warehouse.

``specs`` says what each mart is (grain, key, typed columns) and what it reads; ``runner`` builds one
inside the warehouse's write lock, and loads the user's exchange rates into ``marts.fx_rates``.
"""

from sp_assets.lib.marts.runner import BuildResult, MartError, Source, build, load_fx_rates, read_fx_csv
from sp_assets.lib.marts.specs import FX_RATES, INPUTS, MODELS, NO_SKU, Model
from sp_assets.lib.warehouse.sql import MARTS_SCHEMA

__all__ = ["FX_RATES", "INPUTS", "MARTS_SCHEMA", "MODELS", "NO_SKU", "BuildResult", "MartError", "Model", "Source",
           "build", "load_fx_rates", "read_fx_csv"]
