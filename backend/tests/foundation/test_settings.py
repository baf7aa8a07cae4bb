"""Settings: embedded mode needs nothing, production refuses missing or default secrets."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from postdesk.settings import Settings

PG = "postgresql+asyncpg://postgres@127.0.0.1/test"


def test_embedded_mode_generates_and_keeps_its_keys(tmp_path, monkeypatch):
    for name in ("POSTDESK_SECRET_KEY", "POSTDESK_ENCRYPTION_KEYS", "POSTDESK_REDIS_URL", "POSTDESK_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    first = Settings(data_dir=tmp_path).with_embedded_secrets()
    again = Settings(data_dir=tmp_path).with_embedded_secrets()
    assert first.mode == "embedded" and first.is_sqlite
    assert first.secret_key.get_secret_value() == again.secret_key.get_secret_value()
    assert len(first.secret_key.get_secret_value()) >= 32
    Fernet(first.encryption_keys[0].get_secret_value())
    assert (tmp_path / "encryption.keys").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("secret", ["changeme", "secret", "short-but-random-3f9a"])
def test_production_refuses_default_or_short_secret_keys(secret):
    with pytest.raises(ValidationError, match="POSTDESK_SECRET_KEY"):
        Settings(database_url=PG, redis_url="redis://127.0.0.1", secret_key=secret,
                 encryption_keys=Fernet.generate_key().decode())


def test_production_requires_encryption_keys_and_postgresql(tmp_path):
    with pytest.raises(ValidationError, match="POSTDESK_ENCRYPTION_KEYS"):
        Settings(database_url=PG, redis_url="redis://127.0.0.1", secret_key="k" * 40)
    with pytest.raises(ValidationError, match="not a Fernet key"):
        Settings(database_url=PG, redis_url="redis://127.0.0.1", secret_key="k" * 40, encryption_keys="abc")
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1", secret_key="k" * 40,
                 encryption_keys=Fernet.generate_key().decode())


def test_production_mode_is_chosen_by_settings_alone():
    settings = Settings(database_url=PG, redis_url="redis://127.0.0.1:6379", secret_key="k" * 40,
                        encryption_keys=f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}")
    assert settings.mode == "production"
    assert len(settings.encryption_keys) == 2
