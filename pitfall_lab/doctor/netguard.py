"""Loopback only, in the probe's interpreter: every connection the user's code tries to a host
other than loopback (127.0.0.0/8, ::1; unix sockets are always local) or the throwaway servers
the doctor uses (the host and port of $PITFALL_LAB_DOCTOR_DB, and those in
$PITFALL_LAB_DOCTOR_ALLOW, ``host:port,...``) is refused before it happens: socket.connect and
connect_ex, sendto (a datagram to a metrics sidecar), and the name lookup before them
(getaddrinfo, so create_connection too). A name is resolved here only when the machine's hosts
file or the name itself says it is local (``localhost``, ``*.localhost``, a line of /etc/hosts):
a DNS query would itself leave the machine. The refusal is a ConnectionRefusedError in the
user's code, which goes on as it would without the network; each one is recorded, with the
user's line, as a JSON line appended to a file (forked children included).
"""
from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket

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
    from sqlalchemy.engine import make_url

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

    def install(self) -> None:
        guard = self
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        real_sendto = socket.socket.sendto
        self.real["getaddrinfo"] = socket.getaddrinfo

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
