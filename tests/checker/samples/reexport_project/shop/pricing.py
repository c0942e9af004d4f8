def price(item):  # ok: QM305, QM309
    return item.get("price", 0) * item.get("quantity", 1)  # ok: QM407
