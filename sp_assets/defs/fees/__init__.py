"""Product fee estimates by SKU (Product Fees v0 getMyFeesEstimates) per marketplace."""
