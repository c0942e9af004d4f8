bind = "0.0.0.0:8000"  # error: QM703
workers = 4
