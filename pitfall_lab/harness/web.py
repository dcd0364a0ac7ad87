"""A plain HTTP GET with a timeout, answering (status, body) for error statuses too."""
from __future__ import annotations

import urllib.error
import urllib.request


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode()
