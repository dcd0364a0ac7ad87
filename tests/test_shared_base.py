"""S05: two SQLAlchemy instances given one declarative base; the last one owns Model.query."""
import json

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("shared_base")

# Runs in a fresh interpreter next to the variant's apps.py: each app gets its own rows, then
# GET /a and GET /b run in the seed's order (testing=True lets errors propagate, as in its unit
# tests), and last we ask whose scoped session A.query returned, without creating any session.
PROBE = """
import json
from apps import A, B, app_a, app_b, db_a, db_b

for app, db, model, prefix in ((app_a, db_a, A, "a"), (app_b, db_b, B, "b")):
    app.testing = True
    with app.app_context():
        db.create_all()
        db.session.add_all([model(content=f"{prefix}{i}") for i in range(3)])
        db.session.commit()

def get(app, url):
    try:
        response = app.test_client().get(url)
        return f"{response.status_code} {response.get_json()}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"

seen = {"GET /a": get(app_a, "/a"), "GET /b after GET /a": get(app_b, "/b")}
with app_a.app_context():
    session = A.query.session
    owners = [name for name, db in (("db_a", db_a), ("db_b", db_b))
              if db.session.registry.has() and db.session() is session]
seen["A.query.session in app_a"] = " and ".join(f"{name}.session()" for name in owners)
print(json.dumps(seen))
"""


def probe(variant, tmp_path) -> dict:
    result = procs.python("-c", PROBE, cwd=variant.copy_to(tmp_path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_a_query_uses_db_b_session(variant, tmp_path, observe):
    seen = probe(variant, tmp_path)
    observe("\n".join(f"{k} -> {v}" for k, v in seen.items()))
    assert seen == {case: S.symptom(case) for case in seen}


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_each_app_reads_its_own_rows(variant, tmp_path, observe):
    seen = probe(variant, tmp_path)
    observe("\n".join(f"{k} -> {v}" for k, v in seen.items()))
    assert seen["GET /a"] == "200 ['a0', 'a1', 'a2']"
    assert seen["GET /b after GET /a"] == "200 ['b0', 'b1', 'b2']"
    if variant.name == "base_per_instance":
        assert seen["A.query.session in app_a"] == "db_a.session()"
