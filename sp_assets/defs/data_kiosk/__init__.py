"""Data Kiosk datasets as daily-partitioned assets."""
