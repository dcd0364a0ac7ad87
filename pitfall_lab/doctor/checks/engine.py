"""The options of the engines the app creates; for an app that makes its engine on first use
(Flask-SQLAlchemy 2.x), the database and the options its files configure (doctor/dburls.py).
And the URL an engine asks for when DATABASE_URL is what a host hands out (the hosturl probe)."""
from __future__ import annotations

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor import dburls
from pitfall_lab.doctor.checks._common import (COULD_NOT, FOUND, NOT_APPLICABLE, NOT_FOUND,
                                               Check, Result, Seen, at, register)

SERVER_DIALECTS = {"postgresql", "mysql", "mariadb"}
NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB"}
MEASURED = ("measured by the lab: after the server ends a pooled connection, the next request "
            "fails with OperationalError 'server closed the connection unexpectedly' "
            "(psycopg2) or 'Lost connection to MySQL server during query' (pymysql)")


@register(needs={"source"}, ping="S12")
def pre_ping(seen: Seen, ping: Check) -> list[Result]:
    def dialect_of(url: str) -> str:  # postgres:// is PostgreSQL
        return dburls.DIALECTS.get(seen.dialect_of(url), seen.dialect_of(url))

    engines = seen.load["engines"]
    if not engines:  # none made while loading, or the app did not load: the files say
        error = seen.load.get("error") or {}
        return [from_source(seen.project, ping, given=throwaway_dialect(seen),
                            why=f"the app did not load ({error['cause']})"
                            if error.get("cause") else None)]
    servers = [e for e in engines if dialect_of(e["url"]) in SERVER_DIALECTS]
    if not servers:
        return [Result(ping, NOT_APPLICABLE, "no PostgreSQL or MySQL engine (--dburi says "
                                             "which server the app uses)")]
    for engine in servers:
        options = engine["options"]
        mysql = dialect_of(engine["url"]) in ("mysql", "mariadb")
        if options.get("pool_pre_ping") != "True" and not (mysql and "pool_recycle" in options):
            return [Result(ping, FOUND, f"engine {engine['url']} has no pool_pre_ping"
                                        + (" and no pool_recycle" if mysql else ""),
                           [MEASURED], at(engine["at"]))]
    return [Result(ping, NOT_FOUND, "every server engine pings its connections")]


def throwaway_dialect(seen: Seen) -> str:
    """The dialect of the throwaway database the doctor gives the app: --dburi's server, or
    SQLite."""
    from pitfall_lab.doctor import THROWAWAY

    return dburls.dialect(seen.dialect_of(f"sqlite://{THROWAWAY}"))


def from_source(project, ping: Check, given: str = "sqlite", why: str | None = None) -> Result:
    """No engine was made while the app loaded: the database its files configure, and the
    engine options they set (``why`` there was no engine to see: the app did not load).
    ``given``: the dialect of the server --dburi names, which is the
    app's when its URL setting reads the environment (DATABASE_URL) and the files name none."""
    lazy = why or (f"no engine is made while loading (Flask-SQLAlchemy "
                   f"{scenario.installed('flask-sqlalchemy')} makes it on first use)")
    servers = [c for c in dburls.configured(project) if c.dialect in SERVER_DIALECTS]
    if not servers and given in SERVER_DIALECTS:
        servers = [dburls.Configured(given, path, line, f"the URL is {variable} from the "
                                                         f"environment, and --dburi names a "
                                                         f"{NAMES[given]} server")
                   for path, line, variable in dburls.from_environment(project)]
    if not servers:
        return Result(ping, NOT_APPLICABLE, f"{lazy}, and the project's files configure no "
                                            "PostgreSQL or MySQL database (--dburi says which "
                                            "server the app uses)")
    options = dburls.engine_options(project)
    pings = [o for o in options if o.name == "pool_pre_ping"]
    recycles = [o for o in options if o.name == "pool_recycle"]
    postgres = [c for c in servers if c.dialect == "postgresql"]
    named = "PostgreSQL" if postgres else "MySQL"
    first = (postgres or servers)[0]
    if pings:
        return Result(ping, NOT_FOUND, f"{lazy}; the project is configured for {named} "
                                       f"({first}), and its engine options set {pings[0]}")
    uses_fsa = any("flask_sqlalchemy" in text for text in project.sources.values())
    if not postgres and (recycles or uses_fsa):
        why = str(recycles[0]) if recycles else "Flask-SQLAlchemy's own pool_recycle (7200 s)"
        return Result(ping, NOT_FOUND, f"{lazy}; the project is configured for MySQL "
                                       f"({first}), whose engine recycles its connections "
                                       f"({why})")
    return Result(ping, FOUND, f"{lazy}; the project is configured for {named}, and no engine "
                               "option sets pool_pre_ping"
                               + ("" if postgres else " or pool_recycle"),
                  [f"configured: {c}" for c in servers[:5]] + [MEASURED],
                  (first.path, first.line))


