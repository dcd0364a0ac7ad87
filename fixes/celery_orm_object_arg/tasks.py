from celery import shared_task

from models import User, db


@shared_task
def send_welcome(user_id):
    user = db.session.query(User).filter_by(id=user_id).first()
    return f"welcome sent to {user.name}"


@shared_task
def send_digest(user_id):
    user = db.session.query(User).filter_by(id=user_id).first()
    titles = [post.title for post in user.posts]
    return f"digest sent to {user.email}: {titles}"


@shared_task
def rename_user(user_id, name):
    user = db.session.query(User).filter_by(id=user_id).first()
    user.name = name
    db.session.commit()
    return f"user {user.id} renamed to {name}"


@shared_task
def send_reminder(user_id):
    user = db.session.query(User).filter_by(id=user_id).first()
    return f"reminder sent to {user.email}"
