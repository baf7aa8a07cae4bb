"""Applying migrations from code (CLI, tests, container start)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from postdesk.settings import REPO_ROOT, Settings


def alembic_config(settings: Settings) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["settings"] = settings
    return config


def upgrade_to_head(settings: Settings) -> None:
    """Blocking (Alembic drives its own event loop): call from sync code or a thread."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    # "heads": branches written in parallel apply together until a merge revision joins them.
    command.upgrade(alembic_config(settings), "heads")
