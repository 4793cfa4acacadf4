from __future__ import annotations

import httpx


async def test_health_reports_each_component(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["mode"] == "embedded"
    assert body["broker"] == "disabled"
    assert body["browser"] in ("ok", "error")


async def test_unknown_endpoint_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "No such endpoint"}
