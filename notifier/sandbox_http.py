"""The SMS sandbox's HTTP side: the keep-alive server, the request handler that routes to a Sandbox, answer writing."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from notifier.sandbox_wire import API, BUSY, MAX_BODY, ConfigError, twilio_error

if TYPE_CHECKING:
    from notifier.sandbox import Sandbox

log = logging.getLogger("notifier.sandbox")  # one logger for the whole sandbox, as when it was one module
_LIST = re.compile(rf"/{API}/Accounts/([^/]+)/Messages\.json")
_ONE = re.compile(rf"/{API}/Accounts/([^/]+)/Messages/([^/]+)\.json")


def make_server(sandbox: Sandbox) -> Server:
    """A server bound to the sandbox's host and port (0 picks a free one), its requests answered by that sandbox."""
    return Server((sandbox.host, sandbox.port), type("Handler", (Handler,), {"sandbox": sandbox}))


class Server(ThreadingHTTPServer):
    """A thread per connection, so hundreds of kept-alive clients wait out the latency side by side."""

    daemon_threads = True
    request_queue_size = 1024  # the listen backlog: a benchmark opens hundreds of connections at once

    def __init__(self, *args, **kwargs):
        self.connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request_thread(self, request, client_address):
        with self._connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self.connections.discard(request)

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # a client that resets a kept-alive connection is routine, not a fault
            log.debug("sandbox: connection from %s ended: %s", client_address, error)
        else:
            log.exception("sandbox: request from %s failed", client_address)

    def drop_connections(self) -> None:
        with self._connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Answer(Exception):
    """Ends a request early with this answer (bad framing, oversized body)."""

    def __init__(self, status: int, payload: dict):
        super().__init__(status)
        self.status, self.payload = status, payload


