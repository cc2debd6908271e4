"""The seed's five order reports as daily-partitioned assets per marketplace."""
