import pytest

from app import User, create_app, db


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}"})
    with app.app_context():
        db.create_all()
        yield app
        db.drop_all()


def test_sign_up(app):
    response = app.test_client().post("/users", json={"name": "tester"})
    assert response.status_code == 201
    assert User.query.filter_by(name="tester").count() == 1
