"""HTTP layer: one loopback port for every service, plus unsigned admin endpoints.

* ``POST /`` — Tencent Cloud API 3.0 requests, handed to :meth:`App.handle_api` (the emulator, seen
  through the :class:`App` protocol so that this module never imports the core).
  Replies are HTTP 200 with ``Content-Type: application/json`` exactly: the SDK only looks for
  ``Response.Error`` when the header is exactly ``application/json`` or ``text/plain``
  (``abstract_client._check_error``; docs/cloud-facts.md#sdk-error-handling).
* ``POST /`` or ``/v2/index.php`` with a form body holding ``Action`` — the CMQ data plane (API 2.0;
  :mod:`emulator.cmq.dataplane`), told apart from API 3.0 by the emulator.
* ``GET /_emulator/state``, ``GET /_emulator/calls``, ``GET /_emulator/messages?queue=NAME``,
  ``GET /_emulator/queues`` (visible / in-flight / delayed counts per queue),
  ``GET /_emulator/bindings?target=ID_OR_IP``, ``GET /_emulator/tasks``, ``GET/POST /_emulator/knobs``
  (JSON object of knob values), ``POST /_emulator/lock`` (``{"loadBalancerId", "seconds"}``),
  ``POST /_emulator/scale-in`` (``{"groupId", "instanceIds", "publish"}``) —
  for other processes (demo, operators' scripts). Loopback clients only.
"""
from __future__ import annotations

import ipaddress
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from .faults import Knobs
from .reply import Reply

ADMIN_PREFIX = "/_emulator/"


class App(Protocol):
    """What the HTTP layer needs from the emulator: one request pipeline and the admin reads/writes."""

    @property
    def knobs(self) -> Knobs: ...

    def handle_api(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Reply: ...

    def state(self) -> dict[str, Any]: ...

    def calls_as_dicts(self) -> list[dict[str, Any]]: ...

    def tasks(self) -> list[dict[str, Any]]: ...

    def messages(self, queue: str) -> list[dict[str, Any]]: ...

    def queue_states(self) -> dict[str, dict[str, int]]: ...

    def scale_in(self, group_id: str, instance_ids: list[str], publish: bool = True) -> dict[str, Any]: ...

    def bindings(self, instance_or_ip: str) -> list[dict[str, Any]]: ...

    def set_knobs(self, **changes: Any) -> Knobs: ...

    def lock_load_balancer(self, lb_id: str, seconds: float) -> None: ...


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 reset connections under 40 concurrent invocations; the real API does not.
    request_queue_size = 128
    emulator: App


class Handler(BaseHTTPRequestHandler):
    server: EmulatorHTTPServer
    protocol_version = "HTTP/1.0"
    server_version = "TencentCloudEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        pass

    # ------------------------------------------------------------ dispatch
    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if parts.path.startswith(ADMIN_PREFIX):
            self._admin(method, parts.path[len(ADMIN_PREFIX):], parse_qs(parts.query), body)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.emulator.handle_api(method, parts.path, parts.query, headers, body)
        if reply.delay > 0:
            time.sleep(reply.delay)
        if reply.drop:
            # The change is applied; the reply is lost: close without writing a byte.
            self.close_connection = True
            return
        self._send(reply.status, reply.body, reply.headers.get("Content-Type", "application/json"))

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # ------------------------------------------------------------ admin
    def _admin(self, method: str, name: str, query: dict[str, list[str]], body: bytes) -> None:
        emu = self.server.emulator
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            self._reply_json(403, {"error": "admin endpoints are loopback-only"})
            return
        try:
            if method == "GET" and name == "state":
                self._reply_json(200, emu.state())
            elif method == "GET" and name == "calls":
                self._reply_json(200, emu.calls_as_dicts())
            elif method == "GET" and name == "tasks":
                self._reply_json(200, emu.tasks())
            elif method == "GET" and name == "messages":
                self._reply_json(200, emu.messages(_one(query, "queue")))
            elif method == "GET" and name == "queues":
                self._reply_json(200, emu.queue_states())
            elif method == "GET" and name == "bindings":
                self._reply_json(200, emu.bindings(_one(query, "target")))
            elif method == "GET" and name == "knobs":
                self._reply_json(200, emu.knobs.to_dict())
            elif method == "POST" and name == "knobs":
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("knobs body must be a JSON object")
                self._reply_json(200, emu.set_knobs(**changes).to_dict())
            elif method == "POST" and name == "scale-in":
                req = json.loads(body or b"{}")
                ids = req["instanceIds"]
                if not isinstance(ids, list) or not isinstance(req.get("publish", True), bool):
                    raise ValueError("instanceIds must be a list and publish a boolean")
                self._reply_json(200, emu.scale_in(req["groupId"], ids, req.get("publish", True)))
            elif method == "POST" and name == "lock":
                req = json.loads(body or b"{}")
                emu.lock_load_balancer(req["loadBalancerId"], float(req["seconds"]))
                self._reply_json(200, {"locked": req["loadBalancerId"]})
            else:
                self._reply_json(404, {"error": f"no admin endpoint {method} {ADMIN_PREFIX}{name}"})
        except (KeyError, ValueError, TypeError) as exc:
            self._reply_json(400, {"error": str(exc)})

    def _reply_json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))


def _one(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name)
    if not values:
        raise KeyError(f"query parameter {name!r} is required")
    return values[0]


def make_server(emulator: App, host: str, port: int) -> EmulatorHTTPServer:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError("the emulator binds loopback addresses only")
    server = EmulatorHTTPServer((host, port), Handler)
    server.emulator = emulator
    return server
