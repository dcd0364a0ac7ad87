"""What a scenario left in its database, read over a connection of the test's own that closes
afterwards (nothing pooled stays open). SQLAlchemy is imported on the first call, not when pytest
collects the test modules that use this."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def _connection(url: str):
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as con:
            yield con
    finally:
        engine.dispose()


def rows(url: str, query: str, **params) -> list[tuple]:
    import sqlalchemy as sa

    with _connection(url) as con:
        return [tuple(row) for row in con.execute(sa.text(query), params)]


def scalars(url: str, query: str, **params) -> list:
    return [row[0] for row in rows(url, query, **params)]


def scalar(url: str, query: str, **params):
    found = scalars(url, query, **params)
    return found[0] if found else None


def table_names(url: str) -> list[str]:
    import sqlalchemy as sa

    with _connection(url) as con:
        return sa.inspect(con).get_table_names()


def show_url(url, *, database: str | None = None, hide_password: bool = True) -> str:
    """``url`` (a string or a parsed URL) as text, its password hidden unless asked, optionally
    naming another database.
    SQLAlchemy 1.3's URL is mutable and has no render_as_string; 1.4 and later are immutable."""
    import copy

    from sqlalchemy.engine.url import make_url

    parsed = make_url(url)
    if not hasattr(parsed, "render_as_string"):  # SQLAlchemy 1.3
        parsed = copy.copy(parsed)
        if database is not None:
            parsed.database = database
        return parsed.__to_string__(hide_password=hide_password)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=hide_password)


def backend(url: str) -> str:
    """'sqlite', 'postgresql', 'mysql', ... (the URL's dialect name)."""
    return url.partition(":")[0].partition("+")[0]
