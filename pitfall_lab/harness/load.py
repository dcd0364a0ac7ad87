"""A bounded concurrent HTTP load: every request carries its own value, which the app echoes
back from the database, so an answer meant for another request is seen."""
from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pitfall_lab.harness import web


@dataclass
class Report:
    requests: int
    ok: int = 0
    wrong: int = 0  # 200 with another request's value: a cross-user data leak
    errors: Counter = field(default_factory=Counter)  # HTTP status or exception name -> count

    def __str__(self) -> str:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(self.errors.items()))
        return (f"{self.requests} requests: {self.ok} ok, {sum(self.errors.values())} errors"
                f"{f' ({kinds})' if kinds else ''}, {self.wrong} wrong results")


def echo(base_url: str, requests: int = 200, concurrency: int = 16, timeout: float = 3) -> Report:
    tag = uuid.uuid4().hex[:8]
    values = [f"{tag}-{i:05d}" for i in range(requests)]

    def one(value: str) -> str:
        try:
            status, body = web.get(f"{base_url}/echo?v={value}", timeout=timeout)
        except Exception as exc:  # a timeout, a reset connection
            return type(exc).__name__
        if status != 200:
            return f"HTTP {status}"
        return "ok" if body == value else "wrong"

    report = Report(requests)
    with ThreadPoolExecutor(concurrency) as pool:
        for outcome in pool.map(one, values):
            if outcome == "ok":
                report.ok += 1
            elif outcome == "wrong":
                report.wrong += 1
            else:
                report.errors[outcome] += 1
    return report
