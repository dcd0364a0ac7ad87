"""Loopback only (pitfall_lab/doctor/netguard.py): the probes refuse, before it happens, every
connection the user's code tries to a host other than loopback and the doctor's own throwaway
servers; the user's code gets a ConnectionRefusedError that says so, the doctor names the host,
port and the user's line, and the checks go on. No address used here is routable (TEST-NET
192.0.2.0/24, the reserved .invalid domain): nothing leaves the machine even if a refusal
failed, and each test asserts the doctor's own message, never a network error."""
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pitfall_lab import doctor
from pitfall_lab.doctor import gate, netguard, output
from pitfall_lab.guard import observe

SAMPLES = Path(__file__).parent / "doctor_samples"


def guarded(code: str, tmp_path: Path, env: dict | None = None) -> tuple[dict, list[dict]]:
    """Run ``code`` in a fresh interpreter with the guard installed; its printed JSON and the
    refusals it recorded."""
    record = tmp_path / "refused.jsonl"
    program = textwrap.dedent(f"""
        import json, socket, sys
        from pitfall_lab.doctor import netguard
        netguard.install({str(record)!r}, lambda: ["snippet.py", 1], "a test")
        out = {{}}
    """) + REFUSE + textwrap.dedent(code) + "\nprint(json.dumps(out))\n"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=60, env={**_env(), **(env or {})}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), netguard.read(str(record))


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("PITFALL_LAB_DOCTOR")}


REFUSE = """
def attempt(name, call):
    try:
        call()
        out[name] = "connected"
    except OSError as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
"""


def test_every_way_to_a_remote_host_is_refused_before_it_happens(tmp_path):
    out, refused = guarded("""
        attempt("connect", lambda: socket.socket().connect(("192.0.2.1", 5432)))
        attempt("create_connection", lambda: socket.create_connection(("192.0.2.7", 80), 2))
        attempt("name", lambda: socket.create_connection(("db.invalid", 5432), 2))
        attempt("lookup", lambda: socket.getaddrinfo("db.invalid", 5432))
        attempt("sendto", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
            b"visits:1|c", ("192.0.2.9", 8125)))
        attempt("ipv6", lambda: socket.socket(socket.AF_INET6).connect(("2001:db8::1", 443)))
        out["connect_ex"] = socket.socket().connect_ex(("192.0.2.1", 6379))
        attempt("gethostbyname", lambda: socket.gethostbyname("smtp.invalid"))
        attempt("gethostbyaddr", lambda: socket.gethostbyaddr("192.0.2.1"))
        out["getfqdn"] = socket.getfqdn("mail.invalid")  # which catches the refusal
    """, tmp_path)
    says = "ConnectionRefusedError: [Errno 111] the doctor refused a non-loopback connection to "
    assert out == {"connect": says + "192.0.2.1:5432", "create_connection": says + "192.0.2.7:80",
                   "name": says + "db.invalid:5432", "lookup": says + "db.invalid:5432",
                   "sendto": says + "192.0.2.9:8125", "ipv6": says + "[2001:db8::1]:443",
                   "connect_ex": 111, "gethostbyname": says + "smtp.invalid",
                   "gethostbyaddr": says + "192.0.2.1", "getfqdn": "mail.invalid"}
    assert sorted(netguard.said(r) for r in refused) == sorted(
        f"refused a connection to {w} at snippet.py:1 (a test)" for w in
        ["192.0.2.1:5432", "192.0.2.7:80", "db.invalid:5432", "192.0.2.9:8125",
         "[2001:db8::1]:443", "192.0.2.1:6379", "smtp.invalid", "192.0.2.1", "mail.invalid"])


def test_loopback_unix_sockets_and_the_doctors_servers_stay_reachable(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(tmp_path / "s.sock"))
    unix.listen(1)
    try:
        out, refused = guarded(f"""
            attempt("ip", lambda: socket.create_connection(("127.0.0.1", {port}), 5))
            attempt("name", lambda: socket.create_connection(("localhost", {port}), 5))
            attempt("other_loopback", lambda: socket.socket().connect_ex(("127.0.0.2", {port})))
            attempt("unix", lambda: socket.socket(socket.AF_UNIX).connect({str(tmp_path / "s.sock")!r}))
        """, tmp_path)
    finally:
        listener.close()
        unix.close()
    assert out["ip"] == out["name"] == out["other_loopback"] == out["unix"] == "connected"
    assert refused == []


