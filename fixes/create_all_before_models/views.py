from flask import Blueprint

from models import User

bp = Blueprint("users", __name__)


@bp.route("/users")
def list_users():
    return {"users": [user.name for user in User.query.order_by(User.id)]}
