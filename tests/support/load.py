"""A bounded load of keep-alive connections that counts every request that fails.

Each of ``connections`` threads keeps one HTTP/1.1 connection (http.client)
and sends requests on it, one after the other, as a client with a connection
pool does: GETs of one path, or what a plan gives for each request's number
(a mix of reads and writes). A response that says "Connection: close" ends
that connection cleanly and the thread opens a new one. A request fails when it was sent
and no whole response came back (a reset, a closed connection, no answer
within ``timeout``, 30 s by default, half nginx's proxy_read_timeout) or
when the response is a 5xx; the slowest answer is kept, so that a wait
within the timeout is seen too. A connection the server refuses carries no
request: it is counted apart, and the thread then stops (``stop_when_refused``,
for a server that has gone away) or tries again shortly; where nothing may
refuse (a proxy in front of replicas), ``refusals_fail`` counts it as a
failed request.

The load is bounded: it stops after ``requests`` requests in all, or after
``seconds``, whichever comes first, or when ``stop()`` is called.
"""

import http.client
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Failures kept verbatim for the assertion message; all of them are counted.
KEPT_FAILURES = 20

# One request: its method, path, extra headers and body (or None).
Request = tuple[str, str, dict[str, str], bytes | None]


@dataclass
class Tally:
    """What the load saw."""

    sent: int = 0
    failed: int = 0
    # Responses that closed their connection ("Connection: close").
    closed_by_server: int = 0
    # Connection attempts refused: no request was sent on them.
    refused: int = 0
    # Responses by status code.
    statuses: Counter[int] = field(default_factory=Counter)
    # The longest a request took to be answered, in seconds.
    slowest: float = 0.0
    failures: list[str] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < KEPT_FAILURES:
            self.failures.append(reason)


class KeepAliveLoad:
    """``connections`` keep-alive clients sending GET ``path`` (or ``path(n)`` for the
    n-th request) to ``base``, in threads, from ``start()`` until a bound is reached;
    ``join()`` waits for them."""

    def __init__(
        self,
        base: str,
        path: str | Callable[[int], Request],
        *,
        connections: int = 16,
        requests: int = 20_000,
        seconds: float = 120,
        stop_when_refused: bool = True,
        refusals_fail: bool = False,
        timeout: float = 30,
    ) -> None:
        url = urlsplit(base)
        assert url.hostname == "127.0.0.1", "the load goes to this machine only"
        self.host, self.port = url.hostname, url.port or 80
        self.plan = path if callable(path) else (lambda _: ("GET", path, {}, None))
        self.connections = connections
        self.requests = requests
        self.seconds = seconds
        self.stop_when_refused = stop_when_refused
        self.refusals_fail = refusals_fail
        self.timeout = timeout
        self.tally = Tally()
        self._lock = threading.Lock()
        # Each request's number, never reused (a refused one's included).
        self._numbers = itertools.count(1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._deadline = 0.0

    def start(self) -> "KeepAliveLoad":
        self._deadline = time.monotonic() + self.seconds
        self._threads = [
            threading.Thread(target=self._client, daemon=True) for _ in range(self.connections)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> Tally:
        """Wait for every client to finish (at most ``timeout`` past the load's own bound)."""
        limit = time.monotonic() + (timeout if timeout is not None else self.seconds + 30)
        for thread in self._threads:
            thread.join(max(limit - time.monotonic(), 0))
        assert not any(thread.is_alive() for thread in self._threads), "the load did not end"
        return self.tally

    def wait_for_sent(self, count: int, timeout: float = 60) -> None:
        """Return once ``count`` requests have been sent (or fail at the timeout)."""
        deadline = time.monotonic() + timeout
        while self.tally.sent < count:
            assert time.monotonic() < deadline, f"only {self.tally.sent} of {count} sent"
            assert any(thread.is_alive() for thread in self._threads), self.tally
            time.sleep(0.05)

    def _more(self) -> int | None:
        """The number of the next request to send, counted as sent; None once a bound is
        reached."""
        with self._lock:
            if self._stop.is_set() or time.monotonic() > self._deadline:
                return None
            if self.tally.sent >= self.requests:
                return None
            self.tally.sent += 1
            return next(self._numbers)

    def _record(self, change: str, reason: str = "", status: int = 0, took: float = 0) -> None:
        with self._lock:
            self.tally.slowest = max(self.tally.slowest, took)
            if status:
                self.tally.statuses[status] += 1
            if change == "failed":
                self.tally.fail(reason)
            elif change == "closed":
                self.tally.closed_by_server += 1
            elif change == "refused":
                self.tally.refused += 1
                if self.refusals_fail:
                    self.tally.fail(f"refused: {reason}")
                else:
                    # Nothing was sent on it.
                    self.tally.sent -= 1

    def _connect(self) -> tuple[http.client.HTTPConnection | None, bool]:
        """A new connection for the request just counted as sent, and whether the server
        refused it: no connection then (the request is not counted), nor when the attempt
        failed otherwise (the request has failed)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.connect()
        except ConnectionRefusedError as error:
            self._record("refused", repr(error))
            return None, True
        except OSError as error:
            self._record("failed", f"connecting: {error!r}")
            return None, False
        return connection, False

    def _client(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while (number := self._more()) is not None:
            if connection is None:
                connection, refused = self._connect()
                if connection is None:
                    if refused and self.stop_when_refused:
                        break
                    time.sleep(0.05)
                    continue
            method, path, headers, body = self.plan(number)
            started = time.monotonic()
            try:
                connection.request(method, path, body, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                self._record("failed", f"{method} {path}: {error!r}")
                connection.close()
                connection = None
                continue
            took = time.monotonic() - started
            if response.status >= 500:
                self._record("failed", f"{method} {path}: {response.status}", response.status, took)
            else:
                self._record("answered", status=response.status, took=took)
            if response.will_close:
                self._record("closed")
                connection.close()
                connection = None
        if connection is not None:
            connection.close()
