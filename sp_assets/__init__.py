"""sp_assets: Amazon Selling Partner API data as Dagster assets in DuckDB."""
