"""Per-API state and rules, one module per API, with no HTTP in them."""
