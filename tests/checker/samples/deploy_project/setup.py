from setuptools import setup

setup(
    name="flaskr",  # ok: QM504
    install_requires=[
        "Flask>=3.1",  # error: QM504
        "Flask-Login",  # error: QM502
        "gevent",  # error: QM715
        "quart-auth",  # ok: QM502
    ],
    extras_require={"serve": ["waitress"]},  # error: QM704
)
