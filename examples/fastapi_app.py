"""A chat backend on FastAPI: one conversation turn per request, several workers sharing
thread state and switches in Redis, an admin toggle.

Run it by hand (from the repository root; any number of workers, one Redis):

    pip install -e ".[dev]"            # or: pip install "prompt-router[redis]" fastapi uvicorn anthropic
    redis-server --port 6379 --save "" &
    PROMPT_ROUTER_STATE_URL=redis://127.0.0.1:6379/0 ADMIN_TOKEN=change-me \\
        uvicorn examples.fastapi_app:app --workers 4 --port 8000

    curl -s localhost:8000/v1/threads/t1/turns -H 'content-type: application/json' \\
         -d '{"messages": [{"role": "user", "content": "plot sales.csv by month"}]}'
    curl -s -X PUT localhost:8000/admin/switches -H 'authorization: Bearer change-me' \\
         -H 'content-type: application/json' -d '{"dynamic": false}'          # kill switch, every worker
    curl -s -X PUT localhost:8000/admin/switches -H 'authorization: Bearer change-me' \\
         -H 'content-type: application/json' -d '{"rollout_percent": 20}'     # new threads: 20% routed

The host keeps the conversation (its database); each request carries the thread's messages,
Anthropic-style, tool loops included. With ANTHROPIC_API_KEY set the turn calls the model
(ANTHROPIC_BASE_URL points the SDK at any compatible endpoint); without it the response
shows the request that would have been sent. Every worker makes its own router in the
lifespan, after the server started it, and closes it (telemetry flushed, connections
closed) on shutdown.
"""


import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anthropic
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel, Field

from prompt_router import SettingsError
from prompt_router.integration import ConversationRouter, HostSection, Switches, anthropic_request

AGENT = HostSection("You are the assistant of ACME Analytics. Prefer metric units.", stable=True, name="agent")


class Turn(BaseModel):
    messages: list[dict[str, Any]] = Field(min_length=1, description="the thread so far, Anthropic-style")
    model: str = "claude-sonnet-5"
    max_tokens: int = Field(1024, ge=1, le=64_000)


class SwitchUpdate(BaseModel):
    dynamic: bool | None = None
    rollout_percent: float | None = Field(None, ge=0, le=100)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    conversation = ConversationRouter.from_settings()  # PROMPT_ROUTER_* variables: PROMPT_ROUTER_STATE_URL=redis://...
    client = anthropic.AsyncAnthropic(max_retries=1) if os.environ.get("ANTHROPIC_API_KEY") else None
    app.state.conversation, app.state.client = conversation, client
    try:
        yield
    finally:
        if client is not None:
            await client.close()
        await conversation.aclose(timeout=5)


app = FastAPI(title="prompt-router example backend", lifespan=lifespan)


def conversation_of(request: Request) -> ConversationRouter:
    conversation: ConversationRouter = request.app.state.conversation
    return conversation


def admin(authorization: str = Header("")) -> None:
    token = os.environ.get("ADMIN_TOKEN", "")
    if not token:
        raise HTTPException(403, "admin endpoints are off: set ADMIN_TOKEN")
    if not secrets.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        raise HTTPException(401, "wrong admin token")


@app.post("/v1/threads/{thread_id}/turns")
async def turn(thread_id: str, body: Turn, request: Request) -> dict[str, Any]:
    conversation = conversation_of(request)
    # `model=` lets the `auto` delivery policy pick the cheapest policy for this model's caching rules
    prepared = await conversation.aprepare(thread_id, body.messages, sections=[AGENT], model=body.model)
    provider_request = anthropic_request(prepared, body.messages, model=body.model)  # attachments included
    answer: dict[str, Any] = {
        "worker": os.getpid(), "arm": prepared.arm, "mode": prepared.result.mode, "policy": prepared.policy,
        "modules": list(prepared.decision.modules), "system_tokens": prepared.tokens,
        "full_tokens": prepared.result.full_tokens, "degraded": "thread_state" in prepared.result.labels,
    }
    client: anthropic.AsyncAnthropic | None = request.app.state.client
    if client is None:
        return {**answer, "request": provider_request}
    reply = await client.messages.create(model=body.model, max_tokens=body.max_tokens, **provider_request)
    # the provider's usage feeds telemetry and auto's check of the plan against the real bill
    conversation.record_provider_request(body.model, usage=reply.usage, labels={"arm": prepared.arm}, prepared=prepared)
    return {**answer, "reply": [block.model_dump(exclude_unset=True) for block in reply.content],
            "stop_reason": reply.stop_reason}


@app.get("/admin/switches", dependencies=[Depends(admin)])
async def read_switches(request: Request) -> dict[str, Any]:
    conversation = conversation_of(request)
    switches = await conversation.aswitches()
    outage = conversation.outage
    return {"dynamic": switches.dynamic, "rollout_percent": switches.rollout_percent,
            "store_degraded": outage.degraded, "store_outages": outage.outages}


@app.put("/admin/switches", dependencies=[Depends(admin)])
async def write_switches(update: SwitchUpdate, request: Request) -> dict[str, Any]:
    """Fields given replace the fleet-wide values (null = back to each worker's settings)."""
    conversation = conversation_of(request)
    current = await conversation.aswitches()
    given = update.model_dump(exclude_unset=True)
    await conversation.aset_switches(Switches(given.get("dynamic", current.dynamic),
                                              given.get("rollout_percent", current.rollout_percent)))
    return await read_switches(request)


@app.post("/admin/reload", dependencies=[Depends(admin)])
async def reload_library(request: Request) -> dict[str, str]:
    """This worker only; with several workers set PROMPT_ROUTER_LIBRARY_WATCH_SECONDS instead."""
    conversation = conversation_of(request)
    try:
        conversation.router.reload_library()
    except SettingsError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"library_version": conversation.router.library.version}


@app.get("/healthz")
async def health(request: Request) -> dict[str, Any]:
    return {"worker": os.getpid(), "store_degraded": conversation_of(request).outage.degraded}
