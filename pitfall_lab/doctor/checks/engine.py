"""The options of the engines the app creates."""
from __future__ import annotations

from pitfall_lab.doctor.checks._common import (FOUND, NOT_APPLICABLE, NOT_FOUND, Check, Result,
                                               Seen, at, register)

SERVER_DIALECTS = {"postgresql", "mysql", "mariadb"}


@register(needs={"load"}, ping="S12")
def pre_ping(seen: Seen, ping: Check) -> list[Result]:
    dialect_of = seen.dialect_of
    servers = [e for e in seen.load["engines"] if dialect_of(e["url"]) in SERVER_DIALECTS]
    if not servers:
        return [Result(ping, NOT_APPLICABLE, "no PostgreSQL or MySQL engine (--dburi says "
                                             "which server the app uses)")]
    for engine in servers:
        options = engine["options"]
        mysql = dialect_of(engine["url"]) in ("mysql", "mariadb")
        if options.get("pool_pre_ping") != "True" and not (mysql and "pool_recycle" in options):
            return [Result(ping, FOUND, f"engine {engine['url']} has no pool_pre_ping"
                                        + (" and no pool_recycle" if mysql else ""),
                           ["measured by the lab: after the server ends a pooled connection, "
                            "the next request fails with OperationalError 'server closed the "
                            "connection unexpectedly' (psycopg2) or 'Lost connection to MySQL "
                            "server during query' (pymysql)"], at(engine["at"]))]
    return [Result(ping, NOT_FOUND, "every server engine pings its connections")]
