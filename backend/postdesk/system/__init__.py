"""Operational status: health and readiness, metrics, worker heartbeats and background-job checks."""
