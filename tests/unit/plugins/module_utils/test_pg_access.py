"""plan(): catalog state + wanted state -> actions, without a server."""
import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import pg_access
from test_pg import SCRAM_SECRET_BOB


def desired(**overrides):
    out = dict(state="present", user="bob", password="secret", update_password="always",
               drop_database=False, drop_role=False)
    out.update(overrides)
    return out


def actual(db=True, role=True, db_grants=("CONNECT",), schema_grants=("USAGE", "CREATE"), **role_attrs):
    role_row = None
    if role is not None:
        role_row = dict(name="bob", exists=role)
        if role:
            role_row.update(dict(login=True, superuser=False, createdb=False, createrole=False,
                                 password_hash=SCRAM_SECRET_BOB), **role_attrs)
    return dict(database=dict(name="argo", exists=db, owner="admin"), role=role_row,
                database_grants=set(db_grants), schema_grants=set(schema_grants) if db else None)


def test_fresh_server_needs_everything():
    assert pg_access.plan(actual(db=False, role=False, db_grants=()), desired()) == [
        "create_database", "create_role", "grant_connect", "grant_schema"]


def test_converged_state_needs_nothing():
    assert pg_access.plan(actual(), desired()) == []


def test_on_create_never_touches_an_existing_password():
    assert pg_access.plan(actual(password_hash="md5-other"), desired(update_password="on_create")) == []


@pytest.mark.parametrize("stored", ["md500000000000000000000000000000000", None, pg_access.PASSWORD_UNREADABLE])
def test_password_set_when_different_missing_or_unreadable(stored):
    assert pg_access.plan(actual(password_hash=stored), desired()) == ["set_password"]


@pytest.mark.parametrize("login, expected", [(True, []), (False, ["set_password"]), (None, ["set_password"])])
def test_unreadable_password_is_decided_by_logging_in(login, expected):
    state = actual(password_hash=pg_access.PASSWORD_UNREADABLE, password_login=login)
    assert pg_access.plan(state, desired()) == expected


def test_no_password_given_leaves_it_alone():
    assert pg_access.plan(actual(password_hash=None), desired(password=None)) == []


@pytest.mark.parametrize("attrs", [dict(login=False), dict(createdb=True), dict(createrole=True)])
def test_role_attributes_are_enforced(attrs):
    assert pg_access.plan(actual(**attrs), desired()) == ["set_role_attributes"]


def test_missing_create_on_public_is_granted_and_extra_db_privileges_revoked():
    state = actual(db_grants=("CONNECT", "TEMPORARY"), schema_grants=("USAGE",))
    assert pg_access.plan(state, desired()) == ["revoke_extra_database_privileges", "grant_schema"]


def test_database_only():
    assert pg_access.plan(actual(db=False, role=None), desired(user=None)) == ["create_database"]


@pytest.mark.parametrize("flags, expected", [
    (dict(drop_database=True), ["drop_database"]),
    (dict(drop_role=True), ["drop_role"]),
    (dict(drop_database=True, drop_role=True), ["drop_database", "drop_role"]),
])
def test_absent_drops_only_what_is_asked(flags, expected):
    assert pg_access.plan(actual(), desired(state="absent", **flags)) == expected
    assert pg_access.plan(actual(db=False, role=False), desired(state="absent", **flags)) == []


@pytest.mark.parametrize("state, want, login_user, words", [
    (actual(superuser=True), desired(), "admin", "is a superuser"),
    (actual(), desired(), "bob", "is the login_user"),
    (actual(role=False), desired(password=None), "admin", "password: required to create role"),
])
def test_refuses_unsafe_requests(state, want, login_user, words):
    assert words in pg_access.refuse_unsafe(state, want, login_user)


def test_safe_request_is_not_refused():
    assert pg_access.refuse_unsafe(actual(), desired(), "admin") is None


def test_diff_masks_password_and_predicts():
    state = actual(db=False, role=False, db_grants=())
    actions = pg_access.plan(state, desired())
    before, after = pg_access.summary(state), pg_access.predicted_summary(state, actions)
    assert before["database"]["exists"] is False and after["database"]["exists"] is True
    assert after["role"]["password"] == pg_access.pg.MASK + " (changed)"
    assert after["database_privileges"] == ["CONNECT"] and after["schema_privileges"] == ["CREATE", "USAGE"]
    assert "secret" not in repr(before) + repr(after) and SCRAM_SECRET_BOB not in repr(before) + repr(after)
    converged = actual()
    assert pg_access.summary(converged) == pg_access.predicted_summary(converged, [])


