import os

from quart import Quart  # ok: QM101, QM102


def create_app(test_config=None):
    """Create and configure an instance of the Quart application."""
    app = Quart(__name__, instance_relative_config=True)  # ok: QM102, QM709
    app.config.from_mapping(
        SECRET_KEY="dev",  # ok: QM708
        DATABASE=os.path.join(app.instance_path, "flaskr.sqlite"),  # ok: QM407
        MAX_CONTENT_LENGTH=1024 * 1024,  # ok: QM709
    )

    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)  # ok: QM406
    else:
        app.config.update(test_config)  # ok: QM708

    try:
        os.makedirs(app.instance_path)  # ok: QM407
    except OSError:
        pass

    @app.route("/hello")
    async def hello():  # ok: QM301
        return "Hello, World!"

    from . import db

    db.init_app(app)  # ok: QM307

    from . import auth
    from . import blog

    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    app.add_url_rule("/", endpoint="index")  # ok: QM301

    return app
