"""FBA inventory supply (the seed's Fulfillment Inventory - List Inventory Supply) per marketplace."""
