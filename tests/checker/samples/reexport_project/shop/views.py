from flask import Blueprint  # error: QM101

import shop
from shop import load_cart

bp = Blueprint("cart", __name__)


def cart_summary():  # error: QM305
    cart = shop.load_cart()  # error: QM307
    return {"total": shop.cart_total(cart)}  # ok: QM307


@bp.get("/cart")
def show_cart():  # error: QM301
    return {"raw": load_cart(), "summary": cart_summary()}  # error: QM307
