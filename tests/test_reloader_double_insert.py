"""S01: import-time seeding runs twice under the debug reloader: once in the watcher process,
once in the child that serves."""
import json
import sqlite3

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, web

S = scenario.load("reloader_double_insert")
SEED_ON_IMPORT = S.variant("repro-seed_on_import")


@pytest.fixture
def app_env(tmp_path):
    """A file SQLite database in the test's temp dir and a free loopback port."""
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "PORT": str(procs.free_port()),
            "FLASK_APP": "app"}


def users_in(env) -> int:
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as con:
        count = con.execute("SELECT count(*) FROM user").fetchone()[0]
    con.close()
    return count


def get_users(env) -> str:
    """'200 <compact JSON>' or the error status (debug mode pretty-prints JSON)."""
    status, body = web.get(f"http://127.0.0.1:{env['PORT']}/users")
    return f"{status} {json.dumps(json.loads(body), separators=(',', ':'))}" if status == 200 \
        else str(status)


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_python_app_py_seeds_twice_and_the_child_dies(variant, tmp_path, app_env, observe):
    result = procs.python("app.py", cwd=variant.copy_to(tmp_path), env=app_env, timeout=30)
    lines = result.stderr.splitlines()
    restart = next(i for i, line in enumerate(lines) if "Restarting with" in line)
    error = lines.index(result.exception)
    assert restart < error
    assert observe(f"{lines[restart]}\n{result.exception}") == S.symptom("python app.py")
    assert result.returncode == 1  # the reloader exits with its child's status
    assert users_in(app_env) == 1  # the watcher's insert; the child's failed


@pytest.mark.parametrize("variant", [SEED_ON_IMPORT], ids=str)
def test_flask_run_debug_keeps_serving_500s(variant, tmp_path, app_env, dev_server, observe):
    server = dev_server(["flask", "run", "--port", app_env["PORT"]],
                        cwd=variant.copy_to(tmp_path), env={**app_env, "FLASK_DEBUG": "1"})
    server.wait_for_log(r"Debugger PIN")  # the reloader's child is serving
    answer = get_users(app_env)
    # Flask 2+ imports the app before serving; Flask 1 on the first request, in the background.
    server.wait_for_log(r"^sqlalchemy\.exc\.IntegrityError")
    error = procs.exception_lines(server.log)[-1]  # the child's import, after the watcher's
    assert server.lines.index(error) > server.lines.index(" * Restarting with stat")
    assert observe(f"{error}\nGET /users -> {answer}") == S.symptom("FLASK_DEBUG=1 flask run")
    assert users_in(app_env) == 1


@pytest.mark.parametrize("variant", [S.variant("fix-reloader_guard"), S.variant("fix-no_reloader")],
                         ids=str)
def test_python_app_py_seeds_once_and_serves(variant, tmp_path, app_env, dev_server, observe):
    server = dev_server(["python", "app.py"], cwd=variant.copy_to(tmp_path), env=app_env)
    server.wait_for_log(rf"Running on http://127\.0\.0\.1:{app_env['PORT']}")
    if variant.name == "reloader_guard":
        server.wait_for_log(r"Debugger PIN")  # the child, which seeds, is serving
    assert observe(f"GET /users -> {get_users(app_env)}") == 'GET /users -> 200 {"users":["admin"]}'
    assert "Restarting with" in server.log if variant.name == "reloader_guard" else \
        "Restarting with" not in server.log
    assert "Traceback" not in server.log
    assert users_in(app_env) == 1


@pytest.mark.parametrize("variant", [S.variant("fix-reloader_guard")], ids=str)
def test_catch_the_guard_never_seeds_without_the_reloader(variant, tmp_path, app_env,
                                                           dev_server, observe):
    """Plain `flask run` (or gunicorn) has no reloader child: the guarded block never runs."""
    server = dev_server(["flask", "run", "--port", app_env["PORT"]],
                        cwd=variant.copy_to(tmp_path), env=app_env)
    server.wait_for_log(rf"Running on http://127\.0\.0\.1:{app_env['PORT']}")
    assert observe(f"GET /users -> {get_users(app_env)}") == "GET /users -> 500"
    assert server.wait_for_log(r"OperationalError.*no such table: user")


@pytest.mark.parametrize("variant", [S.variant("fix-init_db_command")], ids=str)
def test_init_db_is_idempotent_and_the_debug_server_serves(variant, tmp_path, app_env,
                                                            dev_server, observe):
    app_dir = variant.copy_to(tmp_path)
    for _ in range(2):
        result = procs.run(["flask", "init-db"], cwd=app_dir, env=app_env)
        assert (result.returncode, result.exception) == (0, None), result.stderr
    server = dev_server(["flask", "run", "--port", app_env["PORT"]],
                        cwd=app_dir, env={**app_env, "FLASK_DEBUG": "1"})
    server.wait_for_log(r"Debugger PIN")
    assert observe(f"GET /users -> {get_users(app_env)}") == 'GET /users -> 200 {"users":["admin"]}'
    assert "Traceback" not in server.log
    assert users_in(app_env) == 1
