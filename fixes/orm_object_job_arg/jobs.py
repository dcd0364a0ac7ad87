from app import create_app
from models import User, db

app = create_app()


def send_welcome(user_id):
    with app.app_context():
        user = db.session.query(User).filter_by(id=user_id).first()
        return f"welcome sent to {user.name}"


def send_digest(user_id):
    with app.app_context():
        user = db.session.query(User).filter_by(id=user_id).first()
        titles = [post.title for post in user.posts]
        return f"digest sent to {user.name}: {titles}"


def rename_user(user_id, name):
    with app.app_context():
        user = db.session.query(User).filter_by(id=user_id).first()
        user.name = name
        db.session.commit()
        return f"user {user.id} renamed to {name}"
