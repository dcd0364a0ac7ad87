"""S29: two background threads of a threaded app keep their database connections between jobs
(a session never removed, a connection never closed); with a pool of two, the next request
waits pool_timeout (1 s) and fails. The order is forced: one mailer is held inside the mail API's
call while the second sign-up goes to the other mailer."""
import json
import urllib.request

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, web
from pitfall_lab.harness.webhook import Webhook

S = scenario.load("pool_exhausted")


@pytest.fixture
def mail_api():
    """The mail API the mailer threads call; it holds the first call (ada's) until released."""
    hook = Webhook(hold_call=1)
    yield hook
    hook.close()


def post(url: str, payload: dict) -> int:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=procs.limit(10)) as resp:
        return resp.status


def two_sign_ups_then_a_list(variant, tmp_path, database_url, dev_server, mail_api):
    """`flask run` (a thread per request): ada signs up, and while one mailer is inside the mail
    API's call for ada, grace signs up and the other mailer sends hers; then ada's mail goes
    out, and GET /users asks the pool for a connection."""
    app_dir = variant.copy_to(tmp_path)
    env = {"FLASK_APP": "app", "DATABASE_URL": database_url, "MAIL_API": mail_api.url}
    init = procs.run(["flask", "init-db"], cwd=app_dir, env=env, timeout=60)
    if init.returncode != 0:  # the app's engine options refused: it never serves
        assert init.exception, init.stderr
        return None, [f"flask init-db: {init.exception}"]
    port = procs.free_port()
    server = dev_server(["flask", "run", "--port", str(port)], cwd=app_dir, env=env)
    server.wait_for_log(rf"Running on http://127\.0\.0\.1:{port}")
    base = f"http://127.0.0.1:{port}"
    seen = [f"POST /users ada: {post(base + '/users', {'name': 'ada'})}"]
    assert mail_api.held.wait(procs.limit(15)), "no mailer called the mail API for ada"
    seen.append(f"POST /users grace: {post(base + '/users', {'name': 'grace'})}")
    seen.append(server.wait_for_log(r"^INFO:mailer:welcome mail sent to grace$")[0])
    mail_api.release.set()
    seen.append(server.wait_for_log(r"^INFO:mailer:welcome mail sent to ada$")[0])
    status, body = web.get(base + "/users")
    seen.append(f"GET /users: {status}" + (f" {body.strip()}" if status == 200 else ""))
    return server, seen


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_mailers_keep_the_pool_and_the_next_request_times_out(
        variant, tmp_path, database_url, dialect, dev_server, mail_api, observe):
    server, seen = two_sign_ups_then_a_list(variant, tmp_path, database_url, dev_server,
                                            mail_api)
    errors = []
    if seen[-1] == "GET /users: 500":
        server.wait_for_log(r"^sqlalchemy\.exc\.")
        errors = [line for line in procs.exception_lines(server.log)
                  if line.startswith("sqlalchemy.exc.")]
    assert observe("\n".join(seen + errors)) == S.symptom("list after two sign-ups",
                                                          database_url=dialect)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_next_request_gets_a_connection(variant, tmp_path, database_url, dev_server,
                                            mail_api, observe):
    server, seen = two_sign_ups_then_a_list(variant, tmp_path, database_url, dev_server,
                                            mail_api)
    assert observe("\n".join(seen)) == (
        "POST /users ada: 201\n"
        "POST /users grace: 201\n"
        "INFO:mailer:welcome mail sent to grace\n"
        "INFO:mailer:welcome mail sent to ada\n"
        'GET /users: 200 {"users":["ada","grace"]}')
    assert "Traceback" not in server.log
