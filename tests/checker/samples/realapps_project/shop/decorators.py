from flask import redirect  # error: QM101
from flask import session  # error: QM101, QM721


def login_required(f):
    def wrapper(*args, **kwargs):  # error: QM304
        if "uid" not in session:
            return redirect("/login")
        return f(*args, **kwargs)  # error: QM307

    wrapper.__name__ = f.__name__
    return wrapper


def role_required(role):
    def decorator(view):  # ok: QM304
        def inner(*args, **kwargs):  # error: QM304
            if session.get("role") != role:
                return redirect("/")
            return view(*args, **kwargs)  # error: QM307

        inner.__name__ = view.__name__
        return inner

    return decorator


def cached(seconds):  # ok: QM304 (a factory never used on a view)
    def decorator(func):  # ok: QM304, QM305
        def inner(*args, **kwargs):  # ok: QM304
            return func(*args, **kwargs)  # ok: QM307

        return inner

    return decorator
