"""Work handed to worker threads: it runs off the loop and does not become async."""

from flask import request  # error: QM101

from migrate import WorkerPool
from migrate import run_sync

pool = WorkerPool(2)


def body_title():  # error: QM306
    return request.get_json()["title"]  # error: QM201


def _report():  # ok: QM305
    return body_title()  # ok: QM307


async def report():
    return await pool.run(_report)


def _other():  # ok: QM305
    return body_title()  # ok: QM307


async def other():
    return await run_sync(_other)()


def direct():  # error: QM305 (also called directly, on the loop)
    return body_title()  # error: QM307


async def both():
    await run_sync(direct)()
    return direct()  # error: QM307
