"""Tests mirror the package: lib/, defs/, sandbox/, e2e/."""