def test_the_database_url_of_the_throwaway_server_is_allowed(tmp_path, monkeypatch):
    """Decided without connecting: the server of --dburi (its host and port) and
    $PITFALL_LAB_DOCTOR_ALLOW pass, the same host on another port does not."""
    monkeypatch.setenv("PITFALL_LAB_DOCTOR_DB", "postgresql://u:p@192.0.2.5:6543/x")
    monkeypatch.setenv("PITFALL_LAB_DOCTOR_ALLOW", "192.0.2.6:6379")
    allowed = [netguard.served(os.environ["PITFALL_LAB_DOCTOR_DB"]), ("192.0.2.6", 6379)]
    guard = netguard.Guard(str(tmp_path / "r"), lambda: None, allowed)
    assert guard.check(socket.AF_INET, ("192.0.2.5", 6543)) is None
    assert guard.check(socket.AF_INET, ("192.0.2.6", 6379)) is None
    assert isinstance(guard.check(socket.AF_INET, ("192.0.2.5", 5432)), ConnectionRefusedError)
    assert netguard.served("postgresql+psycopg2://u:p@pg.example:6543/x") == ("pg.example", 6543)
    assert netguard.served("mysql+pymysql://u@db.example/x") == ("db.example", 3306)
    assert netguard.served("sqlite:////tmp/x.db") is None


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
def test_the_doctor_names_each_refused_connection_and_the_checks_go_on():
    """The app catches its refusal and loads (S09 is found); cron's script fails on its own,
    with the doctor's ConnectionRefusedError, not a network error."""
    report = doctor.examine(SAMPLES / "network_app")
    assert report.loaded, report.load_error
    assert output.network_line(report) == (
        "network: loopback only (the probes refuse every other connection); refused a "
        "connection to 192.0.2.1:8125 at app.py:13 (importing each module on its own, loading "
        "app.py, loading app.py with a host's DATABASE_URL); refused a connection to cache.invalid:6379 at scripts/sync_cache.py:8 "
        "(python scripts/sync_cache.py)")
    assert [r.check.code for r in report.found] == ["S09", "S30"]
    data = output.as_json(report)
    assert data["refused"][1] == {"host": "cache.invalid", "port": 6379,
                                  "during": ["python scripts/sync_cache.py"],
                                  "location": {"path": "scripts/sync_cache.py", "line": 8}}
    table = output.table(report, gate.apply(report, gate.Config()))
    assert output.network_line(report) in table.splitlines()


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
def test_the_scripts_own_error_is_the_doctors_refusal(tmp_path):
    """Run as the doctor runs it, the script stops at the refusal, at its own line."""
    from pitfall_lab.doctor import project as proj

    project = proj.read(SAMPLES / "network_app")
    copy = project.copy_to(tmp_path / "project")
    run = doctor._run(copy, f"sqlite:///{tmp_path / 'x.db'}",
                      proj.Command("crontab:1", "script", "scripts/sync_cache.py"), False,
                      {"PITFALL_LAB_DOCTOR_REFUSED": str(tmp_path / "refused.jsonl")})
    assert (run["error"]["line"], run["error"]["at"]) == (
        "ConnectionRefusedError: [Errno 111] the doctor refused a non-loopback connection to "
        "cache.invalid:6379", ["scripts/sync_cache.py", 8])


def test_libpq_drivers_are_refused_before_they_connect(tmp_path):
    """psycopg2 and psycopg connect in C (libpq), past Python's sockets: their connect checks
    the hosts of the connection string and keywords first; a unix socket folder is local."""
    pytest.importorskip("psycopg2")
    pytest.importorskip("psycopg")
    out, refused = guarded("""
        import psycopg, psycopg2
        attempt("dsn", lambda: psycopg2.connect("host=192.0.2.1 port=6432 dbname=shop"))
        attempt("url", lambda: psycopg2.connect("postgresql://u:pw@db.invalid/shop"))
        attempt("keywords", lambda: psycopg.connect(host="192.0.2.3", dbname="shop"))
        attempt("several", lambda: psycopg.connect("host=/tmp,192.0.2.4 port=5432,5433"))
    """, tmp_path, env={"PGHOST": "/nonexistent-socket-folder"})
    says = "ConnectionRefusedError: [Errno 111] the doctor refused a non-loopback connection to "
    assert out == {"dsn": says + "192.0.2.1:6432", "url": says + "db.invalid:5432",
                   "keywords": says + "192.0.2.3:5432", "several": says + "192.0.2.4:5433"}
    assert netguard.libpq_hosts({"host": "/var/run/postgresql"}) == []
    assert len(refused) == 4
