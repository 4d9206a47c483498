"""A small but complete chat backend using prompt-router, runnable offline:

    python examples/chat_backend.py

It starts two local stand-ins on 127.0.0.1 (a fake Anthropic Messages API and a fake
Sentry-compatible tracker), then plays two conversations through a thread manager:
thread -> routed system prompt -> provider request (the real `anthropic` SDK) -> telemetry.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import anthropic

from prompt_router import RouterSettings
from prompt_router.integration import ConversationRouter, HostSection, anthropic_request, load_module_tool

MODEL = "claude-sonnet-5"


# --- local stand-ins ---------------------------------------------------------------------------


class FakeAnthropic(BaseHTTPRequestHandler):
    """Answers /v1/messages like the real API would, describing what it was sent."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        system_text = "".join(block["text"] for block in body["system"])
        headings = [line[2:] for line in system_text.splitlines() if line.startswith("# ")]
        blocks = [*body["system"], *(b for m in body["messages"] if isinstance(m["content"], list) for b in m["content"])]
        breakpoints = sum("cache_control" in block for block in blocks)
        reply = {
            "id": "msg_local", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "text", "text": f"(fake model) I was given: {', '.join(headings)}; "
                                                 f"{breakpoints} cache breakpoints."}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": len(system_text) // 4, "output_tokens": 20},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


class FakeTracker(BaseHTTPRequestHandler):
    """Accepts Sentry envelopes and counts events per fingerprint (one issue per kind)."""

    issues: ClassVar[Counter[str]] = Counter()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "br":
            import brotli

            raw = brotli.decompress(raw)
        lines = raw.split(b"\n")
        for header_line, payload in zip(lines[1::2], lines[2::2]):
            if json.loads(header_line).get("type") in ("event", "transaction") and payload.strip():
                event = json.loads(payload)
                FakeTracker.issues[" / ".join(event.get("fingerprint") or [event.get("transaction", "?")])] += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- the chat backend --------------------------------------------------------------------------


class ThreadManager:
    """What a chat backend keeps per conversation, and the one call it makes per turn."""

    AGENT = HostSection("You are the assistant of ACME Analytics. Prefer metric units.", stable=True, name="agent")

    def __init__(self, conversation: ConversationRouter, client: anthropic.Anthropic) -> None:
        self.conversation = conversation
        self.client = client
        self.messages: dict[str, list[dict]] = {}

    def send(self, thread_id: str, text: str) -> tuple[str, object]:
        messages = self.messages.setdefault(thread_id, [])
        messages.append({"role": "user", "content": text})
        knowledge = HostSection(f"Knowledge base, retrieved for this turn: {len(text)}-character query.", position="end")
        prepared = self.conversation.prepare(thread_id, messages, sections=[self.AGENT, knowledge], model=MODEL,
                                             context={"current_date": dt.date.today().isoformat()})
        # the load tool lets the model fetch a module the router did not send (answer its calls with
        # `conversation.load_module_result(thread_id, block)`; this fake model never calls it)
        reply = self.client.messages.create(model=MODEL, max_tokens=256, tools=[load_module_tool(prepared)],
                                            **anthropic_request(prepared, messages, model=MODEL))
        self.conversation.record_provider_request(MODEL, usage=reply.usage, prepared=prepared)
        answer = reply.content[0].text
        messages.append({"role": "assistant", "content": answer})
        return answer, prepared


SCRIPT = [
    ("thread-A", "I uploaded q3_sales.xlsx - can you total revenue per region?"),
    ("thread-B", "hi! quick question first"),
    ("thread-A", "great, now chart it as bars"),
    ("thread-B", "can you put my portfolio site online so my client can see it?"),
    ("thread-A", "thanks, do the same for Q2 please"),
]


def main() -> None:
    provider, tracker = serve(FakeAnthropic), serve(FakeTracker)
    # The default policy, auto, needs a delivery plan (`prompt-router plan`) to route at all; this demo
    # pins the catalogue policy to show module texts delivered inside the conversation.
    settings = RouterSettings(_env_file=None, sentry_dsn=f"http://public@127.0.0.1:{tracker.server_address[1]}/1",
                              telemetry_traces_sample_rate=1.0, delivery_policy="catalogue")
    conversation = ConversationRouter.from_settings(settings)
    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{provider.server_address[1]}", api_key="local", max_retries=0)
    backend = ThreadManager(conversation, client)
    full = conversation.router.full_prompt().tokens
    for thread_id, text in SCRIPT:
        answer, prepared = backend.send(thread_id, text)
        tools = [m for m in prepared.decision.tool_modules if m != "toolkit"]
        why = {m: str(prepared.decision.reasons[m]) for m in tools}
        print(f"\n[{thread_id}] user: {text}")
        print(f"  arm {prepared.arm}, policy {prepared.policy}: {prepared.tokens:,} system tokens (full prompt: {full:,}); "
              f"tool modules: {why or 'none'}")
        attached = [f"{a.module}@{a.turn} ({a.tokens:,} tokens)" for a in prepared.attachments]
        print(f"  attached in the conversation: {', '.join(attached) or 'nothing'}")
        print(f"  model: {answer}")
    conversation.close(5)  # flush telemetry (bounded)
    print("\nTracker received (one issue per kind of event):")
    for issue, count in sorted(FakeTracker.issues.items()):
        print(f"  {count:3d} x {issue}")
    provider.shutdown()
    tracker.shutdown()


if __name__ == "__main__":
    main()
