"""An overall deadline per HTTP request, which per-socket timeouts cannot give.

``requests``' ``(connect, read)`` timeouts bound each socket operation, so a server that sends one
byte every 20 s never trips a 60 s read timeout and can hold a run for ever. Here each request runs
under a ``Deadline``: a watchdog thread that, when the time is up, shuts the request's socket down,
which makes the blocked read fail at once; the caller then raises ``DeadlineHit`` (a ``requests``
timeout, so the client retries it like any transient failure).

The socket is found without touching ``requests``' internals: ``DeadlineAdapter`` makes urllib3 build
connections whose ``getresponse`` (called on the calling thread once the request is sent, before
the status line is read) hands their socket to the deadline active on that thread.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_active = threading.local()


class DeadlineHit(requests.exceptions.Timeout):
    """The request's overall deadline passed before its answer was complete (retryable)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no complete answer within the overall deadline of {seconds:g} s")


class Deadline:
    """Shuts the attached socket down once ``monotonic() >= until``; ``extend`` moves ``until`` later."""

    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.until = self.started + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sp-api-deadline", daemon=True)

    @property
    def seconds(self) -> float:
        """The deadline as it stands, in seconds from the start."""
        return self.until - self.started

    def extend(self, until: float) -> None:
        """Allow the request until ``until`` (monotonic) if that is later (a download making progress)."""
        with self._lock:
            self.until = max(self.until, until)

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                _shutdown(sock)

    def _watch(self) -> None:
        while not self._done.wait(max(0.0, self.until - time.monotonic())):
            with self._lock:
                if time.monotonic() < self.until:
                    continue  # extended meanwhile
                self.expired = True
                _shutdown(self._sock)
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run the block's HTTP request (made through a ``DeadlineAdapter``) under an overall deadline.

    Any exception the block raises after the deadline passed becomes ``DeadlineHit``: the shut-down
    socket surfaces as a connection error, but the cause is the deadline.
    """
    watch = Deadline(seconds)
    previous = getattr(_active, "deadline", None)
    _active.deadline = watch
    watch.start()
    try:
        yield watch
    except Exception:
        if watch.expired:
            raise DeadlineHit(round(watch.seconds, 3)) from None
        raise
    finally:
        watch.stop()
        _active.deadline = previous


def _attach_current(sock: Any) -> None:
    watch: Deadline | None = getattr(_active, "deadline", None)
    if watch is not None and isinstance(sock, socket.socket):
        watch.attach(sock)


class _DeadlineHTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:
        _attach_current(self.sock)
        return super().getresponse()


class _DeadlineHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        _attach_current(self.sock)
        return super().getresponse()


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections report their socket to the thread's active ``deadline``."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}
