import os

from flask import Flask

from shop.extensions import db


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///shop.db")
    db.init_app(app)
    from shop.views import catalogue, orders

    app.register_blueprint(catalogue.bp)
    app.register_blueprint(orders.bp)
    with app.app_context():
        # A common shortcut: make the tables and a default product whenever the app starts.
        db.create_all()
        from shop.models import Product

        if db.session.scalar(db.select(Product).limit(1)) is None:
            db.session.add(Product(name="gift card"))
            db.session.commit()
    return app
