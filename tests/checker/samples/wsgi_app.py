"""Deployment glue of a Flask app: middleware, servers, config, CLI, signals."""

from __future__ import annotations

import click
from flask import Flask  # error: QM101, QM102
from flask import appcontext_pushed  # error: QM101
from flask import g  # error: QM101
from flask import request  # error: QM101
from flask.signals import appcontext_popped  # error: QM101
from hypercorn.middleware import ProxyFixMiddleware  # ok: QM702
from waitress import serve  # error: QM703
from werkzeug.middleware.dispatcher import DispatcherMiddleware  # error: QM702
from werkzeug.middleware.proxy_fix import ProxyFix  # error: QM702
from werkzeug.serving import run_simple  # error: QM703
from werkzeug.test import Client  # error: QM706
from werkzeug.test import EnvironBuilder  # error: QM706
from werkzeug.utils import secure_filename  # ok: QM706

try:
    from gevent.pywsgi import WSGIServer  # error: QM703
except ImportError:
    WSGIServer = None
try:
    from tornado.wsgi import WSGIContainer  # error: QM703
except ImportError:
    WSGIContainer = None


class Config:
    SECRET_KEY = "dev"
    TRUSTED_HOSTS = ["books.example"]  # error: QM708
    PREFERRED_URL_SCHEME = "https"  # error: QM708
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # ok: QM709


def create_app() -> Flask:  # error: QM102
    app = Flask(__name__)  # error: QM102
    app.config.from_object(Config)
    app.config["USE_X_SENDFILE"] = True  # error: QM708
    app.config["SERVER_NAME"] = "books.example"  # ok: QM708
    app.config.update(TRUSTED_HOSTS=["a.example"])  # error: QM708
    app.config.from_mapping({"PREFERRED_URL_SCHEME": "https"})  # error: QM708
    app.config.from_prefixed_env()  # error: QM710
    app.config.from_prefixed_env(prefix="BOOKS")  # ok: QM710
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # error: QM701
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/v1": other_app})  # error: QM701
    app.asgi_app = ProxyFixMiddleware(app.asgi_app, mode="legacy")  # ok: QM701

    @app.cli.command("seed")  # error: QM711
    def seed():
        click.echo("seeded")

    @app.cli.command("report", with_appcontext=True)  # ok: QM711
    def report():
        click.echo("report")

    app.cli.add_command(seed_books)  # error: QM711
    appcontext_pushed.connect(set_user, app)  # error: QM712
    appcontext_popped.connect(async_cleanup, app)  # ok: QM712
    return app


@click.command("seed-books")
def seed_books():
    click.echo("books")


def set_user(sender, **extra):
    g.user = None


async def async_cleanup(sender, **extra):
    g.pop("user", None)


@appcontext_popped.connect_via(object())
def on_popped(sender, **extra):  # error: QM712
    g.pop("user", None)


def client_address():
    forwarded = request.environ.get("HTTP_X_FORWARDED_FOR")  # error: QM705
    return forwarded or request.remote_addr  # ok: QM705


def other_app(environ, start_response):
    builder = EnvironBuilder(path="/")  # error: QM706
    return Client(create_app()).get(builder.path)  # error: QM706


if __name__ == "__main__":
    application = create_app()
    application.run(port=5000, debug=True)  # ok: QM707  # error: QM720
    app = create_app()
    app.run(port=5000, threaded=True, ssl_context="adhoc")  # error: QM707  # ok: QM720
    serve(app, listen="*:8080")  # error: QM703
    if WSGIServer is not None:
        WSGIServer(("", 8080), app).serve_forever()  # error: QM703
    container = WSGIContainer(app)  # error: QM703
    run_simple("localhost", 5000, app)  # error: QM703
    print(secure_filename("a b"))
