from flask import Blueprint, request

from shop.extensions import db
from shop.models import Order

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.post("/")
def create():
    order = Order(product_id=request.json["product_id"])
    db.session.add(order)
    db.session.commit()
    return {"id": order.id}, 201
