"""Every query is scoped to the caller's company, and roles guard what callers may do."""

from __future__ import annotations


async def test_another_companys_records_answer_404(client, make_company, make_user):
    ours, theirs = await make_company(), await make_company()
    their_agent = await make_user(theirs, "agent")
    team = await client.post("/api/teams", headers=theirs.admin.headers, json={"name": "Night shift"})
    check = await client.post("/api/system/job-checks", headers=theirs.admin.headers)
    assert team.status_code == 201 and check.status_code == 202

    for path in (f"/api/users/{their_agent.id}", f"/api/teams/{team.json()['id']}",
                 f"/api/system/job-checks/{check.json()['id']}"):
        response = await client.get(path, headers=ours.admin.headers)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    edit = await client.patch(f"/api/users/{their_agent.id}", headers=ours.admin.headers, json={"name": "Hijacked"})
    assert edit.status_code == 404
    delete = await client.delete(f"/api/teams/{team.json()['id']}", headers=ours.admin.headers)
    assert delete.status_code == 404
    # Their user cannot be slipped into our team either.
    ours_team = await client.post("/api/teams", headers=ours.admin.headers,
                                  json={"name": "Day shift", "member_ids": [their_agent.id]})
    assert ours_team.status_code == 422
    assert ours_team.json()["error"]["fields"][0]["field"] == "member_ids"
    # And lists never show them.
    users = await client.get("/api/users", headers=ours.admin.headers, params={"limit": 200})
    assert their_agent.id not in {u["id"] for u in users.json()["items"]}


async def test_agent_gets_403_on_admin_endpoints(client, company, make_user):
    agent = await make_user(company, "agent")
    attempts = [
        ("post", "/api/users", {"email": "x@example.test", "name": "X", "role": "admin", "password": "long enough pw"}),
        ("get", "/api/users", None),
        ("post", "/api/teams", {"name": "Mine"}),
        ("post", "/api/api-keys", {"name": "k"}),
        ("get", "/api/system/status", None),
        ("patch", "/api/companies/current", {"name": "Renamed"}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, headers=agent.headers, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert (await client.get("/api/auth/me", headers=agent.headers)).status_code == 200


async def test_supervisor_reads_people_but_cannot_change_them(client, company, make_user):
    supervisor = await make_user(company, "supervisor")
    assert (await client.get("/api/users", headers=supervisor.headers)).status_code == 200
    response = await client.patch(f"/api/users/{company.admin.id}", headers=supervisor.headers, json={"role": "agent"})
    assert response.status_code == 403


async def test_only_platform_admins_create_companies(client, company):
    response = await client.post(
        "/api/companies",
        headers=company.admin.headers,
        json={"name": "Other", "admin_email": "o@example.test", "admin_name": "O", "admin_password": "long enough pw"},
    )
    assert response.status_code == 403


async def test_last_admin_cannot_be_demoted(client, company):
    response = await client.patch(f"/api/users/{company.admin.id}", headers=company.admin.headers,
                                  json={"role": "agent"})
    assert response.status_code == 409
    assert response.json()["error"]["fields"][0]["field"] == "role"


async def test_api_key_acts_with_its_role_until_revoked(client, company):
    created = await client.post("/api/api-keys", headers=company.admin.headers,
                                json={"name": "CRM sync", "role": "supervisor"})
    assert created.status_code == 201
    key = created.json()["key"]
    as_key = {"X-API-Key": key}
    assert (await client.get("/api/users", headers=as_key)).status_code == 200
    assert (await client.get("/api/users", headers={"Authorization": f"Bearer {key}"})).status_code == 200
    assert (await client.post("/api/teams", headers=as_key, json={"name": "nope"})).status_code == 403
    listed = await client.get("/api/api-keys", headers=company.admin.headers)
    assert key not in listed.text and "key_digest" not in listed.text
    revoke = await client.delete(f"/api/api-keys/{created.json()['id']}", headers=company.admin.headers)
    assert revoke.status_code == 200
    assert (await client.get("/api/users", headers=as_key)).status_code == 401
