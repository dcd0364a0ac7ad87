from celery import shared_task

from models import db


@shared_task
def send_welcome(user):
    return f"welcome sent to {user.name}"


@shared_task
def send_digest(user):
    titles = [post.title for post in user.posts]
    return f"digest sent to {user.email}: {titles}"


@shared_task
def rename_user(user, name):
    user.name = name
    db.session.commit()
    return f"user {user.id} renamed to {name}"


@shared_task
def send_reminder(user):
    return f"reminder sent to {user.email}"
