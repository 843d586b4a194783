# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL client: the shared connection options, a psycopg 3 connection, clear failures.

Option names, defaults and libpq mapping follow community.postgresql (``login_host`` ... ``connect_params``)
so users can share ``module_defaults`` between the two collections. We do not import its module_utils:
its spec carries aliases it deprecates for 5.0.0 and no ``login_db``/``connect_timeout``, its
``connect_to_db`` needs an AnsibleModule, forces client-side binding and reports the bare driver error.

Every error raised here is a PgError whose message names user, host, port and database and never the
password (any secret passed in is masked out of driver messages).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError
from ansible_collections.argoops.workflows.plugins.module_utils.libpq import SSL_MODES
from ansible_collections.argoops.workflows.plugins.module_utils.masking import MASK

try:
    import psycopg
    from psycopg import sql
    HAS_PSYCOPG = True
    PSYCOPG_IMPORT_ERROR = None
except ImportError as exc:  # guarded: the module reports missing_required_lib
    psycopg = sql = None
    HAS_PSYCOPG = False
    PSYCOPG_IMPORT_ERROR = exc

MIN_SERVER_VERSION_NUM = 90400  # Argo's migrations need PostgreSQL >= 9.4 (jsonb)
APPLICATION_NAME = "argoops.workflows"

# libpq keyword for each option; empty values are left out so libpq's own defaults (PGHOST, ~/.pgpass, ...)
# apply, as in community.postgresql.
_LIBPQ_KEYWORDS = {
    "login_host": "host",
    "login_port": "port",
    "login_user": "user",
    "login_password": "password",
    "login_db": "dbname",
    "ssl_mode": "sslmode",
    "ca_cert": "sslrootcert",
    "ssl_cert": "sslcert",
    "ssl_key": "sslkey",
    "connect_timeout": "connect_timeout",
}

# Substrings of libpq/server messages -> what the user should do. Connection errors carry no SQLSTATE
# in psycopg 3, so the text is all we have.
_CONNECT_HINTS = (
    (("password authentication failed", "no password supplied", "authentication failed"),
     "authentication failed: check login_user and login_password"),
    (("no pg_hba.conf entry",), "the server's pg_hba.conf does not allow this client/user/database"),
    (("role \"",), "the login role does not exist: check login_user"),
    (("database \"",), "the database does not exist: check login_db (archive_db creates it)"),
    (("does not match host name",), "the server's certificate does not name login_host: connect by a name (or "
     "IP address) the certificate lists, or use ssl_mode verify-ca to check only the CA"),
    (("certificate verify failed",), "the server's certificate is not signed by ca_cert (or a CA it chains to): "
     "give ca_cert the CA that issued the server's certificate"),
    (("ssl", "certificate"), "TLS negotiation failed: check ssl_mode, ca_cert, ssl_cert and ssl_key"),
    (("timeout expired",), "no answer within connect_timeout: check login_host/login_port and firewalls"),
    (("could not translate host name",), "login_host does not resolve"),
    (("connection refused", "could not connect", "no such file or directory", "is the server running"),
     "the server is unreachable: check login_host/login_port and that PostgreSQL is running"),
)


class PgError(ArgoopsError):
    """A PostgreSQL failure with a message that is safe to show (no secrets)."""


def connection_argument_spec():
    """Argument spec for the connection options (documented by the argoops.workflows.postgres fragment)."""
    return dict(
        login_host=dict(type="str", default=""),
        login_port=dict(type="int", default=5432),
        login_user=dict(type="str", default="postgres"),
        login_password=dict(type="str", default="", no_log=True),
        login_db=dict(type="str", default="postgres"),
        ssl_mode=dict(type="str", default="prefer", choices=list(SSL_MODES)),
        ca_cert=dict(type="path", aliases=["ssl_rootcert"]),
        ssl_cert=dict(type="path"),
        ssl_key=dict(type="path"),
        connect_timeout=dict(type="int", default=10),
        connect_params=dict(type="dict", default={}),
    )


