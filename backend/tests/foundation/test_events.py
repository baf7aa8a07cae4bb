"""The live event stream: WebSocket clients get their own company's events, from any process."""

from __future__ import annotations

import asyncio
import json

import websockets

from tests.conftest import PASSWORD


async def _next_event(ws, event_type: str, timeout: float = 15) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == event_type:
                return message


async def test_job_events_reach_the_browser_of_the_same_company_only(client, live_server, make_company):
    ours, theirs = await make_company(), await make_company()
    our_token = ours.admin.headers["Authorization"].removeprefix("Bearer ")
    their_token = theirs.admin.headers["Authorization"].removeprefix("Bearer ")
    async with (
        websockets.connect(f"ws://{live_server}/api/events/ws?token={our_token}") as our_ws,
        websockets.connect(f"ws://{live_server}/api/events/ws?token={their_token}") as their_ws,
    ):
        # In production mode the job runs in the arq worker process, so this event crosses Redis pub/sub.
        check = await client.post("/api/system/job-checks", headers=ours.admin.headers)
        event = await _next_event(our_ws, "system.job_check.completed")
        assert event["data"]["id"] == check.json()["id"]
        # The other company's stream stays silent about it.
        try:
            async with asyncio.timeout(1):
                leaked = json.loads(await their_ws.recv())
        except TimeoutError:
            leaked = None
        assert leaked is None or leaked["type"] == "ping"


async def test_events_for_admins_are_not_sent_to_agents(client, live_server, company, make_user):
    agent = await make_user(company, "agent")
    agent_token = agent.headers["Authorization"].removeprefix("Bearer ")
    admin_token = company.admin.headers["Authorization"].removeprefix("Bearer ")
    async with (
        websockets.connect(f"ws://{live_server}/api/events/ws?token={admin_token}") as admin_ws,
        websockets.connect(f"ws://{live_server}/api/events/ws?token={agent_token}") as agent_ws,
    ):
        await client.post("/api/users", headers=company.admin.headers,
                          json={"email": "new-agent-ws@example.test", "name": "New", "role": "agent",
                                "password": PASSWORD})
        await _next_event(admin_ws, "user.created")
        try:
            async with asyncio.timeout(1):
                received = json.loads(await agent_ws.recv())
        except TimeoutError:
            received = None
        assert received is None or received["type"] != "user.created"


async def test_stream_refuses_a_bad_token(live_server):
    async with websockets.connect(f"ws://{live_server}/api/events/ws?token=not-a-token") as ws:
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd.code == 4401
        else:
            raise AssertionError("stream stayed open")
