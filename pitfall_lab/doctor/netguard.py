"""Loopback only, in the probe's interpreter: every connection the user's code tries to a host
other than loopback (127.0.0.0/8, ::1; unix sockets are always local) or the throwaway servers
the doctor uses (the host and port of $PITFALL_LAB_DOCTOR_DB, and those in
$PITFALL_LAB_DOCTOR_ALLOW, ``host:port,...``) is refused before it happens: socket.connect and
connect_ex, sendto (a datagram to a metrics sidecar), the name lookups before them
(getaddrinfo, so create_connection too; gethostbyname, gethostbyaddr), and psycopg2's and psycopg's connect (libpq connects
in C, past Python's sockets). A name is resolved here only when the machine's hosts file or the
name itself says it is local (``localhost``, ``*.localhost``, a line of /etc/hosts): a DNS query
would itself leave the machine. The refusal is a ConnectionRefusedError in the
user's code, which goes on as it would without the network; each one is recorded, with the
user's line, as a JSON line appended to a file (forked children included).
"""
from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import sys

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "redis": 6379}
SAYS = "the doctor refused a non-loopback connection to {where}"


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def hosts_file_names(path: str = "/etc/hosts") -> set[str]:
    """The names the hosts file gives an address: resolved without a DNS query."""
    names = set()
    try:
        with open(path) as handle:
            for line in handle:
                parts = line.split("#", 1)[0].split()
                names.update(p.lower() for p in parts[1:])
    except OSError:
        pass
    return names


def served(url: str) -> tuple[str, int] | None:
    """(host, port) of a database URL, the dialect's default port when none is given."""
    from sqlalchemy.engine.url import make_url  # where SQLAlchemy 1.3 has it too

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001  not a URL: nothing to allow
        return None
    if not parsed.host:
        return None
    backend = parsed.get_backend_name()
    return parsed.host.lower(), parsed.port or DEFAULT_PORTS.get(backend, 0)


def _where(host, port) -> str:
    host = str(host)
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port not in (None, 0, "") else shown


