"""Sign-in, access tokens and login throttling."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from postdesk.settings import Settings
from tests.conftest import PASSWORD


async def test_login_returns_token_that_identifies_the_user(client, company):
    response = await client.post("/api/auth/login", json={"email": company.admin.email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == company.admin.email
    assert me.json()["role"] == "admin"
    assert me.json()["company_name"] == company.name


async def test_wrong_password_and_unknown_email_answer_the_same(client, company):
    wrong = await client.post("/api/auth/login", json={"email": company.admin.email, "password": "not it at all"})
    unknown = await client.post("/api/auth/login", json={"email": "nobody@example.test", "password": "whatever1234"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"] == "Incorrect email or password."


async def test_login_is_throttled_after_repeated_failures_even_with_the_right_password(client, company, settings):
    for _ in range(settings.login_max_attempts):
        response = await client.post("/api/auth/login", json={"email": company.admin.email, "password": "bad guess 1"})
        assert response.status_code == 401
    blocked = await client.post("/api/auth/login", json={"email": company.admin.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"]["code"] == "too_many_requests"
    assert "try again in" in blocked.json()["error"]["message"]


async def test_forwarded_for_header_does_not_reset_the_address_budget(client, make_company, settings):
    # Failures spread over several accounts from one peer: the per-address budget still applies,
    # whatever X-Forwarded-For claims (no trusted proxies are configured).
    companies = [await make_company() for _ in range(settings.login_max_attempts + 1)]
    for index, other in enumerate(companies[:-1]):
        response = await client.post(
            "/api/auth/login",
            json={"email": other.admin.email, "password": "bad guess 2"},
            headers={"X-Forwarded-For": f"203.0.113.{index + 1}"},
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/auth/login",
        json={"email": companies[-1].admin.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.77"},
    )
    assert blocked.status_code == 429


def _token(settings: Settings, *, algorithm: str = "HS256", secret: str | None = None, **claims: object) -> str:
    now = datetime.now(UTC)
    payload = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **claims,
    }
    key = secret or settings.secret_key.get_secret_value()
    return jwt.encode(payload, key, algorithm=algorithm)


async def _me_status(client, token: str) -> int:
    return (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code


async def test_tokens_with_wrong_algorithm_expiry_issuer_or_audience_are_rejected(client, company, settings):
    identity = {"sub": company.admin.id, "cid": company.id}
    assert await _me_status(client, _token(settings, **identity)) == 200  # the control: a good token works
    assert await _me_status(client, _token(settings, algorithm="HS512", **identity)) == 401
    unsigned = jwt.encode({"iss": settings.jwt_issuer, "aud": settings.jwt_audience, **identity,
                           "exp": datetime.now(UTC) + timedelta(minutes=5)}, key="", algorithm="none")
    assert await _me_status(client, unsigned) == 401
    expired = _token(settings, exp=datetime.now(UTC) - timedelta(minutes=1), **identity)
    assert await _me_status(client, expired) == 401
    assert await _me_status(client, _token(settings, iss="someone-else", **identity)) == 401
    assert await _me_status(client, _token(settings, aud="another-api", **identity)) == 401
    assert await _me_status(client, _token(settings, secret="x" * 48, **identity)) == 401
    # A token naming a user of another company than its own is not accepted either.
    assert await _me_status(client, _token(settings, sub=company.admin.id, cid=str(uuid.uuid4()))) == 401


async def test_deactivated_user_token_stops_working(client, company, make_user):
    agent = await make_user(company, "agent")
    assert (await client.get("/api/auth/me", headers=agent.headers)).status_code == 200
    response = await client.patch(f"/api/users/{agent.id}", headers=company.admin.headers, json={"is_active": False})
    assert response.status_code == 200
    assert (await client.get("/api/auth/me", headers=agent.headers)).status_code == 401
