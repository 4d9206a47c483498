"""A fake OpenAI-compatible provider on 127.0.0.1, in a thread of the test process: it keeps
every request body it receives and answers with a usage block that has cache figures."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CACHED, CACHE_WRITTEN, COMPLETION = 64, 12, 7


def usage_for(n: int) -> dict[str, Any]:
    return {"prompt_tokens": 100 + n, "completion_tokens": COMPLETION, "total_tokens": 100 + n + COMPLETION,
            "prompt_tokens_details": {"cached_tokens": CACHED},
            "cache_read_input_tokens": CACHED, "cache_creation_input_tokens": CACHE_WRITTEN}


class FakeProvider:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with provider._lock:
                    provider.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": body})
                    n = len(provider.received)
                if body.get("stream"):
                    self._stream(body, n)
                else:
                    self._json({"id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
                                "model": body.get("model", "fake"),
                                "choices": [{"index": 0, "message": {"role": "assistant", "content": f"fake reply {n}"},
                                             "finish_reason": "stop"}],
                                "usage": usage_for(n)})

            def _json(self, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], n: int) -> None:
                base = {"id": f"chatcmpl-{n}", "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": body.get("model", "fake")}
                chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "fake "}}]},
                          {**base, "choices": [{"index": 0, "delta": {"content": f"reply {n}"}, "finish_reason": "stop"}]}]
                if (body.get("stream_options") or {}).get("include_usage"):
                    chunks.append({**base, "choices": [], "usage": usage_for(n)})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in chunks:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def since(self, count: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received[count:])

    def __len__(self) -> int:
        with self._lock:
            return len(self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
