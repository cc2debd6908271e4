"""FBA inbound shipments, their items, and multi-channel fulfillment orders per marketplace."""