def test_dropping_the_database_alone_predicts_its_privileges_gone():
    state = actual()
    after = pg_access.predicted_summary(state, pg_access.plan(state, desired(state="absent", drop_database=True)))
    dropped = dict(actual(db=False, db_grants=()), schema_grants=None)  # what read_state finds afterwards
    assert after == pg_access.summary(dropped)
    assert after["database_privileges"] == [] and after["schema_privileges"] == []


def test_role_facts_never_carry_the_stored_password():
    role = actual(password_login=True)["role"]
    assert pg_access.role_facts(role) == dict(name="bob", exists=True, login=True, superuser=False,
                                              createdb=False, createrole=False)
    assert pg_access.role_facts(None) is None


class Recorder(object):
    """A connection that records the statements run on it (and when it is closed)."""
    autocommit, closed = True, False

    def __init__(self, log, name):
        self.log, self.name = log, name

    def execute(self, query, params=None):
        self.log.append((self.name, repr(query)))

    def close(self):
        self.log.append((self.name, "close"))


class Target(object):
    """pg.LazyConnection's interface over a Recorder, counting connections."""

    def __init__(self, log):
        self.log, self.conn, self.opened = log, None, 0

    def __call__(self):
        if self.conn is None:
            self.conn, self.opened = Recorder(self.log, "target"), self.opened + 1
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def test_apply_uses_one_target_connection_and_closes_it_before_drop_database():
    log = []
    admin, target = Recorder(log, "admin"), Target(log)
    target()  # read_state already opened it
    pg_access.apply(admin, target, ["drop_database", "drop_role"], "argo", "bob", None)
    assert [entry for entry in log if entry[0] == "target"] == [("target", "close")]
    assert log.index(("target", "close")) < next(i for i, e in enumerate(log) if "DROP DATABASE" in e[1])
    assert "DROP ROLE" in log[-1][1]

    log[:] = []
    target = Target(log)
    pg_access.apply(admin, target, ["create_database", "grant_connect", "grant_schema"], "argo", "bob", None)
    assert target.opened == 1 and [e[0] for e in log] == ["admin", "admin", "target"]
    assert "GRANT USAGE, CREATE ON SCHEMA public" in log[-1][1]


class _TargetDb:
    """Stands in for pg.LazyConnection: apply() only calls and closes it."""
    def __call__(self):
        return "target"

    def close(self):
        pass


def test_apply_records_what_completed_before_a_failure(monkeypatch):
    ran = []

    def run(conn, query, params=None, doing="query"):
        ran.append(doing)
        if doing == "drop role":
            raise pg_access.pg.PgError("drop role: role 'bob' cannot be dropped")

    monkeypatch.setattr(pg_access.pg, "run", run)
    done = []
    with pytest.raises(pg_access.pg.PgError, match="drop role"):
        pg_access.apply("admin", _TargetDb(), ["drop_database", "drop_role"], "argo", "bob", None, done)
    assert ran == ["drop database", "drop role"]
    assert done == ["drop_database"]  # the module reports changed=true with this list


@pytest.mark.parametrize("value, kind, expected", [
    ("argo", "database", None),
    ('we"ird name; DROP', "role", None),  # quoted, so safe
    ("é" * 31, "database", None),  # 62 bytes
    ("x" * 63, "role", None),
    ("all", "role", None),
    ("pg_archive", "database", None),  # only role names starting with pg_ are reserved
    ("", "database", "name: a database name cannot be empty"),
    ("ar\x00go", "role", "user: a role name cannot contain a NUL character"),
    ("x" * 64, "database", "is 64 bytes long in UTF-8; PostgreSQL keeps only the first 63 bytes"),
    ("é" * 32, "role", "is 64 bytes long in UTF-8"),
    ("public", "role", "PostgreSQL reserves the role name 'public'"),
    ("none", "role", "reserves the role name 'none'"),
    ("pg_argo", "role", "reserves the role name 'pg_argo'"),
])
def test_name_rules_are_postgresqls(value, kind, expected):
    option = "name" if kind == "database" else "user"
    problem = pg_access.name_problem(option, value, kind)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem and problem.startswith(option + ": ")
