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


def unowned(files: dict[str, str]) -> list[str]:
    trees = [(rel, ast.parse(source)) for rel, source in files.items()]
    return config.Extensions(trees).never_initialised()


FACTORY = {
    "app/__init__.py": "from .extensions import db, migrate\n"
                       "def create_app():\n    app = Flask(__name__)\n    db.init_app(app)\n"
                       "    migrate.init_app(app, db)\n    return app\n",
    "app/extensions.py": "db = SQLAlchemy()\nmigrate = Migrate()\n",
    "app/models.py": "from .extensions import db\nclass User(db.Model):\n    pass\n",
}


@pytest.mark.parametrize("files, found", [
    (FACTORY, []),
    ({**FACTORY, "app/__init__.py": FACTORY["app/__init__.py"].replace(
        "    migrate.init_app(app, db)\n", "")},
     ["app/extensions.py:2: migrate = Migrate() is never given an app and a db "
      "(migrate.init_app(app, db)): flask db is not registered"]),
    # The module imported, the object reached through it.
    ({"app.py": "import extensions\napp = Flask(__name__)\nextensions.db.init_app(app)\n"
                "extensions.migrate.init_app(app, extensions.db)\n",
      "extensions.py": "db = SQLAlchemy()\nmigrate = Migrate()\n"}, []),
    # Flask-Migrate initialises only when given both.
    ({"app.py": "app = Flask(__name__)\ndb = SQLAlchemy(app)\nmigrate = Migrate(app)\n"},
     ["app.py:3: migrate = Migrate(app) is never given an app and a db "
      "(migrate.init_app(app, db)): flask db is not registered"]),
    ({"app.py": "app = Flask(__name__)\ndb = SQLAlchemy(app)\nmigrate = Migrate(app, db)\n"},
     []),
    # Two instances, each on its own app (S05's look), or one never initialised but alone.
    ({"a.py": "db = SQLAlchemy(app_a)\nclass A(db.Model): pass\n",
      "b.py": "db = SQLAlchemy(app_b)\nclass B(db.Model): pass\n"}, []),
    ({"a.py": "db = SQLAlchemy()\nclass A(db.Model): pass\n"}, []),
    ({"app.py": "from flask_sqlalchemy import SQLAlchemy\nfrom models import User\n"
                "db = SQLAlchemy(app)\n",
      "models.py": "db = SQLAlchemy()\nclass User(db.Model): pass\n"},
     ["models.py:1: db = SQLAlchemy() declares User and no app initialises it "
      "(the app's instance: app.py:3)"]),
    # A test's own instance is the test's business.
    ({"app.py": "db = SQLAlchemy(app)\n",
      "tests/test_models.py": "db = SQLAlchemy()\nclass T(db.Model): pass\n"}, []),
], ids=["factory", "factory-without-migrate", "module-attribute", "migrate-app-only",
        "migrate-app-db", "two-apps", "one-instance", "models-instance", "test-instance"])
def test_extension_objects_no_app_initialises(files, found):
    assert unowned(files) == found


ALWAYS = ("repro-second_instance", "repro-migrate_never_initialised")


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(variant.path).results if r.check.scenario == S.id]
    if variant.kind == "fix":
        assert result.verdict == "not found", result.message
        assert result.message.startswith("no SQLALCHEMY_* setting"), result.message
    elif str(variant) in ALWAYS:  # wrong on every version
        assert result.verdict == "found", result.message
        assert result.message == "1 extension object(s) no app initialises"
    elif S.affected("start the app"):  # Flask-SQLAlchemy 3
        assert result.verdict == "found", result.message
        assert "never reads" in result.message
    else:
        assert result.verdict == "not found", result.message
        assert "still reads; on flask-sqlalchemy>=3 they are ignored" in result.message


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
def test_objects_are_not_followed_past_a_file_that_does_not_parse(tmp_path):
    from pitfall_lab import doctor

    (tmp_path / "extensions.py").write_text("db = SQLAlchemy()\nmigrate = Migrate()\n")
    # A template's placeholder: the init_app calls in this file cannot be seen.
    (tmp_path / "app.py").write_text("from {{name}}.extensions import db, migrate\n")
    (result,) = [r for r in doctor.examine(tmp_path).results if r.check.scenario == S.id]
    assert (result.verdict, result.message.rsplit(", and ", 1)[1]) == (
        "not found", "extension objects not followed: 1 file(s) do not parse (app.py)")
