import logging

from flask import Flask  # error: QM101, QM102
from flask_cors import CORS  # error: QM501
from flask_login import LoginManager  # error: QM501
from flask_sqlalchemy import SQLAlchemy  # error: QM501
from flask_talisman import Talisman  # error: QM501
from gevent import monkey

monkey.patch_all()  # error: QM715
monkey.patch_all  # ok: QM715

app = Flask(__name__)  # error: QM102
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # ok: QM709
CORS(app)  # error: QM505
login_manager = LoginManager()  # error: QM505
login_manager.init_app(app)  # error: QM505
login_manager.login_view = "login"  # ok: QM505
db = SQLAlchemy(app)  # error: QM505
Talisman(app, content_security_policy=None)  # error: QM505
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # error: QM716
logging.getLogger("hypercorn.access").setLevel(logging.ERROR)  # ok: QM716
logging.getLogger(__name__).info("ready")  # ok: QM716


@login_manager.user_loader  # error: QM505
def load_user(user_id):
    return User.query.get(int(user_id))  # ok: QM416 (not reached from a view)


@login_manager.login_view_hook  # ok: QM505
def other():
    return None


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)

    def save(self):  # error: QM309
        db.session.add(self)
        db.session.commit()  # error: QM416 (called from a view)


from shop import views  # noqa: E402


from flask_restful import reqparse  # error: QM501
from flask_wtf import FlaskForm  # error: QM501
from flask_wtf.file import FileField  # error: QM501
from flask_wtf.file import FileRequired  # error: QM501


class UploadForm(FlaskForm):
    photo = FileField("photo", validators=[FileRequired()])  # ok: QM505
    other = FileField()  # ok: QM505


parser = reqparse.RequestParser(bundle_errors=True)  # ok: QM505
