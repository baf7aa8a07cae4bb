"""Re-encrypting every stored secret under the newest key (`postdesk rotate-keys`).

Domains that store secrets register a rotator: an async function that re-encrypts its own
columns through the SecretBox and returns how many values it rewrote.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.security.secrets import SecretBox
from postdesk.settings import Settings

SecretRotator = Callable[[AsyncSession, SecretBox], Awaitable[int]]
ROTATORS: list[SecretRotator] = []


def secret_rotator(function: SecretRotator) -> SecretRotator:
    ROTATORS.append(function)
    return function


async def rotate_all_secrets(settings: Settings) -> int:
    from postdesk.models import import_all_modules
    from postdesk.runtime import Runtime
    from postdesk.uow import unit_of_work

    import_all_modules("service")  # services register their rotators on import
    runtime = await Runtime.start(settings, role="cli")
    try:
        async with unit_of_work(runtime) as session:
            return sum([await rotate(session, runtime.secret_box) for rotate in ROTATORS])
    finally:
        await runtime.stop()
