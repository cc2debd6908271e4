"""Finances per marketplace: financial events (one row per money component) and financial event groups."""
