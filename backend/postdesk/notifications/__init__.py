"""Automated emails to a campaign's email groups: failed calls, lost interactions, delivery problems."""
