from flask_wtf import FlaskForm  # error: QM501
from wtforms import StringField
from wtforms import ValidationError

from shop import User


class SignupForm(FlaskForm):
    username = StringField("username")
    email = StringField("email")

    def validate_username(self, field):  # error: QM419
        if User.query.filter_by(name=field.data).first():
            raise ValidationError("taken")

    def validate_email(self, field):  # ok: QM419
        if "@" not in field.data:
            raise ValidationError("not an address")


class Helper:
    def validate_username(self, field):  # ok: QM419 (not a form)
        return User.query.filter_by(name=field.data).first()