def libpq_kwargs(params, dbname=None):
    """libpq keywords for ``params`` (module params); ``dbname`` overrides login_db."""
    if params.get("connect_timeout") is not None and params["connect_timeout"] < 0:
        raise PgError("connect_timeout: %r must be 0 (wait forever) or a number of seconds"
                      % params["connect_timeout"])
    kwargs = dict((_LIBPQ_KEYWORDS[k], v) for k, v in params.items()
                  if k in _LIBPQ_KEYWORDS and v not in ("", None))
    if dbname:
        kwargs["dbname"] = dbname
    kwargs["application_name"] = APPLICATION_NAME
    kwargs.update(params.get("connect_params") or {})
    return kwargs


def describe(kwargs):
    """'user "u" at host:port, database "d"' -- how every message names the target."""
    return 'user "%s" at %s:%s, database "%s"' % (
        kwargs.get("user", "(libpq default)"), kwargs.get("host", "(local socket)"),
        kwargs.get("port", 5432), kwargs.get("dbname", "(libpq default)"))


def mask_secrets(text, secrets):
    """``text`` with every non-empty secret replaced by a mask."""
    for secret in secrets:
        if secret:
            text = text.replace(str(secret), MASK)
    return text


def _secrets(kwargs):
    return [v for k, v in kwargs.items() if "password" in k]  # password, sslpassword


def explain_error(exc, kwargs, doing):
    """A safe, actionable message for a driver exception raised while ``doing`` something."""
    detail = mask_secrets(str(exc).strip(), _secrets(kwargs))
    if detail.startswith("connection failed: "):  # psycopg's prefix; our message already says so
        detail = detail[len("connection failed: "):]
    lowered = detail.lower()
    hint = next((h for needles, h in _CONNECT_HINTS if any(n in lowered for n in needles)), None)
    message = "PostgreSQL: %s failed for %s: %s" % (doing, describe(kwargs), detail)
    return message + (" (%s)" % hint if hint and doing == "connect" else "")


def require_psycopg():
    """Fail with Ansible's missing-library message (and the import error) when psycopg 3 is not installed;
    the archive modules call it first, before validating their options."""
    if not HAS_PSYCOPG:
        raise PgError(missing_required_lib("psycopg (version 3)"), exception=str(PSYCOPG_IMPORT_ERROR))


