"""S02: app.py and models.py import each other; the fix moves db into its own module."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, web

S = scenario.load("circular_import")


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_python_app_py_fails_to_import(variant, tmp_path, observe):
    result = procs.python("app.py", cwd=variant.copy_to(tmp_path))
    assert result.returncode == 1
    assert observe(result.exception) == S.symptom("python app.py")


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_flask_cli_fails_to_import(variant, tmp_path, observe):
    result = procs.run(["flask", "routes"], cwd=variant.copy_to(tmp_path),
                       env={"FLASK_APP": "app"})
    assert result.returncode == 2
    assert observe("\n".join(result.exceptions)) == S.symptom("FLASK_APP=app flask routes")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_python_app_py_serves_users(variant, tmp_path, dev_server, observe):
    port = procs.free_port()
    server = dev_server(["python", "app.py"], cwd=variant.copy_to(tmp_path), env={"PORT": str(port)})
    server.wait_for_log(rf"Running on http://127\.0\.0\.1:{port}")
    status, body = web.get(f"http://127.0.0.1:{port}/users")
    observe(f"GET /users -> {status} {body.strip()}")
    assert (status, body.strip()) == (200, '{"users":[]}')


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_flask_cli_lists_the_users_route(variant, tmp_path, observe):
    result = procs.run(["flask", "routes"], cwd=variant.copy_to(tmp_path),
                       env={"FLASK_APP": "app"})
    assert result.returncode == 0, result.stderr
    routes = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines()[2:]}
    observe(f"routes: {routes}")
    assert routes == {"static": "/static/<path:filename>", "users": "/users"}
