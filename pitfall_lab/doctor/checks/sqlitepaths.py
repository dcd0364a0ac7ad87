"""SQLite files the configuration names by a relative path with a folder in it, read from the
source: Flask-SQLAlchemy 3 resolves the path in the app's instance folder (the project's
instance/), 2.x in the app's own folder (taken as the folder of the file that configures it),
and SQLite makes a file but never its folder, so the first connection fails with 'unable
to open database file' where that folder is not in the project."""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor import dburls
from pitfall_lab.doctor.checks._common import (FOUND, NOT_APPLICABLE, NOT_FOUND, Check, Result,
                                               Seen, register)

_RELATIVE = re.compile(r"^sqlite:///(?![/\\]|[A-Za-z]:)(?P<path>[^?\s]+)")


def relative_folders(project) -> list[tuple[dburls.Configured, str]]:
    """(where it is configured, the folder) for each relative SQLite path with a folder."""
    found = []
    for c in dburls.configured(project):
        m = _RELATIVE.match(c.said)
        if m and "/" in m["path"] and m["path"].rsplit("/", 1)[0] not in ("", "."):
            found.append((c, m["path"].rsplit("/", 1)[0]))
    return found


@register(needs={"source"}, path="S23")
def relative_sqlite_folder(seen: Seen, path: Check) -> list[Result]:
    project = seen.project
    relative = relative_folders(project)
    if not relative:
        return [Result(path, NOT_APPLICABLE, "no relative SQLite path with a folder in the "
                                             "configuration")]
    version = scenario.installed("flask-sqlalchemy") or "0"
    in_instance = int(version.split(".")[0]) >= 3
    missing = []
    for c, folder in relative:
        where = PurePosixPath("instance", folder) if in_instance else \
            PurePosixPath(c.path).parent / folder
        if not (project.root / where).is_dir():
            missing.append((c, where))
    resolved = "the instance folder" if in_instance else "the app's folder"
    if not missing:
        return [Result(path, NOT_FOUND, f"every relative SQLite path's folder is in {resolved}, "
                                        f"where Flask-SQLAlchemy {version} resolves it")]
    c, where = missing[0]
    return [Result(path, FOUND, f"Flask-SQLAlchemy {version} resolves a relative SQLite path in "
                                f"{resolved}, and {where}/ is not there: SQLite makes the file, "
                                "never its folder ('unable to open database file')",
                   [f"{c}: resolved in {w}/, which the project does not have"
                    for c, w in missing], (c.path, c.line))]
