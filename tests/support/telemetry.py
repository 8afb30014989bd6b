"""Stand-ins for an OpenTelemetry collector and a Sentry server: they keep what the real
SDKs send, and decode it the way the real servers would."""

import base64
import gzip
import json
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Run with the bake's Python, which has the OTLP protobuf classes the exporter uses.
DECODE_OTLP = """
import json, sys
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
for path in sys.argv[1:]:
    message = ExportTraceServiceRequest()
    message.ParseFromString(open(path, "rb").read())
    print(json.dumps(MessageToDict(message)))
"""


@dataclass
class Received:
    """One request the stand-in server was sent."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server that answers 200 to every POST and keeps it."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def posts(self, path_part: str) -> list[Received]:
        with self.lock:
            return [item for item in self.received if path_part in item.path]

    def wait_for(self, path_part: str, count: int = 1, timeout: float = 30) -> list[Received]:
        """The POSTs whose path holds ``path_part``, once there are ``count`` (or at timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.posts(path_part)) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.posts(path_part)


@contextmanager
def receiving(port: int = 0) -> Iterator[Receiver]:
    """Serve a Receiver on 127.0.0.1 (``port``, or a free one) until the block ends."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def spans(python: Path, posts: list[Received], tmp: Path) -> list[dict[str, Any]]:
    """Every span in the OTLP/HTTP export requests ``posts``, decoded from protobuf, with its
    trace and span ids as hex strings."""
    paths = []
    for number, post in enumerate(posts):
        path = tmp / f"export-{number}.pb"
        body = post.body
        if post.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        path.write_bytes(body)
        paths.append(str(path))
    decoded = subprocess.run(
        [str(python), "-c", DECODE_OTLP, *paths], capture_output=True, text=True, check=True
    ).stdout
    found = []
    for line in decoded.splitlines():
        for resource in json.loads(line).get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    # JSON protobuf writes bytes as base64; ids read as W3C writes them.
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in span:
                            span[key] = _hex(span[key])
                    span["resource"] = resource.get("resource", {})
                    found.append(span)
    return found


def _hex(base64_id: str) -> str:
    return base64.b64decode(base64_id).hex()


def envelope_items(post: Received) -> list[tuple[dict[str, Any], bytes]]:
    """The items (header, payload) of a Sentry envelope, as the server reads them."""
    _, _, rest = decoded_body(post).partition(b"\n")  # the envelope's own header first
    items = []
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        if not line.strip():
            continue
        header = json.loads(line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] :].removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return items


def decoded_body(post: Received) -> bytes:
    """A Sentry envelope's whole body, decompressed: what could leak is searched in it."""
    encoding = post.headers.get("Content-Encoding", "")
    if encoding == "gzip":
        return gzip.decompress(post.body)
    if encoding == "deflate":
        return zlib.decompress(post.body)
    return post.body
