# migrate: noqa
from flask import Flask  # ok: QM101

app = Flask(__name__)  # ok: QM102
