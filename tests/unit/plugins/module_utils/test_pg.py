"""The PostgreSQL client helpers without a server: option mapping, safe messages, stored-password checks."""
import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import pg

# Made by libpq itself (PQencryptPasswordConn, via psycopg's pgconn.encrypt_password) for password
# "secret" and role "bob" -- real verifiers, not computed by the code under test.
SCRAM_SECRET_BOB = ("SCRAM-SHA-256$4096:nPOoxB0wKthw7vPc9CkOiA==$sGgUkiEbx90D2DXgqWVuhKztcA4BOmd/GgG5q6mX4gc="
                    ":DmhLtlMmh7hr+cNsj4R0twB3CiXq8ppLvyPK8KxVkaM=")
MD5_SECRET_BOB = "md521f3163f8f86fa10bdefbfbd502a8f06"


def params(**overrides):
    out = dict((k, v.get("default")) for k, v in pg.connection_argument_spec().items())
    out.update(overrides)
    return out


def test_spec_has_community_postgresql_names():
    spec = pg.connection_argument_spec()
    assert set(spec) == {"login_host", "login_port", "login_user", "login_password", "login_db", "ssl_mode",
                         "ca_cert", "ssl_cert", "ssl_key", "connect_timeout", "connect_params"}
    assert spec["login_password"]["no_log"] is True
    assert spec["ssl_mode"]["choices"] == ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
    assert spec is not pg.connection_argument_spec()  # a fresh dict per module


def test_libpq_kwargs_maps_and_drops_empty_values():
    kwargs = pg.libpq_kwargs(params(login_host="db", login_password="pw", ca_cert="/ca.pem"))
    assert kwargs == dict(host="db", port=5432, user="postgres", password="pw", dbname="postgres",
                          sslmode="prefer", sslrootcert="/ca.pem", connect_timeout=10,
                          application_name="argoops.workflows")
    assert "password" not in pg.libpq_kwargs(params())  # empty -> libpq reads PGPASSWORD / ~/.pgpass


def test_libpq_kwargs_dbname_override_and_connect_params_win():
    kwargs = pg.libpq_kwargs(params(connect_params=dict(sslmode="require", application_name="x")), dbname="argo")
    assert (kwargs["dbname"], kwargs["sslmode"], kwargs["application_name"]) == ("argo", "require", "x")


def test_negative_connect_timeout_is_rejected():
    with pytest.raises(pg.PgError, match="connect_timeout: -1"):
        pg.libpq_kwargs(params(connect_timeout=-1))


@pytest.mark.parametrize("driver_message, hint", [
    ('connection to server at "db", port 5432 failed: FATAL:  password authentication failed for user "u"',
     "check login_user and login_password"),
    ('connection to server at "db", port 5432 failed: Connection refused', "server is unreachable"),
    ('connection to server at "db", port 5432 failed: FATAL:  database "argo" does not exist',
     "check login_db"),
    ("connection to server at \"db\", port 5432 failed: timeout expired", "within connect_timeout"),
    ("server does not support SSL, but SSL was required", "check ssl_mode"),
    # libpq's own words, as seen against the TLS test server (tests/integration/test_tls.py)
    ('connection to server at "db", port 5432 failed: server certificate for "postgres.argoops.test" '
     '(and 1 other name) does not match host name "db"', "does not name login_host"),
    ('connection to server at "db", port 5432 failed: SSL error: certificate verify failed',
     "not signed by ca_cert"),
])
def test_connect_errors_name_target_and_hint(driver_message, hint):
    kwargs = pg.libpq_kwargs(params(login_host="db", login_user="u", login_password="hunter2", login_db="argo"))
    message = pg.explain_error(Exception(driver_message + " (password hunter2)"), kwargs, "connect")
    assert 'user "u" at db:5432, database "argo"' in message
    assert hint in message
    assert "hunter2" not in message and pg.MASK in message


def test_connect_params_password_is_masked_too():
    kwargs = pg.libpq_kwargs(params(connect_params=dict(password="s3cr3t")))
    assert "s3cr3t" not in pg.explain_error(Exception("bad s3cr3t"), kwargs, "query")


@pytest.mark.parametrize("stored, password, role, expected", [
    (SCRAM_SECRET_BOB, "secret", "bob", True),
    (SCRAM_SECRET_BOB, "Secret", "bob", False),
    (MD5_SECRET_BOB, "secret", "bob", True),
    (MD5_SECRET_BOB, "secret", "alice", False),
    (None, "secret", "bob", False),
    ("SCRAM-SHA-256$garbage", "secret", "bob", None),
    ("plaintext?", "secret", "bob", None),
])
def test_password_matches(stored, password, role, expected):
    assert pg.password_matches(stored, password, role) is expected


@pytest.mark.parametrize("info, words", [
    (dict(version_num=90316, version="PostgreSQL 9.3.16", cockroachdb=False), "older than 9.4"),
    (dict(version_num=130000, version="CockroachDB CCL v23.1", cockroachdb=True), "CockroachDB"),
])
def test_check_server_rejects(info, words):
    with pytest.raises(pg.PgError, match=words):
        pg.check_server(info)


def test_check_server_accepts_94():
    pg.check_server(dict(version_num=90400, version="PostgreSQL 9.4.0", cockroachdb=False))


def test_lazy_connection_connects_once_and_again_after_close(monkeypatch):
    opened = []

    class Conn(object):
        closed = False

        def close(self):
            self.closed = True

    def connect(params, dbname=None, autocommit=False):
        opened.append((dbname, autocommit))
        return Conn()

    monkeypatch.setattr(pg, "connect", connect)
    with pg.LazyConnection(params(), "argo") as target:
        assert opened == []  # nothing until first use
        first = target()
        assert target() is first and opened == [("argo", True)]
        target.close()
        assert first.closed and target() is not first and len(opened) == 2
        second = target.conn
    assert second.closed and target.conn is None
    target.close()  # closing twice is harmless


class _DeadConnection:
    """Stands in for a psycopg connection whose server went away: every call raises what psycopg raises."""
    autocommit, closed = False, False
    argoops_target = {"host": "db", "port": 5432, "user": "argo", "password": "hunter2", "dbname": "argo"}

    def __init__(self):
        self.rollbacks = 0

    def execute(self, query, params=None):
        raise pg.psycopg.errors.AdminShutdown("terminating connection due to administrator command")

    def commit(self):
        raise pg.psycopg.OperationalError("server closed the connection unexpectedly")

    def rollback(self):
        self.rollbacks += 1
        raise pg.psycopg.OperationalError("the connection is lost")


def test_a_failed_rollback_does_not_hide_why_the_statement_failed():
    conn = _DeadConnection()
    with pytest.raises(pg.PgError) as err:
        pg.run(conn, "DELETE FROM t", doing="delete batch 3")
    message = str(err.value)
    assert message.startswith("PostgreSQL: delete batch 3 failed for ") and "argo" in message
    assert "terminating connection due to administrator command" in message and "hunter2" not in message
    assert conn.rollbacks == 1


def test_a_failed_commit_is_explained_like_a_failed_statement():
    conn = _DeadConnection()
    with pytest.raises(pg.PgError) as err:
        pg.commit(conn, "commit delete batch 3")
    assert str(err.value).startswith("PostgreSQL: commit delete batch 3 failed for ")
    assert "server closed the connection unexpectedly" in str(err.value)
