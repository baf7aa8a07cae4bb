"""API conventions: uniform errors naming fields, 4xx for bad input, health, metrics, OpenAPI drift."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from postdesk.app import create_app
from postdesk.settings import REPO_ROOT
from tests.conftest import PASSWORD


async def test_validation_errors_name_the_field(client, company):
    response = await client.post("/api/users", headers=company.admin.headers,
                                 json={"email": "not-an-address", "name": "", "role": "boss", "password": "short"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {f["field"] for f in error["fields"]} == {"email", "name", "role", "password"}


@pytest.mark.parametrize(
    "content, content_type",
    [(b"{not json", "application/json"), (b"\xff\xfe\x00", "application/json"), (b"email=a", "text/plain"),
     (b"[]", "application/json"), (b"null", "application/json")],
)
async def test_malformed_bodies_are_4xx_not_500(client, company, content, content_type):
    response = await client.post("/api/teams", headers={**company.admin.headers, "Content-Type": content_type},
                                 content=content)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


async def test_bad_path_and_query_values_are_422(client, company):
    assert (await client.get("/api/users/not-a-uuid", headers=company.admin.headers)).status_code == 422
    response = await client.get("/api/users", headers=company.admin.headers, params={"limit": 100000})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "limit"


async def test_oversized_body_is_413(client, company, settings):
    body = b'{"name": "' + b"x" * (settings.max_request_bytes + 10) + b'"}'
    response = await client.post("/api/teams", headers={**company.admin.headers, "Content-Type": "application/json"},
                                 content=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_duplicate_names_are_409_naming_the_field(client, company):
    first = await client.post("/api/teams", headers=company.admin.headers, json={"name": "Billing"})
    second = await client.post("/api/teams", headers=company.admin.headers, json={"name": "billing"})
    assert first.status_code == 201 and second.status_code == 409
    assert second.json()["error"]["fields"] == [{"field": "name", "message": "A team with this name already exists."}]


async def test_unknown_api_path_is_a_json_404(client):
    response = await client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_health_readiness_and_metrics(client, test_mode):
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    expected = {"database": "ok", "redis": "ok"} if test_mode == "production" else {"database": "ok"}
    assert ready.json()["checks"] == expected
    metrics = await client.get("/metrics")
    assert "postdesk_http_requests_total" in metrics.text


async def test_no_secret_ever_appears_in_a_response(client, company, make_user, settings):
    agent = await make_user(company, "agent")
    key = await client.post("/api/api-keys", headers=company.admin.headers, json={"name": "Integration"})
    bodies = [
        (await client.get("/api/users", headers=company.admin.headers)).text,
        (await client.get(f"/api/users/{agent.id}", headers=company.admin.headers)).text,
        (await client.get("/api/auth/me", headers=agent.headers)).text,
        (await client.get("/api/api-keys", headers=company.admin.headers)).text,
        (await client.get("/api/system/status", headers=company.admin.headers)).text,
        (await client.patch(f"/api/users/{agent.id}", headers=company.admin.headers,
                            json={"password": "another long password"})).text,
    ]
    forbidden = [PASSWORD, "another long password", "$argon2", "password_hash", "key_digest",
                 settings.secret_key.get_secret_value(), key.json()["key"],
                 *(k.get_secret_value() for k in settings.encryption_keys)]
    for body in bodies:
        for secret in forbidden:
            assert secret not in body


def test_operation_ids_follow_tag_name():
    spec = create_app().openapi()
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            assert re.fullmatch(r"[a-z_]+-[a-z_]+", operation["operationId"]), operation["operationId"]


def test_committed_openapi_matches_the_app():
    committed = json.loads((REPO_ROOT / "openapi" / "openapi.json").read_text())
    assert committed == create_app().openapi(), "openapi/openapi.json is stale: run `make openapi`"


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose", "config", "-q"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], check=False, capture_output=True).returncode == 0:
        return ["docker", "compose", "config", "-q"]
    return None


@pytest.mark.skipif(_compose_command() is None, reason="no compose client on this machine")
def test_docker_compose_file_is_valid():
    command = _compose_command()
    assert command is not None
    result = subprocess.run(command, check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_migrations_have_a_single_head():
    from alembic.script import ScriptDirectory

    from postdesk.migrate import alembic_config
    from postdesk.settings import Settings

    heads = ScriptDirectory.from_config(alembic_config(Settings())).get_heads()
    assert len(heads) == 1, f"parallel migration branches need a merge revision: {heads}"
