"""Encryption of secrets at rest (mail server passwords, API tokens) with rotating Fernet keys.

The first key encrypts; every key decrypts, so adding a new key in front and running
`postdesk rotate-keys` moves all stored secrets to it without downtime.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretDecryptionError(Exception):
    pass


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret cannot be decrypted with the configured keys") from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the newest key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret cannot be decrypted with the configured keys") from exc
