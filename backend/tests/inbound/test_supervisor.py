"""The fetcher supervisor's reconcile loop, without mail servers."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from postdesk.inbound.supervisor import FetcherSupervisor


class _Preparer:
    def warm_up(self) -> None: ...


async def test_a_change_announced_during_a_reconcile_is_reconciled_again_at_once() -> None:
    runtime = SimpleNamespace(settings=SimpleNamespace(inbound_reconcile_seconds=300), mail_preparer=_Preparer(),
                              redis=None)
    supervisor = FetcherSupervisor(runtime)  # type: ignore[arg-type]
    reconciled = asyncio.Event()
    calls = 0

    async def reconcile() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            supervisor.reconcile_soon()  # e.g. a campaign created while the first pass reads the configuration
        else:
            reconciled.set()

    supervisor.reconcile = reconcile  # type: ignore[method-assign]
    await supervisor.start()
    try:
        await asyncio.wait_for(reconciled.wait(), 5)  # not after the 300 s interval
    finally:
        await supervisor.stop()
    assert calls == 2
