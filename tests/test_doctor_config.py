"""The doctor's static check for Flask-SQLAlchemy settings given after init
(pitfall_lab/doctor/checks/config.py): each late setting it must name, each look-alike it must
leave alone, and on the scenario's own repros and fixes the verdict the installed version gives."""
import ast

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks import config
from pitfall_lab.guard import observe

S = scenario.load("config_after_init")


def late(source: str, factories=("create_app",)):
    return [(key, what) for _, key, _, what in
            config.late_settings(ast.parse(source), set(factories))]


@pytest.mark.parametrize("source, found", [
    ("db = SQLAlchemy(app)\napp.config['SQLALCHEMY_DATABASE_URI'] = url",
     [("SQLALCHEMY_DATABASE_URI", "SQLAlchemy()")]),
    ("db.init_app(app)\napp.config.update({'SQLALCHEMY_ECHO': True, 'DEBUG': 1})",
     [("SQLALCHEMY_ECHO", "init_app()")]),
    ("def app():\n    a = create_app()\n    a.config.update(TESTING=True, "
     "SQLALCHEMY_DATABASE_URI='sqlite://')\n    yield a",
     [("SQLALCHEMY_DATABASE_URI", "create_app()")]),
    ("app.config['SQLALCHEMY_DATABASE_URI'] = url\ndb = SQLAlchemy(app)", []),
    ("db = SQLAlchemy(app)\napp.config['SECRET_KEY'] = 'x'", []),
    ("db = SQLAlchemy(app)\nother.config['SQLALCHEMY_DATABASE_URI'] = url", []),
    ("a = create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\na.config['TESTING'] = True", []),
    # Two blocks: the init in one function, the setting in another, is not an order.
    ("def f():\n    db.init_app(app)\ndef g():\n    app.config['SQLALCHEMY_ECHO'] = 1", []),
], ids=["module", "update-dict", "fixture", "before", "other-key", "other-app", "factory-arg",
        "two-functions"])
def test_one_snippet(source, found):
    assert late(source) == found


def test_a_factory_is_any_function_that_initialises_the_extension():
    trees = [("app.py", ast.parse("def build():\n    app = Flask(__name__)\n"
                                  "    db.init_app(app)\n    return app"))]
    assert "build" in config._factories(trees)


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(variant.path).results if r.check.scenario == S.id]
    if variant.kind == "fix":
        assert result.verdict == "not found", result.message
        assert result.message.startswith("no SQLALCHEMY_* setting"), result.message
    elif S.affected("start the app"):  # Flask-SQLAlchemy 3
        assert result.verdict == "found", result.message
        assert "never reads" in result.message
    else:
        assert result.verdict == "not found", result.message
        assert "still reads; on flask-sqlalchemy>=3 they are ignored" in result.message
