"""Catalog Items (the seed's Product Categories for SKU and List Matching Products) per marketplace."""
