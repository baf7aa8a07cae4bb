"""Runtime configuration: one Settings object, read from POSTDESK_* environment variables.

Embedded mode (the default) needs nothing set: SQLite and generated keys live under `data_dir`.
Production mode is chosen by setting `POSTDESK_REDIS_URL` (with a PostgreSQL database URL) and
refuses to start on missing or default secrets.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]

# Values that show up in examples and tutorials; production must never run with them.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "postdesk", "password", "development", "please-change-me"}
)
MIN_SECRET_KEY_LENGTH = 32


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTDESK_", extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / "var", description="Where embedded mode keeps its database, keys and files.")
    database_url: str | None = Field(default=None, description="SQLAlchemy async URL; default SQLite under data_dir.")
    redis_url: str | None = Field(default=None, description="Setting it selects production mode (arq + Redis pub/sub).")
    redis_prefix: str = Field(default="postdesk", description="Namespace for arq queue, pub/sub channels and counters.")

    secret_key: SecretStr | None = Field(default=None, description="Signs access tokens. Generated in embedded mode.")
    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Fernet keys for secrets at rest, newest first (comma-separated)."
    )

    jwt_issuer: str = "postdesk"
    jwt_audience: str = "postdesk-api"
    access_token_minutes: int = Field(default=8 * 60, ge=1, le=7 * 24 * 60)

    admin_email: str | None = None
    admin_password: SecretStr | None = None

    login_max_attempts: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Peers whose X-Forwarded-For is believed (CIDRs or addresses)."
    )
    network_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Hosts or networks admins may point mail servers at despite the guard."
    )

    mail_ca_file: Path | None = Field(default=None, description="Extra CA bundle trusted for mail servers' TLS.")
    sendgrid_api_url: str = "https://api.sendgrid.com"
    mail_timeout_seconds: float = Field(default=10, gt=0, le=120, description="Per step of a mail server dialogue.")

    storage_dir: Path | None = Field(default=None, description="Message bodies and attachments; default data_dir/files. "
                                     "Shared by every API and worker process.")
    public_url: str = "http://127.0.0.1:8000"
    frontend_dist: Path = REPO_ROOT / "frontend" / "dist"
    max_request_bytes: int = Field(default=30 * 1024 * 1024, ge=1024)
    embedded_job_concurrency: int = Field(default=4, ge=1, le=64)
    auto_reply_max_per_sender_per_hour: int = Field(default=3, ge=0, le=100, description="Auto-replies one "
                                                    "customer address may get per hour (0: none).")
    # Inbound fetchers (long-lived tasks; see postdesk.inbound.supervisor). Tests shorten the intervals.
    inbound_fetchers_enabled: bool = Field(default=True, description="Run mailbox fetchers in this process "
                                           "(the API in embedded mode, every worker in production).")
    inbound_reconcile_seconds: float = Field(default=5, gt=0, le=300, description="How often fetchers are "
                                             "matched to the configuration (start/stop/restart).")
    inbound_poll_seconds: float = Field(default=60, gt=0, le=3600, description="Polling interval for POP3 and "
                                        "IMAP servers without IDLE.")
    inbound_idle_seconds: float = Field(default=300, gt=0, le=25 * 60, description="IDLE is re-issued this often "
                                        "(also how fast a silently dead connection is noticed).")
    inbound_lock_seconds: float = Field(default=30, gt=0, le=600, description="Lease of a mailbox's fetch lock "
                                        "in production; renewed at a third of it.")
    inbound_batch_size: int = Field(default=200, ge=1, le=500, description="Messages fetched per IMAP round trip "
                                    "(a batch also ends at 16 MB) and recorded per transaction.")
    inbound_parse_processes: int = Field(default=1, ge=0, le=32, description="Worker processes that prepare "
                                         "fetched mail (parse, sanitise, store) beside this one (0: a thread of "
                                         "this process, sharing its CPU, without crash isolation).")
    inbound_max_attempts: int = Field(default=3, ge=1, le=20, description="Tries per message before quarantine.")
    inbound_max_backoff_seconds: float = Field(default=300, gt=0, le=3600, description="Longest pause between "
                                               "reconnection attempts to a failing mailbox.")
    # A failing mailbox is told to its campaigns' email groups once per outage (postdesk.inbound.alerts).
    inbound_alert_after_failures: int = Field(default=10, ge=1, le=1000, description="A failing mailbox is "
                                              "told to its email groups after this many failures in a row...")
    inbound_alert_after_minutes: float = Field(default=15, gt=0, le=7 * 24 * 60, description="...or after "
                                               "failing for this many minutes, whichever comes first.")
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "console"

    @field_validator("encryption_keys", "trusted_proxies", "network_allow", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @property
    def mode(self) -> Literal["embedded", "production"]:
        return "production" if self.redis_url else "embedded"

    @property
    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "files"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'postdesk.db'}"

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.mode != "production":
            return self
        problems = []
        if self.is_sqlite:
            problems.append("POSTDESK_DATABASE_URL must point at PostgreSQL when POSTDESK_REDIS_URL is set")
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if key.lower() in KNOWN_DEFAULT_SECRETS or len(key) < MIN_SECRET_KEY_LENGTH:
            problems.append(f"POSTDESK_SECRET_KEY must be a random value of at least {MIN_SECRET_KEY_LENGTH} characters")
        if not self.encryption_keys:
            problems.append("POSTDESK_ENCRYPTION_KEYS is required (generate one with `postdesk generate-key`)")
        for key_value in self.encryption_keys:
            try:
                Fernet(key_value.get_secret_value())
            except ValueError:
                problems.append("POSTDESK_ENCRYPTION_KEYS holds a value that is not a Fernet key")
                break
        if problems:
            raise ValueError("production settings refused: " + "; ".join(problems))
        return self

    def with_embedded_secrets(self) -> Settings:
        """Fill missing secrets from files under data_dir, generating them on first start."""
        if self.mode == "production":
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        updates: dict[str, object] = {}
        if self.secret_key is None:
            updates["secret_key"] = SecretStr(_read_or_create(self.data_dir / "secret.key", lambda: secrets.token_urlsafe(48)))
        if not self.encryption_keys:
            stored = _read_or_create(self.data_dir / "encryption.keys", lambda: Fernet.generate_key().decode())
            updates["encryption_keys"] = [SecretStr(k) for k in _split_csv(stored)]  # type: ignore[union-attr]
        return self.model_copy(update=updates) if updates else self


def _read_or_create(path: Path, make: callable) -> str:  # type: ignore[valid-type]
    if path.exists():
        return path.read_text().strip()
    value = make()
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings().with_embedded_secrets()
