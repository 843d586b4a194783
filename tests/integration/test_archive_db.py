"""archive_db against a real PostgreSQL 15: database, least-privilege role, preflight facts, idempotence.

Outcomes are checked in the catalogs and by logging in as the role, not by trusting the module's result.
"""
import datetime
import os
import secrets
import sys

import psycopg
import pytest
from psycopg import sql

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import argo_archive  # noqa: E402  pylint: disable=wrong-import-position
from cplane import build  # noqa: E402  (tests/controlplane is on sys.path through conftest)

DB, ROLE = "argoops_it_archive_db", "argoops_it_argo"
PASSWORD = "pw-" + secrets.token_urlsafe(12)


@pytest.fixture
def admin(postgres):
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        yield conn


@pytest.fixture
def clean(postgres, admin):
    """No archive database and no role before and after each test."""
    def drop():
        argo_archive.drop_database(postgres, DB)
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
    drop()
    yield
    drop()


def archive_db(postgres, check=False, diff=False, **args):
    base = dict(postgres.connect_params(), name=DB, user=ROLE, password=PASSWORD)
    result = argo_archive.run_module("archive_db", dict(base, **args), check=check, diff=diff)
    out = result["stdout"] + result["stderr"]
    assert PASSWORD not in out and postgres.password not in out
    return result


def role_row(admin):
    return admin.execute("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                         "WHERE rolname = %s", [ROLE]).fetchone()


def can_create_table_as_role(postgres, password=PASSWORD):
    """What Argo's migrations need: log in as the role and create a table in schema public."""
    with psycopg.connect(host=postgres.host, port=postgres.port, user=ROLE, password=password, dbname=DB) as conn:
        conn.execute("CREATE TABLE probe_from_argo_role (id int)")
        conn.rollback()
    return True


def test_check_mode_then_apply_then_unchanged(postgres, admin, clean):
    predicted = archive_db(postgres, check=True, diff=True)
    assert predicted["changed"] and predicted["actions"] == ["create_database", "create_role", "grant_connect",
                                                             "grant_schema"]
    assert predicted["database"]["exists"] is False and predicted["role"]["exists"] is False
    assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone() is None
    assert role_row(admin) is None  # check mode wrote nothing

    applied = archive_db(postgres, diff=True)
    assert applied["changed"] and applied["actions"] == predicted["actions"]
    assert applied["diff"]["after"]["role"]["password"] == "******** (changed)"
    assert role_row(admin) == (True, False, False, False)
    assert applied["privileges"] == dict(connect=True, usage=True, create=True, sufficient=True)
    assert applied["schema"] == dict(schema_version=None, archive_ready=False, tables=dict(
        schema_history=False, argo_archived_workflows=False, argo_archived_workflows_labels=False))
    assert applied["server"]["version_num"] >= 150000 and applied["server"]["cockroachdb"] is False
    assert can_create_table_as_role(postgres)

    again = archive_db(postgres, diff=True)
    assert again["changed"] is False and again["actions"] == []
    # facts of an unchanged run come from the state read for the plan: same shape, no password verifier
    assert again["role"] == dict(name=ROLE, exists=True, login=True, superuser=False, createdb=False,
                                 createrole=False)
    assert again["database"] == applied["database"] and again["privileges"] == applied["privileges"]
    assert again["diff"]["before"] == again["diff"]["after"]
    assert archive_db(postgres, check=True)["changed"] is False


def test_role_lacking_create_on_public_is_reported_then_fixed(postgres, admin, clean):
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(PASSWORD)))
    admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(DB), sql.Identifier(ROLE)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # PostgreSQL 15: no CREATE on public for PUBLIC
        can_create_table_as_role(postgres)

    report = archive_db(postgres, check=True)
    assert report["privileges"] == dict(connect=True, usage=True, create=False, sufficient=False)
    assert report["changed"] and report["actions"] == ["grant_schema"]

    fixed = archive_db(postgres)
    assert fixed["actions"] == ["grant_schema"] and fixed["privileges"]["sufficient"] is True
    assert can_create_table_as_role(postgres)