def connect(params, dbname=None, autocommit=False):
    """Open a psycopg 3 connection or raise PgError naming user/host/port/database (never the password)."""
    require_psycopg()
    kwargs = libpq_kwargs(params, dbname)
    try:
        conn = psycopg.connect(autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        raise PgError(explain_error(exc, kwargs, "connect"))
    conn.argoops_target = kwargs  # for later error messages (see run())
    # psycopg parses dates in ISO style only; a server configured otherwise would break reads.
    run(conn, "SET datestyle TO ISO", doing="set datestyle")
    if not autocommit:
        commit(conn, "set datestyle")
    return conn


class LazyConnection(object):
    """One autocommit connection to database ``dbname``, opened by the first call and returned by every
    later one, so a run connects to that database at most once. ``close()`` it before DROP DATABASE (the
    server refuses while a session is connected); a later call opens it again."""

    def __init__(self, params, dbname):
        self.params, self.dbname, self.conn = params, dbname, None

    def __call__(self):
        if self.conn is None:
            self.conn = connect(self.params, dbname=self.dbname, autocommit=True)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def run(conn, query, params=None, doing="query"):
    """Execute and return the cursor, turning driver errors into PgError with the target named."""
    try:
        return conn.execute(query, params)
    except psycopg.Error as exc:
        rollback(conn)
        raise PgError(explain_error(exc, getattr(conn, "argoops_target", {}), doing))


def commit(conn, doing="commit"):
    """Commit, turning driver errors (the server stopped or the connection dropped between the last
    statement and the commit) into PgError with the target named, as run() does."""
    try:
        conn.commit()
    except psycopg.Error as exc:
        rollback(conn)
        raise PgError(explain_error(exc, getattr(conn, "argoops_target", {}), doing))


def rollback(conn):
    """End the transaction without keeping it (after a failed statement, or after check mode's reads). On a
    dead connection the rollback fails too; that error must not replace the one that says what went wrong,
    and nothing written is lost by it (an unfinished transaction is rolled back by the server)."""
    if conn.autocommit or conn.closed:
        return
    try:
        conn.rollback()
    except psycopg.Error:
        pass


def login_check(params, user, password, dbname):
    """Does ``password`` log ``user`` in? True/False, or None when this server does not check passwords
    for the connection (a random wrong one gets in too, e.g. ``trust`` in pg_hba.conf) or the attempt
    fails for another reason. Used when the stored password cannot be read (login_user not superuser)."""
    def attempt(secret):
        probe = dict(params, login_user=user, login_password=secret,
                     connect_params=dict((k, v) for k, v in (params.get("connect_params") or {}).items()
                                         if k not in ("user", "password")))
        try:
            connect(probe, dbname=dbname, autocommit=True).close()
            return True
        except PgError as exc:
            text = str(exc).lower()
            if "password authentication failed" in text:
                return False
            # refused after authenticating: the password was right
            return True if "permission denied for database" in text or "not permitted to log in" in text else None
    given = attempt(password)
    if given is None or attempt(base64.b32encode(os.urandom(15)).decode("ascii")) is not False:
        return None
    return given


def server_info(conn):
    """Server version facts; fail for servers Argo's migrations cannot use."""
    version_num, version = run(conn, "SELECT current_setting('server_version_num')::int, version()",
                               doing="read server version").fetchone()
    info = dict(version_num=version_num, version=version.split(" on ")[0],
                cockroachdb="cockroachdb" in version.lower())
    return info


def check_server(info):
    """Raise PgError when Argo's archive cannot live on this server."""
    if info["cockroachdb"]:
        raise PgError("PostgreSQL: the server is CockroachDB (%s); Argo's PostgreSQL migrations fail on it "
                      "(constraint names differ). Use PostgreSQL 9.4 or later." % info["version"])
    if info["version_num"] < MIN_SERVER_VERSION_NUM:
        raise PgError("PostgreSQL: server %s is older than 9.4; Argo's archive needs 9.4 or later (jsonb)."
                      % info["version"])


def identifier(name):
    """A safely quoted SQL identifier (role and database names cannot be bind parameters)."""
    return sql.Identifier(name)


def encrypt_password(conn, password, role):
    """The password as the server would store it (SCRAM/MD5 per password_encryption), computed here so
    plain text never appears in a statement the server could log."""
    return conn.pgconn.encrypt_password(password.encode("utf-8"), role.encode("utf-8")).decode("ascii")


def password_matches(stored, password, role):
    """True/False when ``password`` does/does not match the stored verifier; None when undecidable."""
    if not stored:
        return False
    if stored.startswith("SCRAM-SHA-256$"):
        try:
            iterations_salt, keys = stored[len("SCRAM-SHA-256$"):].split("$", 1)
            iterations, salt = iterations_salt.split(":", 1)
            stored_key = keys.split(":", 1)[0]
            salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt),
                                         int(iterations))
        except (ValueError, TypeError):
            return None
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        return hmac.compare_digest(base64.b64encode(hashlib.sha256(client_key).digest()).decode("ascii"),
                                   stored_key)
    if stored.startswith("md5") and len(stored) == 35:
        digest = hashlib.md5((password + role).encode("utf-8")).hexdigest()  # nosec - PostgreSQL's format
        return hmac.compare_digest("md5" + digest, stored)
    return None
