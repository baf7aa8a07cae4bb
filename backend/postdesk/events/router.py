"""The browser's live event stream: one WebSocket per tab, scoped to the caller's company."""

from __future__ import annotations

import asyncio
from contextlib import suppress

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from postdesk.accounts import service as accounts_service
from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.errors import DomainError
from postdesk.uow import Event, unit_of_work

router = APIRouter(tags=["events"])

PING_INTERVAL_SECONDS = 25


def visible_to(event: Event, caller: Caller) -> bool:
    if event.user_ids is not None and str(caller.user_id) not in event.user_ids:
        return False
    return event.min_role is None or caller.role.at_least(Role(event.min_role))


@router.websocket("/api/events/ws")
async def event_stream(websocket: WebSocket, token: str = "") -> None:
    runtime = websocket.app.state.runtime
    try:
        async with unit_of_work(runtime) as session:
            caller = await accounts_service.caller_from_token(session, token=token, settings=runtime.settings)
    except DomainError:
        # Accept first: browsers cannot read a refused handshake's status, but they can read a close code.
        await websocket.accept()
        await websocket.close(code=4401, reason="unauthorized")
        return
    await websocket.accept()
    async with runtime.events.subscribe(str(caller.company_id)) as queue:
        client_gone = asyncio.create_task(_drain_client(websocket))
        try:
            while True:
                next_event = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({next_event, client_gone}, timeout=PING_INTERVAL_SECONDS,
                                             return_when=asyncio.FIRST_COMPLETED)
                if client_gone in done:
                    next_event.cancel()
                    break
                if next_event not in done:
                    next_event.cancel()
                    await websocket.send_json({"type": "ping", "data": {}})
                    continue
                event = next_event.result()
                if visible_to(event, caller):
                    await websocket.send_json({"type": event.type, "data": event.data})
        except WebSocketDisconnect:
            pass
        finally:
            client_gone.cancel()
            with suppress(asyncio.CancelledError, WebSocketDisconnect):
                await client_gone


async def _drain_client(websocket: WebSocket) -> None:
    # The stream is one-way; reading notices the client going away.
    while True:
        await websocket.receive_text()