def test_extra_role_rights_are_removed(postgres, admin, clean):
    archive_db(postgres)
    admin.execute(sql.SQL("ALTER ROLE {} CREATEDB CREATEROLE").format(sql.Identifier(ROLE)))
    admin.execute(sql.SQL("GRANT CREATE, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(DB),
                                                                                 sql.Identifier(ROLE)))
    result = archive_db(postgres)
    assert result["actions"] == ["set_role_attributes", "revoke_extra_database_privileges"]
    assert role_row(admin) == (True, False, False, False)
    grants = admin.execute("SELECT a.privilege_type FROM pg_database d, aclexplode(d.datacl) a "
                           "WHERE d.datname = %s AND a.grantee = %s::regrole", [DB, ROLE]).fetchall()
    assert grants == [("CONNECT",)]


def test_update_password(postgres, clean):
    archive_db(postgres)
    new = "pw-" + secrets.token_urlsafe(12)
    kept = archive_db(postgres, password=new, update_password="on_create")
    assert kept["changed"] is False and can_create_table_as_role(postgres, PASSWORD)

    predicted = archive_db(postgres, password=new, check=True)
    assert predicted["actions"] == ["set_password"] and can_create_table_as_role(postgres, PASSWORD)
    changed = archive_db(postgres, password=new)
    assert changed["actions"] == ["set_password"] and new not in changed["stdout"]
    assert can_create_table_as_role(postgres, new)
    assert archive_db(postgres, password=new)["changed"] is False


def test_preflight_on_a_database_argo_migrated(request, postgres, argo_db_tool, admin, clean):
    argo_archive.archive_database(request, DB)
    argo_archive.fake_archived(argo_db_tool, postgres, DB, 30, 3, build.ARGO_VERSION)
    argo_archive.fake_archived(argo_db_tool, postgres, DB, 12, 4, build.ARGO_VERSION, clusters=("east",))
    with psycopg.connect(postgres.dsn(DB), autocommit=True) as conn:
        wf = argo_archive.argo_workflow(argo_archive.argo_template(conn), "blue-1", "argo", "Failed",
                                        datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 1, 0, 1))
        argo_archive.archive_workflow(conn, wf, cluster_name="east", instance_id="blue")
        version = argo_archive.schema_version(conn)
    result = archive_db(postgres, user=None, password=None, check=True)
    assert result["changed"] is False
    assert result["schema"]["schema_version"] == version and version > 60
    assert result["schema"]["archive_ready"] is True
    assert result["archived_workflows"] == [dict(cluster_name="default", instance_id="", count=30),
                                            dict(cluster_name="east", instance_id="", count=12),
                                            dict(cluster_name="east", instance_id="blue", count=1)]
    assert result["role"] is None and result["privileges"] is None


def test_state_absent_only_when_asked(postgres, admin, clean):
    archive_db(postgres)
    refused = archive_db(postgres, state="absent")
    assert refused["failed"] and "set one of them to true" in refused["msg"]
    predicted = archive_db(postgres, state="absent", drop_database=True, drop_role=True, check=True)
    assert predicted["actions"] == ["drop_database", "drop_role"] and role_row(admin) is not None
    dropped = archive_db(postgres, state="absent", drop_database=True, drop_role=True)
    assert dropped["changed"] and role_row(admin) is None
    assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone() is None
    assert archive_db(postgres, state="absent", drop_database=True, drop_role=True)["changed"] is False


def test_drop_role_alone_keeps_the_database(postgres, admin, clean):
    archive_db(postgres)
    result = archive_db(postgres, state="absent", drop_role=True)
    assert result["actions"] == ["drop_role"] and role_row(admin) is None
    assert result["database"]["exists"] is True


def grants_of_role(admin):
    """The role's explicit privileges on the archive database and on its schema public (catalog state)."""
    on_db = admin.execute("SELECT a.privilege_type FROM pg_database d, aclexplode(d.datacl) a JOIN pg_roles r "
                          "ON r.oid = a.grantee WHERE d.datname = %s AND r.rolname = %s", [DB, ROLE]).fetchall()
    with psycopg.connect(dict_to_dsn(admin, DB)) as conn:
        on_schema = conn.execute("SELECT a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a JOIN pg_roles r "
                                 "ON r.oid = a.grantee WHERE n.nspname = 'public' AND r.rolname = %s", [ROLE]).fetchall()
    return sorted(r[0] for r in on_db), sorted(r[0] for r in on_schema)


def dict_to_dsn(conn, dbname):
    info = conn.info
    return psycopg.conninfo.make_conninfo(host=info.host, port=info.port, user=info.user,
                                          password=info.password, dbname=dbname)


