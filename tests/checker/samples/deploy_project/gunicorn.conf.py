bind = "0.0.0.0:8000"  # error: QM703
worker_class = "gevent"  # error: QM715
workers = 4  # ok: QM715