class Guard:
    def __init__(self, record_path: str, frame, allowed=(), during: str = ""):
        """``frame()``: the user's line, as the probe finds it; ``allowed``: (host, port);
        ``during``: what the probe runs, in the user's words."""
        self.path = record_path
        self.frame = frame
        self.during = during
        self.allowed_names = {(h.lower(), int(p)) for h, p in allowed}
        self.allowed_addresses: set[tuple[str, int]] = set()
        self.local_names = hosts_file_names() | {"localhost"}
        self.names: dict[str, str] = {}  # address -> the name it was resolved from
        self.real = {}

    # --- deciding -----------------------------------------------------------------------
    def _allowed_address(self, host: str, port) -> bool:
        return _loopback(host) or (host, _port(port)) in self.allowed_addresses \
            or (host.lower(), _port(port)) in self.allowed_names

    def refuse(self, host, port):
        where = _where(self.names.get(str(host), host), port)
        record = {"host": self.names.get(str(host), str(host)), "port": _port(port),
                  "at": self.frame(), "during": self.during}
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (json.dumps(record) + "\n").encode())
            finally:
                os.close(fd)
        except OSError:
            pass
        return ConnectionRefusedError(errno.ECONNREFUSED, SAYS.format(where=where))

    def check(self, family, address) -> Exception | None:
        if family not in (socket.AF_INET, getattr(socket, "AF_INET6", None)) \
                or not isinstance(address, tuple) or not address:
            return None  # unix sockets and the rest: local
        host, port = str(address[0]), address[1] if len(address) > 1 else None
        if not _literal(host):
            try:  # a name given to connect() itself: resolved as a lookup is
                infos = self.getaddrinfo(host, port, family, socket.SOCK_STREAM)
            except ConnectionRefusedError as exc:
                return exc
            if all(self._allowed_address(info[4][0], port) for info in infos):
                return None
            return self.refuse(host, port)
        if self._allowed_address(host, port):
            return None
        return self.refuse(host, port)

    # --- the patched functions ------------------------------------------------------------
    def getaddrinfo(self, host, port, *args, **kwargs):
        real = self.real["getaddrinfo"]
        if host is None:
            return real(host, port, *args, **kwargs)
        name = host.decode() if isinstance(host, bytes) else str(host)
        if _literal(name):
            return real(host, port, *args, **kwargs)
        lowered = name.lower().rstrip(".")
        wanted = (lowered, _port(port))
        if wanted not in self.allowed_names and lowered not in self.local_names \
                and not lowered.endswith(".localhost"):
            raise self.refuse(name, port)
        infos = real(host, port, *args, **kwargs)
        for info in infos:
            address = str(info[4][0])
            self.names.setdefault(address, name)
            if wanted in self.allowed_names:
                self.allowed_addresses.add((address, _port(port)))
        if wanted not in self.allowed_names and not any(
                _loopback(str(info[4][0])) for info in infos):
            raise self.refuse(name, port)
        return [info for info in infos if wanted in self.allowed_names
                or _loopback(str(info[4][0]))]

    def _lookup(self, function: str):
        """gethostbyname(_ex), gethostbyaddr: a name is looked up only when local, an
        address reversed only when loopback (otherwise a DNS query leaves the machine)."""
        real = getattr(socket, function)

        def lookup(host, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else str(host)
            lowered = name.lower().rstrip(".")
            local = _loopback(name) if _literal(name) and function == "gethostbyaddr" else (
                _literal(name) or lowered in self.local_names or lowered.endswith(".localhost")
                or any(lowered == h for h, _ in self.allowed_names))
            if not local:
                raise self.refuse(name, None)
            return real(host, *args, **kwargs)
        return lookup

    def install(self) -> None:
        guard = self
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        real_sendto = socket.socket.sendto
        self.real["getaddrinfo"] = socket.getaddrinfo
        for function in ("gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
            setattr(socket, function, self._lookup(function))

        def connect(sock, address):
            refused = guard.check(sock.family, address)
            if refused is not None:
                raise refused
            return real_connect(sock, address)

        def connect_ex(sock, address):
            refused = guard.check(sock.family, address)
            if refused is not None:
                return refused.errno
            return real_connect_ex(sock, address)

        def sendto(sock, data, *rest):
            address = rest[-1] if rest else None
            refused = guard.check(sock.family, address)
            if refused is not None:
                raise refused
            return real_sendto(sock, data, *rest)

        socket.socket.connect = connect
        socket.socket.connect_ex = connect_ex
        socket.socket.sendto = sendto
        socket.getaddrinfo = guard.getaddrinfo  # create_connection looks it up here
        self.install_libpq()

    def install_libpq(self) -> None:
        """libpq connects in C, past Python's sockets: psycopg2.connect and psycopg.connect
        check the hosts of their connection string and keywords (PGHOST, PGHOSTADDR, PGPORT
        when absent; a unix socket folder is local) first. Patched when they are imported
        (importing psycopg costs half a second a probe)."""
        for name in LIBPQ:
            if name in sys.modules:
                self.patch_libpq(sys.modules[name])
        sys.meta_path.insert(0, _OnImport(self))

    def patch_libpq(self, module) -> None:
        import importlib

        try:
            where, function = LIBPQ[module.__name__].split(":")
            parse = getattr(importlib.import_module(where), function)
        except Exception:  # noqa: BLE001  a driver that cannot load cannot connect either
            return
        if not hasattr(module.connect, "__wrapped__"):
            module.connect = self._libpq_connect(module.connect, parse)

    def _libpq_connect(self, real, parse):
        guard = self

        def connect(*args, **kwargs):
            dsn = args[0] if args and isinstance(args[0], str) else \
                kwargs.get("dsn") or kwargs.get("conninfo") or ""
            try:
                params = dict(parse(dsn)) if dsn else {}
            except Exception:  # noqa: BLE001  libpq will say what is wrong with it
                params = {}
            params.update({k: v for k, v in kwargs.items() if v is not None})
            for host, port in libpq_hosts(params):
                refused = guard.check(socket.AF_INET, (host, _port(port)))
                if refused is not None:
                    raise refused
            return real(*args, **kwargs)
        connect.__wrapped__ = real
        return connect


LIBPQ = {"psycopg2": "psycopg2.extensions:parse_dsn", "psycopg": "psycopg.conninfo:conninfo_to_dict"}


class _OnImport:
    """A meta path finder: psycopg2 and psycopg, as found by the others, patched once run."""

    def __init__(self, guard: Guard):
        self.guard = guard

    def find_spec(self, fullname, path, target=None):
        if fullname not in LIBPQ:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Patching(spec.loader, self.guard)
                return spec
        return None


class _Patching:
    def __init__(self, loader, guard: Guard):
        self.loader, self.guard = loader, guard

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.guard.patch_libpq(module)

    def __getattr__(self, name):  # is_package, get_code, get_resource_reader, ...
        return getattr(self.loader, name)


def libpq_hosts(params: dict) -> list[tuple[str, str]]:
    """(host, port) for each TCP host libpq would try: a unix socket folder is left out."""
    hosts = str(params.get("hostaddr") or params.get("host") or os.environ.get("PGHOSTADDR")
                or os.environ.get("PGHOST") or "")
    ports = str(params.get("port") or os.environ.get("PGPORT") or "5432").split(",")
    out = []
    for n, host in enumerate(h.strip() for h in hosts.split(",")):
        if host and not host.startswith(("/", "@")):
            out.append((host, ports[n] if n < len(ports) else ports[-1]))
    return out


def _port(port):
    try:
        return int(port)
    except (TypeError, ValueError):
        return port


def install(record_path: str, frame, during: str = "") -> Guard:
    """Refuse every non-loopback connection in this interpreter from now on; the throwaway
    database's server (``$PITFALL_LAB_DOCTOR_DB``) and ``$PITFALL_LAB_DOCTOR_ALLOW`` stay
    reachable."""
    allowed = []
    database = served(os.environ.get("PITFALL_LAB_DOCTOR_DB", ""))
    if database:
        allowed.append(database)
    for item in filter(None, os.environ.get("PITFALL_LAB_DOCTOR_ALLOW", "").split(",")):
        host, _, port = item.rpartition(":")
        if host and port.isdigit():
            allowed.append((host.strip("[]"), int(port)))
    guard = Guard(record_path, frame, allowed, during)
    guard.install()
    return guard


def read(record_path: str) -> list[dict]:
    """The refusals recorded, each once (host, port, the user's line: ``at``), with every probe
    that made it (``during``)."""
    try:
        with open(record_path) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    out: dict[tuple, dict] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:  # a line cut short by a killed probe
            continue
        key = (record["host"], record["port"], tuple(record["at"] or ()))
        one = out.setdefault(key, {"host": record["host"], "port": record["port"],
                                   "at": record["at"], "during": []})
        if record.get("during") and record["during"] not in one["during"]:
            one["during"].append(record["during"])
    for one in out.values():
        one["during"].sort()
    # sorted, not in the order the probes (which run at once) happened to make them
    return sorted(out.values(), key=lambda r: (list(r["at"] or ["", 0]), r["host"],
                                               str(r["port"])))


def said(record: dict) -> str:
    """"refused a connection to db.example.com:5432 at app/__init__.py:12 (loading the app)"."""
    at = f" at {record['at'][0]}:{record['at'][1]}" if record.get("at") else ""
    during = f" ({', '.join(record['during'])})" if record.get("during") else ""
    return f"refused a connection to {_where(record['host'], record['port'])}{at}{during}"
