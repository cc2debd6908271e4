"""Dagster definitions, one folder per domain; ``sp_assets/definitions.py`` loads them all."""
