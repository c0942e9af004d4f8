#!/bin/sh
export FLASK_APP=shop  # error: QM718
python -m flask run --host=0.0.0.0  # error: QM719
exec gunicorn --worker-class=gevent shop:app  # error: QM715
echo "gunicorn.conf.py is read by gunicorn-tools"  # ok: QM703
exec hypercorn shop:app  # ok: QM703, QM719
echo "$FLASK_APPLICATION_ROOT"  # ok: QM718
