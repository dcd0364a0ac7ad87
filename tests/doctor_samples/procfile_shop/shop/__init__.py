from flask import Flask

from shop.extensions import db


def create_app(config_object):
    app = Flask(__name__)
    app.config.from_object(config_object)
    db.init_app(app)
    from shop.models import Product

    with app.app_context():
        db.create_all()
        if Product.query.filter_by(name="gift card").first() is None:
            db.session.add(Product(name="gift card"))
            db.session.commit()

    @app.route("/products")
    def products():
        return {"products": [p.name for p in Product.query.all()]}

    return app
