import uuid

from sqlalchemy import func

from .database import db


def uuid_str():
    return str(uuid.uuid4())


class TokenBlocklist(db.Model):
    id = db.Column(db.String(36), primary_key=True, default=uuid_str)
    jti = db.Column(db.String(36), nullable=False, index=True)
    type = db.Column(db.String(10), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, server_default=func.now(), index=True)
