"""The data layer the report script and the admin commands share: each function opens the app
context it needs, and returns plain data read inside it: a model instance outlives neither."""
from app import User, create_app, db

app = create_app()


def get_user(user_id):
    with app.app_context():
        user = User.query.get(user_id)
        return {"name": user.name, "posts": [post.title for post in user.posts]}


def rename_user(user_id, name):
    with app.app_context():
        user = User.query.get(user_id)
        user.name = name
        db.session.commit()
        return {"name": user.name}
