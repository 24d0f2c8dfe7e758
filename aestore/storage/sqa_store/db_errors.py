"""Translation of database driver errors into aestore's own, in one place.

``translate_db_errors(url)`` wraps every database round trip of the SQL store:

- tables missing (SQLite "no such table", MySQL error 1146 "doesn't exist", PostgreSQL
  ``UndefinedTable``) -> :class:`TablesMissingError` saying to run ``aestore init-db``;
- connection failures (refused, unknown host, wrong password or database) ->
  :class:`DatabaseConnectionError` naming host and database, with the password masked.

Messages are scrubbed: the password never appears in them, even when a driver echoes it,
nor do the values of password-like query parameters of the URL (``?password=``, ``passwd``,
``pwd``, ``secret``, ``token``, in any case, also as part of a longer name such as
``sslpassword``): :func:`safe_url` renders a URL with all of them masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from aestore.exceptions import DatabaseConnectionError, SQAStoreError, TablesMissingError

__all__ = ["connection_error", "safe_url", "scrub", "secrets_of", "translate_db_errors"]

_SECRET_KEY = re.compile(r"passw(or)?d|pwd|secret|token", re.I)
_MASK = "***"
_PLACEHOLDER = "aestore-masked-value"

_TABLE_MISSING = re.compile(
    r"no such table|\(1146,|doesn't exist|UndefinedTable|relation \S+ does not exist", re.I
)
# MySQL client/server codes: 1044/1045 access denied, 1049 unknown database, 2002/2003/2005
# cannot connect / unknown host, 2006/2013 server gone / lost connection.
_MYSQL_CONNECT = re.compile(r"\((1044|1045|1049|2002|2003|2005|2006|2013),")
_CONNECT_NAMES = (
    "InvalidPasswordError",
    "InvalidAuthorizationSpecificationError",
    "InvalidCatalogNameError",
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ClientCannotConnectError",
    "TooManyConnectionsError",
)


def _secret_keys(url: URL) -> list[str]:
    return [key for key in url.query if _SECRET_KEY.search(key)]


def secrets_of(url: URL) -> list[str]:
    """The secrets ``url`` holds: its password and its password-like query values.

    Example:
        >>> from sqlalchemy.engine import make_url
        >>> secrets_of(make_url("postgresql+asyncpg://u:pw@h/db?PassWord=s3&sslmode=off"))
        ['pw', 's3']
    """
    found = [str(url.password)] if url.password else []
    for key in _secret_keys(url):
        value = url.query[key]
        found.extend(v for v in ([value] if isinstance(value, str) else value) if v)
    return found


def safe_url(url: URL) -> str:
    """``url`` as text, its password and password-like query values masked.

    Example:
        >>> from sqlalchemy.engine import make_url
        >>> safe_url(make_url("postgresql+asyncpg://u@h/db?password=s3cr3t&ssl=disable"))
        'postgresql+asyncpg://u@h/db?password=***&ssl=disable'
    """
    keys = _secret_keys(url)
    if keys:
        url = url.update_query_dict({key: _PLACEHOLDER for key in keys})
    return url.render_as_string(hide_password=True).replace(_PLACEHOLDER, _MASK)


def scrub(text: str, url: URL) -> str:
    """``text`` with the URL's secrets (see :func:`secrets_of`) replaced by ``***``.

    Example:
        >>> from sqlalchemy.engine import make_url
        >>> scrub("login pw123 failed", make_url("mysql+aiomysql://u:pw123@h/db"))
        'login *** failed'
        >>> scrub("dsn: ...?password=s3cr3t", make_url("postgresql+asyncpg://u@h/db?pwd=s3cr3t"))
        'dsn: ...?password=***'
    """
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, _MASK)
    return text


def connection_error(err: BaseException, url: URL) -> DatabaseConnectionError:
    """A :class:`DatabaseConnectionError` for ``err``, naming host and database.

    Example:
        >>> from sqlalchemy.engine import make_url
        >>> e = connection_error(OSError("refused"), make_url("mysql+aiomysql://u:pw@h:1/db"))
        >>> "pw" in str(e), e.host, e.database
        (False, 'h', 'db')
    """
    orig = getattr(err, "orig", None) or err
    reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    where = f"host {url.host}:{url.port}" if url.host else "the local file"
    message = (
        f"Cannot connect to database {url.database!r} on {where} "
        f"({safe_url(url)}): {type(orig).__name__}: {reason}"
    )
    return DatabaseConnectionError(scrub(message, url), host=url.host, database=url.database)


def _causes(err: BaseException) -> list[BaseException]:
    """``err``, the driver error it wraps and what caused those (drivers nest them)."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop()
        if current is None or any(current is f for f in found) or len(found) > 10:
            continue
        found.append(current)
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
    return found


def _is_connection_failure(err: BaseException) -> bool:
    for candidate in _causes(err):
        if type(candidate).__name__ in _CONNECT_NAMES or isinstance(candidate, OSError):
            return True
        text = str(candidate)
        if _MYSQL_CONNECT.search(text) or "unable to open database file" in text:
            return True
    return isinstance(err, sa_exc.DBAPIError) and bool(err.connection_invalidated)


@contextmanager
def translate_db_errors(url: URL) -> Iterator[None]:
    """Re-raise driver errors met inside the block as aestore errors (``raise ... from``).

    Example:
        >>> # with translate_db_errors(engine.url):
        >>> #     await session.execute(...)
    """
    try:
        yield
    except SQAStoreError:
        raise
    except sa_exc.DBAPIError as err:
        text = str(err.orig if err.orig is not None else err)
        if _TABLE_MISSING.search(text):
            table = re.search(r"(ae_\w+)", text)
            raise TablesMissingError(
                url.database, f"table {table.group(1)} not found" if table else ""
            ) from err
        if _is_connection_failure(err):
            raise connection_error(err, url) from err
        raise
    except (OSError, TimeoutError) as err:
        raise connection_error(err, url) from err
    except Exception as err:
        if type(err).__name__ in _CONNECT_NAMES:
            raise connection_error(err, url) from err
        raise
