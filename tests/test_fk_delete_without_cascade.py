"""S24: a user with two posts is deleted through the app's own view. What happens to the posts
depends on the relationship's cascade, on how the view deletes, and on whether the database
enforces the foreign key (SQLite does not, unless each connection asks it to)."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, sql

S = scenario.load("fk_delete_without_cascade")

DELETE = """
from app import Post, User, create_app, db

app = create_app()
app.testing = True  # the view's exception reaches the client
with app.app_context():
    db.create_all()
    db.session.add(User(id=1, name="ada", posts=[Post(title="notes"), Post(title="engine")]))
    db.session.commit()
try:
    response = app.test_client().delete("/users/1")
    print(f"{response.status_code} {response.get_json()}")
except Exception as exc:
    print(f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
"""


def delete_ada(variant, tmp_path, url) -> str:
    deleted = procs.python("-c", DELETE, cwd=variant.copy_to(tmp_path),
                           env={"DATABASE_URL": url})
    assert deleted.returncode == 0, deleted.stderr
    user = "`user`" if url.startswith("mysql") else '"user"'  # a reserved word, quoted
    users = sql.scalars(url, f"SELECT name FROM {user}")
    posts = sql.scalars(url, "SELECT user_id FROM post ORDER BY id")
    # MySQL's foreign key message names the database, which is a new one per test.
    outcome = deleted.stdout.strip().replace(f"`{url.rsplit('/', 1)[1]}`", "`<database>`")
    return (f"DELETE /users/1: {outcome}\n"
            f"users left: {users}\nposts left: {len(posts)}, their user_id: {posts}")


# SQLite, which enforces no foreign key unless asked; PostgreSQL and MariaDB, which do.
DATABASES = pytest.mark.parametrize("database_url", ["sqlite", "postgresql", "mariadb"],
                                    indirect=True)


@DATABASES
@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_deleting_a_user_leaves_their_posts_or_fails(variant, database_url, dialect,
                                                     tmp_path, observe):
    assert observe(delete_ada(variant, tmp_path, database_url)) == \
        S.symptom("delete ada", variant=variant, database_url=dialect)


@DATABASES
@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_deleting_a_user_deletes_their_posts(variant, database_url, tmp_path, observe):
    assert observe(delete_ada(variant, tmp_path, database_url)) == (
        "DELETE /users/1: 200 {'deleted': 1}\nusers left: []\nposts left: 0, their user_id: []")