@register(needs={"load", "hosturl"}, scheme="S22")
def host_url_scheme(seen: Seen, scheme: Check) -> list[Result]:
    from pitfall_lab.doctor import HOST_URL

    hosted = seen.hosted
    if hosted is None:
        return [Result(scheme, NOT_APPLICABLE, "the project never names DATABASE_URL")]
    error = hosted.get("error")
    if error:
        where = f" at {error['at'][0]}:{error['at'][1]}" if error.get("at") else ""
        return [Result(scheme, COULD_NOT, f"with DATABASE_URL={HOST_URL} the app did not load: "
                                          f"{error['line']}{where}")]
    host = HOST_URL.split("@", 1)[1]  # 127.0.0.1:9/host_url: the URL came from the variable
    asked = [e for e in hosted["engines"] if host in e["url"]]
    if not asked:
        return [Result(scheme, NOT_FOUND, "no engine takes its URL from DATABASE_URL"
                                          + ("" if hosted["engines"] else
                                             " (the app made no Flask-SQLAlchemy engine)"))]
    kept = [e for e in asked if e["url"].split(":", 1)[0].lower() == "postgres"]
    if not kept:
        return [Result(scheme, NOT_FOUND, f"DATABASE_URL={HOST_URL} becomes "
                                          f"{asked[0]['url'].split('://', 1)[0]}://...")]
    s = scenario.load(scheme.scenario)
    engine = kept[0]
    version = f"SQLAlchemy {scenario.installed('sqlalchemy')}"
    evidence = [f"DATABASE_URL={HOST_URL}: engine {engine['url']}"]
    where = at(engine["at"]) or _reads_url(seen.project)  # 2.x: made on first use, by the probe
    if not s.affected("deploy"):
        return [Result(scheme, NOT_FOUND, f"an engine asks for postgres://, which {version} "
                                          "still accepts (deprecated; 1.4 removed it)",
                       evidence, where)]
    asks = (f"given DATABASE_URL as a host hands it out (postgres://...), an engine asks for "
            f"postgres://, which {version} has no dialect for")
    hosts = [f"{name} ({host})" for name, host in HOSTS.items()
             if (seen.project.root / name).is_file()]
    if not hosts:
        return [Result(scheme, NOT_FOUND, f"{asks}; no host that hands one out is configured "
                                          f"here ({', '.join(HOSTS)})", evidence, where)]
    return [Result(scheme, FOUND, f"{asks}: {s.symptom('deploy').splitlines()[-1]}; "
                                  f"deployed with {', '.join(hosts)}", evidence, where)]


def _reads_url(project) -> tuple[str, int] | None:
    """The first line of the project's code (not its tests) that names DATABASE_URL."""
    for rel, text in sorted(project.sources.items()):
        if dburls._is_test(rel):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if "DATABASE_URL" in line and not line.lstrip().startswith("#"):
                return rel, number
    return None


# Deployment files of hosts whose attached PostgreSQL comes as DATABASE_URL=postgres://...
HOSTS = {"Procfile": "Heroku, Dokku", "app.json": "Heroku", "heroku.yml": "Heroku",
         "fly.toml": "Fly.io"}
