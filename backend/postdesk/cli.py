"""The `postdesk` command: run the embedded app, run workers, migrate, manage keys and admins."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import ValidationError

from postdesk.settings import REPO_ROOT, Settings, get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="postdesk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="migrate, create the first admin, serve API + SPA (+ jobs when embedded)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--no-migrate", action="store_true", help="skip migrations (production runs them once elsewhere)")

    commands.add_parser("worker", help="run an arq worker (production mode)")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("create-admin", help="create the first company and admin if there is none")
    commands.add_parser("rotate-keys", help="re-encrypt every stored secret under the newest encryption key")
    commands.add_parser("generate-key", help="print a new encryption key (for POSTDESK_ENCRYPTION_KEYS)")
    from postdesk.sandbox import cli as sandbox_cli

    sandbox_cli.add_arguments(commands.add_parser("sandbox", help="local mail sandbox on 127.0.0.1 (SMTP, IMAP, POP3)"))
    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=REPO_ROOT / "openapi" / "openapi.json")

    args = parser.parse_args(argv)
    if args.command == "generate-key":
        print(Fernet.generate_key().decode())
        return
    if args.command == "openapi":
        write_openapi(args.output)
        return
    if args.command == "sandbox":
        sandbox_cli.run(args)
        return

    settings = _load_settings()
    if args.command == "migrate":
        _migrate(settings)
    elif args.command == "create-admin":
        _migrate(settings)
        asyncio.run(ensure_first_admin(settings))
    elif args.command == "rotate-keys":
        from postdesk.security.rotation import rotate_all_secrets

        count = asyncio.run(rotate_all_secrets(settings))
        print(f"re-encrypted {count} stored secrets under the newest key")
    elif args.command == "worker":
        from arq.worker import run_worker

        from postdesk.jobs.worker import build_worker_settings

        run_worker(build_worker_settings())
    elif args.command == "run":
        _serve(settings, args.host, args.port, migrate=not args.no_migrate)


def _load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        sys.exit(f"postdesk: invalid settings:\n{exc}")


def _migrate(settings: Settings) -> None:
    from postdesk.migrate import upgrade_to_head

    upgrade_to_head(settings)


async def ensure_first_admin(settings: Settings) -> None:
    """Create the first company and admin once; print a generated password exactly once."""
    from postdesk.accounts import service as accounts_service
    from postdesk.runtime import Runtime
    from postdesk.security.passwords import MIN_PASSWORD_LENGTH
    from postdesk.uow import unit_of_work

    email = settings.admin_email or "admin@postdesk.local"
    generated = settings.admin_password is None
    password = secrets.token_urlsafe(12) if generated else settings.admin_password.get_secret_value()  # type: ignore[union-attr]
    if len(password) < MIN_PASSWORD_LENGTH:
        sys.exit(f"postdesk: POSTDESK_ADMIN_PASSWORD must have at least {MIN_PASSWORD_LENGTH} characters")
    runtime = await Runtime.start(settings, role="cli")
    try:
        async with unit_of_work(runtime) as session:
            created = await accounts_service.bootstrap_first_admin(session, email=email, password=password)
    finally:
        await runtime.stop()
    if created:
        shown = password if generated else "(from POSTDESK_ADMIN_PASSWORD)"
        print(f"\n  First admin created: {email}  password: {shown}\n  This password is shown only once.\n",
              flush=True)


def _serve(settings: Settings, host: str, port: int, *, migrate: bool) -> None:
    import uvicorn

    from postdesk.app import create_app

    if migrate:
        _migrate(settings)
    asyncio.run(ensure_first_admin(settings))
    print(f"Postdesk ({settings.mode} mode) on http://{host}:{port}", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, proxy_headers=False,
                # Our middleware logs requests without query strings; uvicorn's would log the
                # WebSocket's ?token= access token.
                access_log=False, ws_ping_interval=20)


def write_openapi(output: Path) -> None:
    from postdesk.app import create_app

    settings = Settings(secret_key="x" * 40, encryption_keys=Fernet.generate_key().decode())  # type: ignore[arg-type]
    document = create_app(settings).openapi()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
