"""The inbound pipeline: mailbox fetchers, exactly-once ingestion, threading, quarantine."""
