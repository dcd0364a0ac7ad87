"""The doctor's check for parent deletes (pitfall_lab/doctor/checks/deletes.py): the load probe
reads each one-to-many relationship of the loaded models, the source says where the project
deletes rows; on the scenario's own repros and fixes, and on variations of them."""
import shutil

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks import deletes
from pitfall_lab.guard import observe

S = scenario.load("fk_delete_without_cascade")
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))


def verdict(path):
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(path).results if r.check.scenario == S.id]
    return result


@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    result = verdict(variant.path)
    if variant.kind == "repro":
        assert result.verdict == "found", result.message
        assert result.message.startswith("User.posts: no delete cascade and no ON DELETE")
        assert result.location == ("app.py", 12)  # posts = db.relationship("Post", ...)
    else:
        assert (result.verdict, result.message) == (
            "not found", "each of 1 one-to-many relationship(s) deletes or handles its children, "
                         "or its parent is never deleted")


def edited(tmp_path, variant, old, new):
    project = shutil.copytree(S.variant(variant).path, tmp_path / "app")
    text = (project / "app.py").read_text()
    assert old in text
    (project / "app.py").write_text(text.replace(old, new))
    return project


def test_a_bulk_delete_skips_the_orms_cascade(tmp_path):
    project = edited(tmp_path, "fix-cascade", "        user = User.query.get_or_404(user_id)\n"
                     "        db.session.delete(user)\n",
                     "        User.query.filter_by(id=user_id).delete()\n")
    result = verdict(project)
    assert result.verdict == "found"
    assert result.message.startswith("User.posts: a delete cascade in the ORM only, which a "
                                     "bulk delete skips")


def test_on_delete_is_not_enforced_by_sqlite_without_the_pragma(tmp_path):
    project = edited(tmp_path, "fix-ondelete",
                     'dbapi_connection.execute("PRAGMA foreign_keys=ON")', "pass")
    assert verdict(project).verdict == "found"


def test_a_project_that_deletes_nothing(tmp_path):
    project = edited(tmp_path, "repro-relationship_default",
                     "        user = User.query.get_or_404(user_id)\n"
                     "        db.session.delete(user)\n", "")
    assert verdict(project).message == ("1 one-to-many relationship(s), and the project deletes "
                                        "no row")


def test_a_delete_of_another_model_is_not_a_parents(tmp_path):
    project = edited(tmp_path, "repro-relationship_default",
                     "        user = User.query.get_or_404(user_id)\n"
                     "        db.session.delete(user)\n",
                     "        db.session.delete(db.get_or_404(Post, user_id))\n")
    assert verdict(project).message == ("each of 1 one-to-many relationship(s) deletes or "
                                        "handles its children, or its parent is never deleted")


def test_a_delete_that_handles_the_children_itself(tmp_path):
    project = edited(tmp_path, "repro-relationship_default",
                     "        db.session.delete(user)\n",
                     "        for post in user.posts:  # kept, under the archive account\n"
                     "            post.author = User.query.filter_by(name='archive').one()\n"
                     "        db.session.delete(user)\n")
    assert verdict(project).verdict == "not found"


@pytest.mark.parametrize("line, found", [
    ("    db.session.delete(user)", [("orm", False)]),  # names no class
    ("    User.query.filter_by(id=1).delete()", [("bulk", True)]),
    ("    Post.query.filter(Post.user_id == 1).delete(synchronize_session=False)",
     [("bulk", False)]),
    ("    db.session.execute(delete(User).where(User.id == 1))", [("bulk", True)]),
    ("    User.query.get_or_404(1).delete()", []),  # the model's own method
    ("    # db.session.delete(user)", []),
    ("    cache.delete(key)", []),
])
def test_where_the_source_deletes(line, found):
    class Project:
        sources = {"app.py": line + "\n", "tests/test_app.py": "db.session.delete(u)\n"}
    assert [(kind, "User" in names) for _, kind, names in deletes.deletes(Project)] == found
