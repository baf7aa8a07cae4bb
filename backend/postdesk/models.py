"""Imports every domain's models so Base.metadata is complete (Alembic, create_all in tools)."""

import importlib
import pkgutil


def import_all_modules(kind: str) -> None:
    """Import `postdesk.<domain>.<kind>` for every domain (models, service, tasks...)."""
    import postdesk

    for module in pkgutil.walk_packages(postdesk.__path__, "postdesk."):
        if module.name.endswith(f".{kind}") and module.name != "postdesk.models":
            importlib.import_module(module.name)


def import_all_models() -> None:
    import_all_modules("models")
