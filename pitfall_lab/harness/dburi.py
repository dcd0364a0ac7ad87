"""``--dburi``: check the PostgreSQL server a user names before any test uses it."""
from __future__ import annotations


def check(url: str) -> str | None:
    """None when ``url`` reaches a PostgreSQL server as a role that may create databases (each
    test gets a fresh one); otherwise one line naming the URL, its password hidden, and why."""
    import sqlalchemy as sa
    from sqlalchemy.engine.url import make_url

    from pitfall_lab.harness import sql

    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        return f"--dburi {url!r}: not a SQLAlchemy URL (dialect+driver://user:password@host/db)"
    shown = sql.show_url(parsed)
    if parsed.get_backend_name() != "postgresql":
        return (f"--dburi {shown}: the lab's --dburi takes a PostgreSQL server "
                "(postgresql+psycopg2://user@host/db)")
    try:
        engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool,
                                  connect_args={"connect_timeout": 5})
        with engine.connect() as con:
            may_create = con.execute(sa.text(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            )).scalar()
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        return f"--dburi {shown}: driver not installed ({_first_line(exc)})"
    except sa.exc.DBAPIError as exc:
        return f"--dburi {shown}: cannot connect: {_first_line(exc.orig)}"
    except sa.exc.SQLAlchemyError as exc:
        return f"--dburi {shown}: {_first_line(exc)}"
    if not may_create:
        return f"--dburi {shown}: the role may not create databases (ALTER ROLE ... CREATEDB)"
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
