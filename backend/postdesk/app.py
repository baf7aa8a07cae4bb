"""create_app(): the API, the event stream and the single-page app in one ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse

from postdesk import __version__
from postdesk.accounts.router import routers as account_routers
from postdesk.agents.router import router as agents_router
from postdesk.blacklist.router import router as blacklist_router
from postdesk.campaigns.router import routers as campaign_routers
from postdesk.errors import NotFound, install_error_handlers
from postdesk.events.router import router as events_router
from postdesk.filters.router import router as channel_filters_router
from postdesk.groups.router import router as email_groups_router
from postdesk.inbound.router import router as inbound_router
from postdesk.interactions.router import routers as interaction_routers
from postdesk.middleware import RequestGuardMiddleware
from postdesk.notifications.router import routers as notification_routers
from postdesk.observability import configure_logging
from postdesk.ratings.router import routers as rating_routers
from postdesk.runtime import Runtime
from postdesk.servers.router import router as servers_router
from postdesk.settings import Settings, get_settings
from postdesk.supervision.router import router as supervision_router
from postdesk.system.router import routers as system_routers
from postdesk.templates.router import router as templates_router

ROUTERS = [*account_routers, servers_router, *system_routers, events_router, *campaign_routers, templates_router,
           email_groups_router, blacklist_router, channel_filters_router, inbound_router,
           agents_router, *interaction_routers, *rating_routers, *notification_routers, supervision_router]


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await Runtime.start(settings, role="api")
        try:
            yield
        finally:
            await app.state.runtime.stop()

    app = FastAPI(
        title="Postdesk",
        version=__version__,
        description="Contact-centre email platform API.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(RequestGuardMiddleware, max_body_bytes=settings.max_request_bytes)
    _mount_spa(app, settings.frontend_dist)
    return app


def _mount_spa(app: FastAPI, dist: Path) -> None:
    """Serve the built SPA; unknown non-API paths get index.html so client-side routes load."""
    index = dist / "index.html"
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="spa-assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str) -> FileResponse:
        if path.startswith("api/") or path == "api" or not index.exists():
            raise NotFound("Resource")
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
