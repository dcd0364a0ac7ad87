from inventory.extensions import db


class Item(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    stock = db.Column(db.Integer, nullable=False, default=0)
