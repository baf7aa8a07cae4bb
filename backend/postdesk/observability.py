"""Structured logs and Prometheus metrics."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("postdesk_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("postdesk_http_request_seconds", "HTTP request latency", ["method", "route"])
JOB_RUNS = Counter("postdesk_job_runs_total", "Background job attempts", ["job", "outcome"])
LOGIN_ATTEMPTS = Counter("postdesk_login_attempts_total", "Login attempts", ["outcome"])


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