def test_drop_role_that_owns_a_table_fails_whole_and_changes_nothing(postgres, admin, clean):
    """DROP ROLE is refused by PostgreSQL while the role owns a table: check mode predicts that failure, the
    real run fails with the same message before anything is written, and the role keeps its grants."""
    archive_db(postgres)
    with psycopg.connect(host=postgres.host, port=postgres.port, user=ROLE, password=PASSWORD, dbname=DB) as conn:
        conn.execute("CREATE TABLE argo_workflows_owned (id int)")  # what Argo's migrations leave behind
    before = grants_of_role(admin)
    assert before == (["CONNECT"], ["CREATE", "USAGE"])
    predicted = archive_db(postgres, state="absent", drop_role=True, check=True)
    real = archive_db(postgres, state="absent", drop_role=True)
    for result in (predicted, real):
        assert result["failed"] and result["changed"] is False, result
        assert "still owns an object of pg_class in database " + DB in result["msg"], result["msg"]
    assert predicted["msg"] == real["msg"]
    assert role_row(admin) is not None and grants_of_role(admin) == before
    assert can_create_table_as_role(postgres)  # Argo's role can still log in and migrate
    dropped = archive_db(postgres, state="absent", drop_role=True, drop_database=True)  # the way out it names
    assert dropped["changed"] and role_row(admin) is None


def test_admin_without_superuser_decides_the_password_by_logging_in(postgres, admin, clean):
    """Managed services give no superuser: pg_authid is unreadable, yet a second run must be unchanged."""
    name, secret = "argoops_it_admin", "adm-" + secrets.token_urlsafe(12)
    admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
        sql.Identifier(name), sql.Literal(secret)))
    try:
        args = dict(login_user=name, login_password=secret)
        first = archive_db(postgres, **args)
        assert first["changed"] and first["privileges"]["sufficient"] and can_create_table_as_role(postgres)
        again = archive_db(postgres, **args)
        assert again["changed"] is False and not again.get("warnings")
        new = "pw-" + secrets.token_urlsafe(12)
        assert archive_db(postgres, password=new, check=True, **args)["actions"] == ["set_password"]
        assert archive_db(postgres, password=new, **args)["actions"] == ["set_password"]
        assert can_create_table_as_role(postgres, new)
        assert secret not in again["stdout"]
    finally:
        argo_archive.drop_database(postgres, DB)
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.mark.parametrize("args, message", [
    (dict(user=None, password=None, login_password="Wr0ng"), "authentication failed"),
    (dict(login_port=1), "the server is unreachable"),
])
def test_connection_failures_name_target_not_password(postgres, clean, args, message):
    result = archive_db(postgres, **args)
    assert result["failed"] and message in result["msg"]
    assert 'user "%s" at %s:' % (postgres.user, postgres.host) in result["msg"]
    assert "Wr0ng" not in result["stdout"]


def test_refuses_to_manage_a_superuser_or_the_login_role(postgres, admin, clean):
    admin.execute(sql.SQL("CREATE ROLE {} SUPERUSER LOGIN").format(sql.Identifier(ROLE)))
    result = archive_db(postgres)
    assert result["failed"] and "is a superuser; archive_db will not demote" in result["msg"]
    assert role_row(admin)[1] is True
    result = archive_db(postgres, user=postgres.user)
    assert result["failed"] and "is the login_user of this connection" in result["msg"]


@pytest.mark.parametrize("args, message", [
    (dict(name="argoops_it_" + "x" * 60), "PostgreSQL keeps only the first 63 bytes"),
    (dict(user="pg_argoops_it"), "PostgreSQL reserves the role name 'pg_argoops_it'"),
    (dict(user=""), "user: a role name cannot be empty"),
])
def test_names_postgresql_would_refuse_or_truncate_fail_before_anything_is_written(
        postgres, admin, clean, args, message):
    result = archive_db(postgres, **args)
    assert result["failed"] and message in result["msg"], result["msg"]
    name = args.get("name", DB)
    databases = {row[0] for row in admin.execute("SELECT datname FROM pg_database")}
    assert not {name, name.encode()[:63].decode()} & databases  # neither the name nor its truncation
    roles = {row[0] for row in admin.execute("SELECT rolname FROM pg_roles")}
    assert not {ROLE, args.get("user") or ROLE} & roles
