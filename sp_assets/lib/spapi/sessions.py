"""The ``requests`` session every SP-API and LWA call goes through: deadline-aware connections, and the
process environment read once per host instead of on every call.

``requests.Session.request`` calls ``merge_environment_settings`` for each request, which re-reads the
proxy variables, evaluates ``no_proxy`` against the host and looks up the CA bundle variables: measured at
21 % of the client's CPU on a fast sandbox (issue 20). The environment of a run does not change between
two calls to the same host, so :class:`SteadySession` computes it once per scheme and host and merges
each request's own settings over it exactly as ``requests`` does (a request's explicit ``proxies`` or
``verify`` still wins). Proxies and CA bundles set in the environment keep working.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.sessions import merge_setting

from .deadline import DeadlineAdapter


class SteadySession(requests.Session):
    """A ``requests.Session`` that reads proxy and CA settings from the environment once per host."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], Any] = {}
        self._environment_lock = threading.Lock()
        self.environment_reads = 0  # how often the environment was consulted (tests read it)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        if not self.trust_env or url is None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url if isinstance(url, str) else url.decode("ascii", "replace"))
        key = (parts.scheme, parts.netloc)
        with self._environment_lock:
            settings: Any = self._environment.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, {}, None, None, None)
            with self._environment_lock:
                self._environment[key] = settings
                self.environment_reads += 1
        return {"proxies": merge_setting(proxies, settings["proxies"]),
                "stream": merge_setting(stream, settings["stream"]),
                "verify": merge_setting(verify, settings["verify"]),
                "cert": merge_setting(cert, settings["cert"])}


def new_session(pool_maxsize: int = 10) -> SteadySession:
    """A session whose connections report to the thread's active ``deadline`` (``deadline.py``)."""
    session = SteadySession()
    session.mount("https://", DeadlineAdapter(pool_maxsize=pool_maxsize))
    session.mount("http://", DeadlineAdapter(pool_maxsize=pool_maxsize))
    return session
