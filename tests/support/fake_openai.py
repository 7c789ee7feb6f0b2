"""A real HTTP server that speaks the OpenAI chat API, with injectable faults (tests only).

Each request first takes the next entry of ``faults`` (if any), then answers from
``responder(messages, response_model)``. The response model is found from the
``title`` of the JSON schema the client sent, so the scripted crew responders in
``tests.support`` drive whole crews through the real ``openai`` client.

Faults: ``("status", 500)`` / ``("status", 429)`` answer with that code (429 with
``Retry-After: 0``); ``("sleep", seconds)`` delays the normal answer;
``("text", "...")`` answers with that content instead of the responder's;
``("drop",)`` closes the connection without answering.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import BaseModel

# CREWS_PRICING_FILE for runs against the fake: its model "fake" has no list price, and the USD
# budgets of include/limits.yaml refuse a model without one. This file prices it at 0.
FAKE_MODEL_PRICING = Path(__file__).with_name("fake_model_pricing.yaml")
_SCHEMA_MODULES = ("crews.fact_check.schemas", "crews.data_qa.schemas", "crews.contract_qa.schemas",
                   "crews.evaluation.judge")


def model_for_schema(schema: dict[str, Any] | None) -> type[BaseModel] | None:
    """The project's Pydantic model whose class name is the schema's title."""
    if not schema:
        return None
    for name in _SCHEMA_MODULES:
        candidate = getattr(importlib.import_module(name), str(schema.get("title")), None)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    raise AssertionError(f"no model for schema title {schema.get('title')!r}")


def _schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format") or {}
    return fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema")


class FakeOpenAI:
    """``with FakeOpenAI(responder) as server: ... server.base_url ... server.requests``."""

    def __init__(self, responder: Callable[[list[dict[str, Any]], Any], Any] | None = None,
                 faults: list[tuple] | None = None) -> None:
        self.responder = responder
        self.faults = list(faults or [])
        self.requests: list[dict[str, Any]] = []  # {"body", "headers", "answered"}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def answered(self) -> int:
        """Requests that got a normal 200 answer (the ones a paid API would bill)."""
        return sum(r["answered"] for r in self.requests)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self) -> tuple | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def _answer(self, body: dict[str, Any], fault: tuple | None) -> str:
        if fault and fault[0] == "text":
            return fault[1]
        if self.responder is None:
            raise AssertionError("FakeOpenAI has no responder")
        answer = self.responder(body["messages"], model_for_schema(_schema(body)))
        if isinstance(answer, BaseModel):
            return answer.model_dump_json()
        return json.dumps(answer) if isinstance(answer, (dict, list)) else str(answer)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, payload: dict[str, Any],
                      headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                entry = {"body": body, "headers": dict(self.headers), "answered": False}
                with server._lock:
                    server.requests.append(entry)
                fault = server._next_fault()
                if fault and fault[0] == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault and fault[0] == "status":
                    headers = {"Retry-After": "0"} if fault[1] == 429 else {}
                    self._send(fault[1], {"error": {"message": f"injected {fault[1]}", "type": "fault"}},
                               headers)
                    return
                if fault and fault[0] == "sleep":
                    time.sleep(fault[1])
                content = server._answer(body, fault)
                prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
                completion = len(content.split())
                entry["answered"] = True
                self._send(200, {
                    "id": f"fake-{len(server.requests)}", "object": "chat.completion", "created": 0,
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                              "total_tokens": prompt + completion},
                })

        return Handler
