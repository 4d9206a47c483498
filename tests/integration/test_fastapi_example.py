"""The FastAPI example backend: lifespan, a conversation turn through the real anthropic SDK
(to a loopback provider), the admin toggle; and the example run by hand's way, with several
uvicorn workers sharing one Redis."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from werkzeug import Response

from prompt_router.integration import arm_for

from .redis_server import free_port
from .sdk_schema import anthropic_problems

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fastapi_app.py"
FIRST = {"role": "user", "content": "plot sales.csv by month"}


def load_example():
    spec = importlib.util.spec_from_file_location("fastapi_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_serves_turns_and_toggles_routing(httpserver, redis_server, prefix, monkeypatch):
    bodies: list[dict] = []

    def provider(request):
        bodies.append(json.loads(request.get_data()))
        reply = {"id": "m", "type": "message", "role": "assistant", "model": "claude-sonnet-5",
                 "content": [{"type": "text", "text": "Here is your chart."}], "stop_reason": "end_turn",
                 "stop_sequence": None, "usage": {"input_tokens": 100, "output_tokens": 5, "cache_read_input_tokens": 4000}}
        return Response(json.dumps(reply), status=200, content_type="application/json")

    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(provider)
    for name, value in {"PROMPT_ROUTER_STATE_URL": redis_server.url, "PROMPT_ROUTER_STATE_KEY_PREFIX": prefix,
                        "PROMPT_ROUTER_DELIVERY_POLICY": "sticky",
                        "PROMPT_ROUTER_SWITCH_REFRESH_SECONDS": "0", "ANTHROPIC_API_KEY": "test-key",
                        "ANTHROPIC_BASE_URL": httpserver.url_for(""), "ADMIN_TOKEN": "s3cret"}.items():
        monkeypatch.setenv(name, value)
    example = load_example()
    with TestClient(example.app) as client:  # runs the lifespan: the router is made here and closed at exit
        conversation = example.app.state.conversation
        assert type(conversation.store).__name__ == "RedisThreadStore"
        first = client.post("/v1/threads/t1/turns", json={"messages": [FIRST]}).json()
        assert first["arm"] == "dynamic" and "data_processing" in first["modules"]
        assert first["reply"] == [{"type": "text", "text": "Here is your chart."}]
        follow_up = [FIRST, {"role": "assistant", "content": "Here is your chart."}, {"role": "user", "content": "thanks!"}]
        second = client.post("/v1/threads/t1/turns", json={"messages": follow_up}).json()
        assert second["modules"] == first["modules"]  # sticky, from Redis
        assert all(anthropic_problems(body) == [] for body in bodies)
        assert bodies[-1]["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
        # the admin toggle
        assert client.put("/admin/switches", json={"dynamic": False}).status_code == 401
        headers = {"authorization": "Bearer s3cret"}
        assert client.put("/admin/switches", json={"dynamic": False}, headers=headers).json()["dynamic"] is False
        killed = client.post("/v1/threads/t1/turns", json={"messages": follow_up}).json()
        assert killed["mode"] == "static" and killed["system_tokens"] > killed["full_tokens"] > first["system_tokens"]
        state = client.put("/admin/switches", json={"dynamic": None, "rollout_percent": 0}, headers=headers).json()
        assert state["dynamic"] is None and state["rollout_percent"] == 0
        assert client.post("/v1/threads/t1/turns", json={"messages": follow_up}).json()["mode"] == "dynamic"  # kept its arm
        assert client.post("/v1/threads/new/turns", json={"messages": [FIRST]}).json()["arm"] == "static"
        assert client.post("/admin/reload", headers=headers).json()["library_version"] == conversation.router.library.version
        assert client.post("/v1/threads/x/turns", json={"messages": []}).status_code == 422
    assert conversation.store._client is None  # closed by the lifespan


@pytest.mark.slow
def test_the_example_runs_with_several_uvicorn_workers_against_redis(redis_server, prefix, tmp_path):
    port = free_port()
    env = {**os.environ, "PROMPT_ROUTER_STATE_URL": redis_server.url, "PROMPT_ROUTER_STATE_KEY_PREFIX": prefix,
           "ADMIN_TOKEN": "s3cret", "PYTHONPATH": str(ROOT)}
    env.pop("ANTHROPIC_API_KEY", None)
    log = (tmp_path / "uvicorn.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "examples.fastapi_app:app", "--workers", "2",
                               "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        # no keep-alive: each request is a new connection, accepted by whichever worker is free
        with httpx.Client(base_url=base, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "uvicorn.log").read_text()
                    time.sleep(0.1)

            def turn(thread_id: str, messages: list) -> dict:
                return client.post(f"/v1/threads/{thread_id}/turns", json={"messages": messages}).json()

            workers: set[int] = set()
            answers = []
            with ThreadPoolExecutor(6) as pool:  # concurrent requests reach both workers
                while len(workers) < 2 and time.monotonic() < deadline:
                    batch = list(pool.map(lambda i: turn("shared", [FIRST]), range(12)))
                    answers += batch
                    workers |= {a["worker"] for a in batch}
            assert len(workers) == 2
            assert len({tuple(a["modules"]) for a in answers}) == 1 and answers[0]["arm"] == arm_for("shared", 100, "prompt-router")
            put = client.put("/admin/switches", json={"dynamic": False}, headers={"authorization": "Bearer s3cret"})
            assert put.status_code == 200
            with ThreadPoolExecutor(6) as pool:  # the next request of every worker is static
                after = list(pool.map(lambda i: turn("shared", [FIRST]), range(12)))
            assert {a["mode"] for a in after} == {"static"}
    finally:
        server.terminate()
        server.wait(20)
        log.close()
