"""The tables of blocking calls: functions, client constructors, annotations, methods.

Names are the dotted names calls resolve to (see :mod:`migrate.checker.symbols`);
values are the QM4xx code reported. Used by :mod:`migrate.checker.blocking`.
"""

from __future__ import annotations

_OS = (
    "remove unlink rename renames replace rmdir removedirs mkdir makedirs listdir scandir "
    "walk stat lstat chmod chown utime truncate link symlink readlink access"
)

_OS_PATH = (
    "exists lexists isfile isdir islink ismount getsize getmtime getatime getctime "
    "samefile realpath"
)

_SHUTIL = (
    "copy copy2 copyfile copyfileobj copytree move rmtree make_archive unpack_archive disk_usage"
)

_HTTP = "get post put patch delete head options request"

_SPAWN = "spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe posix_spawn posix_spawnp"


_PASSLIB_SCHEMES = (
    "bcrypt bcrypt_sha256 argon2 scrypt pbkdf2_sha1 pbkdf2_sha256 pbkdf2_sha512 "
    "sha256_crypt sha512_crypt django_pbkdf2_sha256"
)


def _names(code: str, prefix: str, names: str) -> dict[str, str]:
    return {f"{prefix}.{n}": code for n in names.split()}


FUNCTIONS: dict[str, str] = {
    "time.sleep": "QM401",
    **_names("QM402", "requests", _HTTP),
    **_names("QM402", "requests.api", _HTTP),
    **_names("QM403", "httpx", _HTTP + " stream"),
    "urllib.request.urlretrieve": "QM404",
    "urllib3.request": "QM404",
    **_names("QM405", "subprocess", "run call check_call check_output getoutput getstatusoutput"),
    **_names("QM405", "os", "system wait wait3 wait4 waitid waitpid " + _SPAWN),
    **_names("QM407", "os", _OS),
    **_names("QM407", "os.path", _OS_PATH),
    **_names("QM407", "shutil", _SHUTIL),
    **_names("QM407", "glob", "glob iglob"),
    **_names("QM414", "socket", "getaddrinfo gethostbyname gethostbyaddr getfqdn"),
    **_names("QM415", "hashlib", "pbkdf2_hmac scrypt"),
    **_names("QM415", "bcrypt", "hashpw checkpw kdf"),
    **_names("QM415", "werkzeug.security", "generate_password_hash check_password_hash"),
    **_names("QM415", "flask_bcrypt", "generate_password_hash check_password_hash"),
    **{
        f"passlib.hash.{scheme}.{method}": "QM415"
        for scheme in _PASSLIB_SCHEMES.split()
        for method in ("hash", "verify", "encrypt")
    },
}

# Constructors: (code, report the call itself). The value they return is tagged,
# and method calls on it are reported (see METHODS for the filters). Constructors
# that only build a client (``requests.Session()``, ``create_engine()``) do no I/O
# and are not reported themselves.
CONSTRUCTORS: dict[str, tuple[str, bool]] = {
    "requests.Session": ("QM402", False),
    "requests.session": ("QM402", False),
    "httpx.Client": ("QM403", False),
    "urllib.request.urlopen": ("QM404", True),
    **{
        n: ("QM404", False)
        for n in (
            "urllib3.PoolManager",
            "urllib3.HTTPConnectionPool",
            "urllib3.HTTPSConnectionPool",
            "urllib3.connection_from_url",
            "http.client.HTTPConnection",
            "http.client.HTTPSConnection",
        )
    },
    "subprocess.Popen": ("QM405", True),
    "os.popen": ("QM405", True),
    **{
        n: ("QM406", True)
        for n in (
            "builtins.open",
            "io.open",
            "io.open_code",
            "os.fdopen",
            "codecs.open",
            "gzip.open",
            "bz2.open",
            "lzma.open",
        )
    },
    **{
        n: ("QM408", False)
        for n in (
            "pathlib.Path",
            "pathlib.PosixPath",
            "pathlib.WindowsPath",
            "pathlib.Path.cwd",
            "pathlib.Path.home",
        )
    },
    "sqlite3.connect": ("QM409", True),
    **{
        n: ("QM410", True)
        for n in (
            "psycopg2.connect",
            "psycopg2.pool.SimpleConnectionPool",
            "psycopg2.pool.ThreadedConnectionPool",
            "psycopg.connect",
            "psycopg.Connection.connect",
            "psycopg_pool.ConnectionPool",
        )
    },
    **{
        n: ("QM411", True)
        for n in (
            "pymysql.connect",
            "pymysql.Connect",
            "MySQLdb.connect",
            "mysql.connector.connect",
        )
    },
    **{
        n: ("QM412", False)
        for n in (
            "redis.Redis",
            "redis.StrictRedis",
            "redis.from_url",
            "redis.Redis.from_url",
            "redis.StrictRedis.from_url",
            "redis.client.Redis",
        )
    },
    **{n: ("QM413", True) for n in ("smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP")},
    "socket.create_connection": ("QM414", True),
    "socket.socket": ("QM414", False),
    "socket.create_server": ("QM414", True),
    "argon2.PasswordHasher": ("QM415", False),
    "passlib.context.CryptContext": ("QM415", False),
    "flask_bcrypt.Bcrypt": ("QM415", False),
    **{
        n: ("QM416", False)
        for n in (
            "sqlalchemy.create_engine",
            "sqlalchemy.orm.Session",
            "sqlalchemy.orm.sessionmaker",
            "sqlalchemy.orm.scoped_session",
        )
    },
    "flask_sqlalchemy.SQLAlchemy": ("QM416", False),
}

