from flask import Blueprint

from shop.models import Product

bp = Blueprint("products", __name__)


@bp.get("/products")
def products():
    return {"products": [p.name for p in Product.query.order_by(Product.name)]}
