from flask import session  # error: QM101, QM721

from . import pricing


def load_cart():  # error: QM309
    with open(f"/srv/carts/{session['cart']}.json") as f:  # error: QM406
        return f.read()  # error: QM406


def cart_total(cart):  # ok: QM305
    return sum(pricing.price(item) for item in cart)  # ok: QM307
