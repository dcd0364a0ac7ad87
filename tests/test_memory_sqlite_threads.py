"""S17: an in-memory SQLite database created at start-up, read from the development server's
request threads: every thread's connection is a new, empty database."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, web

S = scenario.load("memory_sqlite_threads")


def serve_two_requests(variant, tmp_path, dev_server) -> tuple[procs.LiveProcess, list[str]]:
    """`flask run` (threaded: a thread per request) and two GET /users, one after the other."""
    port = procs.free_port()
    server = dev_server(["flask", "run", "--port", str(port)], cwd=variant.copy_to(tmp_path),
                        env={"FLASK_APP": "app"})
    server.wait_for_log(rf"Running on http://127\.0\.0\.1:{port}")
    answers = []
    for _ in range(2):
        status, body = web.get(f"http://127.0.0.1:{port}/users")
        answers.append(f"GET /users -> {status} {body.strip()}" if status == 200 else
                       f"GET /users -> {status}")
    return server, answers


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_each_request_thread_finds_an_empty_database(variant, tmp_path, dev_server, observe):
    server, answers = serve_two_requests(variant, tmp_path, dev_server)
    server.wait_for_log(r"^sqlalchemy\.exc\.OperationalError", count=2)  # one per request
    errors = [line for line in procs.exception_lines(server.log)
              if line.startswith("sqlalchemy.exc.")]
    assert observe("\n".join([*answers, errors[-1]])) == S.symptom("two requests")
    assert len(errors) == 2


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_every_thread_shares_the_one_database(variant, tmp_path, dev_server, observe):
    server, answers = serve_two_requests(variant, tmp_path, dev_server)
    assert observe("\n".join(answers)) == "\n".join(
        ['GET /users -> 200 {"users":["ada","grace"]}'] * 2)
    assert "Traceback" not in server.log
