"""Marketplace participations (the seed's Marketplace Participations) per marketplace."""
