from app import create_app
from models import db

app = create_app()


def send_welcome(user):
    with app.app_context():
        return f"welcome sent to {user.name}"


def send_digest(user):
    with app.app_context():
        titles = [post.title for post in user.posts]
        return f"digest sent to {user.name}: {titles}"


def rename_user(user, name):
    with app.app_context():
        user.name = name
        db.session.commit()
        return f"user {user.id} renamed to {name}"
