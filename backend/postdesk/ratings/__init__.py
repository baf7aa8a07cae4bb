"""Ratings: customers rate our replies from signed links; supervisors read the aggregates."""
