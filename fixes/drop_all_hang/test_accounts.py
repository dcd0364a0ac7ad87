from app import Account, db


def test_add_account(app):
    db.session.add(Account(email="ada@example.com"))
    db.session.commit()
    assert Account.query.count() == 1