# Parameters annotated with these classes hold a blocking client.
ANNOTATIONS: dict[str, str] = {
    "requests.Session": "QM402",
    "httpx.Client": "QM403",
    "sqlite3.Connection": "QM409",
    "sqlite3.Cursor": "QM409",
    "psycopg2.extensions.connection": "QM410",
    "psycopg2.extensions.cursor": "QM410",
    "psycopg.Connection": "QM410",
    "pymysql.connections.Connection": "QM411",
    "redis.Redis": "QM412",
    "redis.client.Redis": "QM412",
    "smtplib.SMTP": "QM413",
    "socket.socket": "QM414",
    "sqlalchemy.orm.Session": "QM416",
    "sqlalchemy.orm.session.Session": "QM416",
    "sqlalchemy.orm.scoped_session": "QM416",
    "sqlalchemy.Engine": "QM416",
    "sqlalchemy.engine.Engine": "QM416",
    "sqlalchemy.Connection": "QM416",
    "sqlalchemy.engine.Connection": "QM416",
    "sqlalchemy.orm.sessionmaker": "QM416",
    "sqlalchemy.orm.session.sessionmaker": "QM416",
}

# Flask's ``g`` (and Quart's, mapped onto Flask's names): ``g.pop("db")`` reads ``g.db``.
G_NAMES = frozenset({"flask.g", "flask.globals.g"})

# Session methods that only an SQLAlchemy session has (``requests`` sessions also have
# ``get``/``delete``/``close``): on an attribute named ``session`` whose value the
# checker cannot follow, they are taken as SQLAlchemy's when the run imports it.
ORM_METHODS = frozenset(
    {"query", "execute", "scalars", "scalar", "commit", "rollback", "flush", "merge", "refresh"}
)

# SQLAlchemy ``MetaData`` methods that run DDL on the engine passed to them (and
# Flask-SQLAlchemy's ``db.create_all()``).
BIND_METHODS = frozenset({"create_all", "drop_all", "reflect"})

PATH_IO = frozenset(
    [
        "exists",
        "is_file",
        "is_dir",
        "is_symlink",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "mkdir",
        "rmdir",
        "unlink",
        "rename",
        "replace",
        "stat",
        "lstat",
        "iterdir",
        "glob",
        "rglob",
        "touch",
        "open",
        "chmod",
        "samefile",
        "resolve",
        "owner",
        "group",
        "readlink",
        "symlink_to",
        "hardlink_to",
    ]
)

METHODS: dict[str, frozenset[str]] = {
    "QM405": frozenset({"communicate", "wait"}),
    "QM406": frozenset(
        {"read", "readline", "readlines", "write", "writelines", "flush", "truncate", "close"}
    ),
    "QM408": PATH_IO,
    "QM415": frozenset(
        {
            "hash",
            "verify",
            "verify_and_update",
            "encrypt",
            "generate_password_hash",
            "check_password_hash",
        }
    ),
    "QM416": frozenset(
        {
            "execute",
            "scalars",
            "scalar",
            "get",
            "get_one",
            "commit",
            "flush",
            "rollback",
            "refresh",
            "delete",
            "merge",
            "connect",
            "begin",
            "close",
            "stream",
            "query",
            *BIND_METHODS,
        }
    ),
}

NOT_IO = frozenset(
    {
        "pipeline",
        "set_debuglevel",
        "settimeout",
        "setblocking",
        "setsockopt",
        "fileno",
        "getsockname",
        "getpeername",
        "mount",
    }
)
