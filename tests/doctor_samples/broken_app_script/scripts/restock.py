"""Refill every item's stock; cron runs it by path every night."""
from inventory import create_app
from inventory.extensions import db
from inventory.models import Item

if __name__ == "__main__":
    with create_app().app_context():
        for item in Item.query.all():
            item.stock = 100
        db.session.commit()