def _problem(status: int, message: str, errors: dict | None = None) -> dict:
    """The project's error shape (API.md) for the /sandbox endpoints, which are ours, not Twilio's."""
    return {"code": status, "status": HTTPStatus(status).phrase, "message": message, "errors": errors or {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the twilio client's pooled connection is reused
    disable_nagle_algorithm = True  # with one write per answer, Nagle would only add delayed-ACK stalls
    sandbox: Sandbox

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args) -> None:
        pass  # the base class writes every request to stderr; _handle logs at debug instead

    def parse_request(self) -> bool:
        """The request line and headers into a dict with lower-case names.

        The base class runs every header block through the email package, a sixth of the time an answer takes.
        """
        words = self.raw_requestline.decode("latin-1").split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.close_connection = True
            self._send(400, _problem(400, "Bad request line."), ())
            return False
        self.command, self.path, self.request_version = words
        self.close_connection = words[2] == "HTTP/1.0"
        self.headers = headers = {}
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, colon, value = line.decode("latin-1").partition(":")
            if len(line) > 65536 or len(headers) > 100 or not colon:
                self.close_connection = True
                self._send(431 if colon else 400, _problem(431 if colon else 400, "Bad headers."), ())
                return False
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        if connection in ("close", "keep-alive"):
            self.close_connection = connection == "close"
        return True

    def _handle(self, method: str) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        headers: tuple = ()
        self._admitted = False  # set by _answer when this request holds one of the sandbox's concurrency slots
        try:
            try:
                status, payload, headers, wait = self._answer(method, path, query, self._read_body())
                if wait:
                    self.sandbox._stopping.wait(wait)
            except _Answer as answer:
                status, payload = answer.status, answer.payload
            except OSError:  # the client went away in the middle of its request
                self.close_connection = True
                return
            except Exception:
                log.exception("sandbox: %s %s failed", method, path)
                status, payload = 500, twilio_error(500, 20500, "Internal Server Error")
            self._send(status, payload, headers)
        finally:
            if self._admitted:  # a send is in flight until its answer is written
                self.sandbox.leave()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("sandbox: %s %s -> %d in %.1f ms", method, path, status, (time.perf_counter() - started) * 1e3)

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding"):  # the twilio client always sends a length; chunked is not worth it
            self.close_connection = True
            raise _Answer(411, _problem(411, "Send a Content-Length."))
        length = self.headers.get("content-length", "0").strip() or "0"
        if not length.isdigit():
            self.close_connection = True
            raise _Answer(400, _problem(400, "Bad Content-Length."))
        size = int(length)
        if size > MAX_BODY:
            # Read and drop a moderately big body: closing with unread data makes the kernel send a reset, which can
            # reach the client before it reads the 413. A huge one is not worth reading: the connection just closes.
            self.close_connection = size > 16 * MAX_BODY
            while not self.close_connection and size > 0:
                chunk = self.rfile.read(min(size, MAX_BODY))
                self.close_connection, size = not chunk, size - len(chunk)
            raise _Answer(413, _problem(413, f"The body is over {MAX_BODY} bytes."))
        return self.rfile.read(size) if size else b""

    def _answer(self, method: str, path: str, query: str, body: bytes) -> tuple[int, dict | None, tuple, float]:
        if path.startswith("/sandbox/"):
            return (*self._inspect(method, path, query, body), 0.0)
        sandbox = self.sandbox
        if not path.startswith(f"/{API}/"):
            return 404, twilio_error(404, 20404, f"The requested resource {path} was not found"), (), 0.0
        delay = sandbox.delay()
        listing, one = _LIST.fullmatch(path), _ONE.fullmatch(path)
        parts = path.split("/")
        if not sandbox.authorized(self.headers.get("authorization"), parts[3] if len(parts) > 3 else ""):
            if listing and method == "POST":
                sandbox.reject(401, 20003)
            return (401, twilio_error(401, 20003, "Authenticate"), (("WWW-Authenticate", 'Basic realm="Twilio API"'),),
                    delay)
        if listing and method == "POST":
            self._admitted = sandbox.admit()
            if not self._admitted:  # refused at once, as a provider past its concurrency limit does
                return BUSY[0], twilio_error(*BUSY), (), 0.0
            status, payload, wait = sandbox.create(dict(parse_qsl(body.decode("utf-8", "replace"),
                                                                  keep_blank_values=True)))
            return status, payload, (), delay + wait
        if listing and method == "GET":
            return (*sandbox.page(dict(parse_qsl(query))), (), delay)
        if one and method == "GET":
            found = sandbox.fetch(one.group(2))
            if found is None:
                return 404, twilio_error(404, 20404, f"The requested resource {path} was not found"), (), delay
            return 200, found, (), delay
        if listing or one:
            return 405, twilio_error(405, 20004, "Method not allowed"), (), delay
        return 404, twilio_error(404, 20404, f"The requested resource {path} was not found"), (), delay

    def _inspect(self, method: str, path: str, query: str, body: bytes) -> tuple[int, dict | list | None, tuple]:
        sandbox = self.sandbox
        allowed = {"/sandbox/health": ("GET",), "/sandbox/messages": ("GET", "DELETE"), "/sandbox/stats": ("GET",),
                   "/sandbox/config": ("GET", "PUT")}.get(path)
        if allowed is None:
            return 404, _problem(404, f"No such path: {path}"), ()
        if method not in allowed:
            return 405, _problem(405, f"{path} answers {', '.join(allowed)}."), (("Allow", ", ".join(allowed)),)
        if path == "/sandbox/health":
            return 200, {"status": "ok"}, ()
        if path == "/sandbox/stats":
            return 200, sandbox.stats(), ()
        if path == "/sandbox/messages" and method == "DELETE":
            sandbox.clear()
            return 204, None, ()
        if path == "/sandbox/messages":
            return 200, sandbox.messages(dict(parse_qsl(query)).get("to") or None), ()
        if method == "GET":
            return 200, sandbox.config(), ()
        try:
            changes = json.loads(body or b"null")
        except ValueError:
            return 400, _problem(400, "The body is not JSON."), ()
        if not isinstance(changes, dict):
            return 400, _problem(400, "Send a JSON object of settings."), ()
        try:
            sandbox.configure(changes)
        except ConfigError as exc:
            return 422, _problem(422, f"{exc.field} {exc.message}.", {exc.field: [exc.message]}), ()
        return 200, sandbox.config(), ()

    def _send(self, status: int, payload: dict | list | None, headers: tuple) -> None:
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        body = b""
        if status != 204:
            body = json.dumps(payload).encode()
            lines += ["Content-Type: application/json; charset=utf-8", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if self.close_connection:
            lines.append("Connection: close")
        try:  # one write: headers and body in one segment
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        except OSError:
            self.close_connection = True  # the client gave up waiting (a timeout on the slow number)
