"""A worker process for the multi-process tests: it serves turns sent over a pipe with its
own ConversationRouter, as one worker of `uvicorn --workers N` would (started with spawn)."""

from __future__ import annotations

import os
from typing import Any

from prompt_router import RouterSettings
from prompt_router.integration import ConversationRouter, Switches

DATE = {"current_date": "2026-11-22"}


def serve(conn: Any, settings: dict[str, Any]) -> None:
    conversation = ConversationRouter.from_settings(RouterSettings(_env_file=None, **{"delivery_policy": "sticky", **settings}))
    conn.send(os.getpid())
    while True:
        message = conn.recv()
        if message is None:
            break
        kind, payload = message
        if kind == "turn":
            thread_id, messages = payload
            prepared = conversation.prepare(thread_id, messages, context=DATE)
            conn.send((prepared.arm, prepared.decision.modules, prepared.tokens, prepared.result.mode))
        elif kind == "switches":
            conversation.set_switches(Switches(**payload))
            conn.send("ok")
    conversation.close(1)
