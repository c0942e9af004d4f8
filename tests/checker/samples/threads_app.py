"""Work that the app runs in threads of its own: it does not stall the event loop."""

from __future__ import annotations

import os
import shutil
import threading
import time

from flask import Flask  # error: QM101, QM102
from flask import request  # error: QM101

app = Flask(__name__)  # error: QM102
app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024  # ok: QM709


def temp_dir() -> str:  # error: QM309
    if not os.path.isdir("/tmp/books"):  # error: QM407
        os.makedirs("/tmp/books")  # error: QM407
    return "/tmp/books"


@app.post("/upload")
def upload():  # error: QM301
    folder = temp_dir()  # error: QM307
    return {"folder": folder, "name": request.form["name"]}  # error: QM201


class Updater(threading.Thread):
    def run(self) -> None:  # error: QM305
        self.do_work()  # error: QM307

    def do_work(self) -> None:  # error: QM305
        folder = temp_dir()  # error: QM307
        time.sleep(2)  # ok: QM401
        os.remove(os.path.join(folder, "update.zip"))  # ok: QM407


def sweep() -> None:  # error: QM305
    folder = temp_dir()  # error: QM307
    time.sleep(60)  # ok: QM401
    shutil.rmtree(folder)  # ok: QM407


def start_sweeper() -> None:
    threading.Thread(target=sweep, daemon=True).start()
