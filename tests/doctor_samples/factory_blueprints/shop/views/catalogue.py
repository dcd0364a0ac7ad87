from flask import Blueprint

from shop.extensions import db
from shop.models import Product

bp = Blueprint("catalogue", __name__, url_prefix="/products")


@bp.get("/")
def index():
    return {"products": [p.name for p in db.session.scalars(db.select(Product))]}
