from models import Account, db


def add_account(email):
    db.session.add(Account(email=email))
    db.session.commit()
    return f"added {email}"
