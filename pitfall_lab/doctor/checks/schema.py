"""Whether the schema follows the models: with migrations, what they make on an empty database
(the migrations probe: flask db upgrade on a throwaway one, then Alembic's compare_metadata with
the loaded models); without, whether the app makes its tables with create_all() while it loads,
which creates missing tables and never alters one."""
from __future__ import annotations

import re

from pitfall_lab.doctor import project as proj
from pitfall_lab.doctor.checks._common import (COULD_NOT, FOUND, NOT_FOUND, Check, Result, Seen,
                                               at, register, where)


@register(needs={"load", "migrations", "source"}, schema="S30")
def schema_follows_models(seen: Seen, schema: Check) -> list[Result]:
    folder = proj.migrations_folder(seen.project)
    if folder:
        return [migrated(seen.migrated or {}, folder, schema, seen.project)]
    created = [s for s in seen.load["statements"]
               if s["ddl"] and s["sql"].upper().startswith("CREATE TABLE")]
    if not created:
        return [Result(schema, NOT_FOUND, "no migrations, and no table created while the app "
                                          "loads")]
    first = at(created[0]["at"])
    return [Result(schema, FOUND, f"the app creates its {len(created)} table(s) while it loads "
                                  "(create_all() at start-up) and has no migrations: a column "
                                  "added to a model later never reaches a table that exists",
                   [f"{where(at(s['at']))}: {s['sql']}" for s in created[:3]], first)]


def migrated(seen: dict, folder: str, schema: Check, project) -> Result:
    error = seen.get("error")
    if error or "migrations" not in seen:
        line = error["line"] if error else f"flask db upgrade exited {seen.get('exit', '?')}"
        return Result(schema, COULD_NOT, f"the migrations in {folder}/ did not run on a fresh "
                                         f"database: {line}")
    ran = seen["migrations"]
    if "skipped" in ran:
        return Result(schema, COULD_NOT, f"{folder}/ is there, but {ran['skipped']}")
    if not ran["missing"]:
        return Result(schema, NOT_FOUND, f"flask db upgrade on a fresh database makes every table "
                                         f"and column the models map ({folder}/)")
    return Result(schema, FOUND, f"flask db upgrade on a fresh database leaves out "
                                 f"{len(ran['missing'])} table(s) or column(s) the models map: "
                                 "no migration makes them (flask db migrate, then upgrade)",
                  ran["missing"][:10], declared(project, ran["missing"][0], folder))


def declared(project, missing: str, folder: str) -> tuple[str, int] | None:
    """The line of the model code that declares a missing "column table.name" (an attribute
    of that name) or "table name" (its __tablename__, or a class of that name)."""
    kind, _, name = missing.partition(" ")
    attribute = name.rsplit(".", 1)[-1]
    pattern = re.compile(rf"^\s+{re.escape(attribute)}\s*[:=]" if kind == "column" else
                         rf"^\s+__tablename__\s*=\s*['\"]{re.escape(name)}['\"]|"
                         rf"^class\s+{re.escape(name)}\b", re.I)
    for rel, text in sorted(project.sources.items()):
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.search(line) and not rel.startswith(folder + "/"):
                return rel, number
    return None
