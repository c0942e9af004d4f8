bind = "0.0.0.0:8000"  # ok: QM703
worker_class = "uvicorn.workers.UvicornWorker"
