"""Outbound delivery: outgoing Message rows sent by a job through the campaign's server, exactly once."""
