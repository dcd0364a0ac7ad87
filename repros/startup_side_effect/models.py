from base import db


class SystemLog(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    timestamp = db.Column(db.Integer, nullable=False)
    description = db.Column(db.String(200), nullable=False)
