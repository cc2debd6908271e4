"""PostgreSQL for the state several machines share: the quota buckets and the report ledger (issue 19).

Both are a SQLite file on one machine by default; a PostgreSQL URL in their variable
(``SP_ASSETS_QUOTA_STORE``, ``SP_ASSETS_REPORT_LEDGER``) moves them to a server every machine reaches,
typically the Dagster instance's own (``dagster.postgres.yaml``). What both need is here, once: which
URLs are PostgreSQL's, the URL as messages may show it (password replaced), the URL as libpq reads it,
and a connection whose failure names the variable and never the password. psycopg2 comes with the
``postgres`` extra (dagster-postgres) and is imported only when a URL asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# SQLAlchemy's spelling (dagster.postgres.yaml's ``scheme: postgresql+psycopg2``) is accepted too.
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg2", "postgres")
CONNECT_TIMEOUT_S = 10


def is_postgres_url(location: str) -> bool:
    return "://" in location and location.split("://", 1)[0].lower() in POSTGRES_SCHEMES


def allowed_schemes() -> str:
    return ", ".join(f"{scheme}://" for scheme in POSTGRES_SCHEMES)


def is_postgres_location(location: str, *, variable: str, what: str, nothing_done: str,
                         error: type[Exception]) -> bool:
    """Whether ``location`` (a file path or a URL) is a PostgreSQL URL; a URL of another scheme is refused
    as ``error`` naming the variable, ``what`` it holds, the allowed schemes and ``nothing_done``."""
    if "://" in location and not is_postgres_url(location):
        raise error(f"{variable}={redact_url(location)!r}: {what} is a file path (SQLite) or a PostgreSQL URL "
                    f"({allowed_schemes()}); {nothing_done}")
    return is_postgres_url(location)


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages (``postgresql://u:***@host/db``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def libpq_dsn(url: str) -> str:
    """The URL libpq understands: ``postgresql+psycopg2://`` becomes ``postgresql://``."""
    scheme, rest = url.split("://", 1)
    return f"{'postgresql' if scheme.lower().startswith('postgresql') else scheme}://{rest}"


def register_password(url: str) -> None:
    """Let the log scrubber know the URL's password: a line that echoes it prints ``***``."""
    from sp_assets.lib.spapi.redaction import Secret  # here: spapi's quota store imports this module

    password = urlsplit(url).password
    if password:
        Secret(password)


def psycopg2_module(variable: str, error: type[Exception]) -> Any:
    """psycopg2, or ``error`` saying how to install it."""
    try:
        import psycopg2  # type: ignore[import-untyped]  # the postgres extra ships no stubs
    except ImportError:
        raise error(f"{variable} names a PostgreSQL database, which needs psycopg2: install the postgres "
                    "extra (pip install -e '.[postgres]')") from None
    return psycopg2


def failure(variable: str, url: str, doing: str, cause: BaseException, error: type[Exception]) -> Exception:
    """``error`` naming the variable, the redacted URL and psycopg2's first line, scrubbed (not chained:
    raise it ``from None``)."""
    from sp_assets.lib.spapi.redaction import scrub

    text = str(cause).strip()
    reason = scrub(text.splitlines()[0] if text else type(cause).__name__)
    return error(f"{variable}: {doing} {redact_url(url)} failed: {reason}")


def connect(url: str, *, variable: str, application_name: str, error: type[Exception]) -> Any:
    """A new psycopg2 connection to ``url``; a failure is ``error`` without the password."""
    psycopg2 = psycopg2_module(variable, error)
    register_password(url)
    try:
        return psycopg2.connect(libpq_dsn(url), connect_timeout=CONNECT_TIMEOUT_S,
                                application_name=application_name)
    except psycopg2.Error as cause:
        raise failure(variable, url, "connecting to", cause, error) from None


@contextmanager
def advisory_lock(url: str, key: tuple[int, int], timeout_s: float, *, variable: str, application_name: str,
                  error: type[Exception], timed_out: Callable[[], Exception]) -> Iterator[None]:
    """Hold the PostgreSQL advisory lock ``key`` (two 32-bit numbers) for the block, on a connection of its
    own: every machine that reaches the server sees it, and a process that dies releases it with its
    session. ``timed_out()`` is raised when another session keeps it longer than ``timeout_s``."""
    psycopg2 = psycopg2_module(variable, error)
    db = connect(url, variable=variable, application_name=application_name, error=error)
    try:
        db.autocommit = True
        with db.cursor() as cursor:
            cursor.execute("SET lock_timeout = %s", (f"{max(1, round(timeout_s * 1000))}ms",))
            try:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
            except psycopg2.errors.LockNotAvailable:
                raise timed_out() from None
        yield
    finally:
        db.close()  # ends the session: PostgreSQL releases its advisory locks
