# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database and role Argo's controller logs in with: read the catalogs, plan, apply.

Argo needs exactly: a LOGIN role (no SUPERUSER/CREATEDB/CREATEROLE), CONNECT on its database and USAGE +
CREATE on schema ``public`` (PostgreSQL 15 stopped granting CREATE there to PUBLIC). We grant these to the
role explicitly, so a later ``REVOKE ... FROM PUBLIC`` hardening does not break the controller, and revoke
other explicit database privileges of the role. ``plan()`` is pure; reads and writes go through pg.run.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.argoops.workflows.plugins.module_utils import archive_sql, pg

DATABASE_PRIVILEGES = {"CONNECT"}
SCHEMA_PRIVILEGES = {"USAGE", "CREATE"}
SCHEMA = "public"
ROLE_FACTS = ("name", "exists", "login", "superuser", "createdb", "createrole")  # what may be shown of a role
PASSWORD_UNREADABLE = "unreadable"

_DB_ACL = ("SELECT a.privilege_type FROM pg_database d, aclexplode(d.datacl) a "
           "JOIN pg_roles r ON r.oid = a.grantee WHERE d.datname = %s AND r.rolname = %s")
_SCHEMA_ACL = ("SELECT a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a "
               "JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = %s AND r.rolname = %s")


def read_database(conn, name):
    row = pg.run(conn, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name],
                 "read pg_database").fetchone()
    return dict(name=name, exists=row is not None, owner=row[0] if row else None)


def read_role(conn, name, want_password_hash=False):
    row = pg.run(conn, "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                       "WHERE rolname = %s", [name], "read pg_roles").fetchone()
    role = dict(name=name, exists=row is not None)
    if row:
        role.update(login=row[0], superuser=row[1], createdb=row[2], createrole=row[3])
    if row and want_password_hash:
        role["password_hash"] = _read_password_hash(conn, name)
    return role


def _read_password_hash(conn, name):
    """The stored verifier, or PASSWORD_UNREADABLE when the login user may not read pg_authid."""
    try:
        row = pg.run(conn, "SELECT rolpassword FROM pg_authid WHERE rolname = %s", [name],
                     "read pg_authid").fetchone()
    except pg.PgError as exc:
        if "permission denied" in str(exc):
            return PASSWORD_UNREADABLE
        raise
    return row[0] if row else None


def read_database_grants(conn, database, role):
    """Privileges granted explicitly to ``role`` on ``database`` (any connection can read them)."""
    return set(r[0] for r in pg.run(conn, _DB_ACL, [database, role], "read database privileges"))


def read_schema_grants(target_conn, role):
    """Privileges granted explicitly to ``role`` on schema public (connection to the archive database)."""
    return set(r[0] for r in pg.run(target_conn, _SCHEMA_ACL, [SCHEMA, role], "read schema privileges"))


def effective_privileges(target_conn, database, role):
    """What the role can actually do (explicit, via PUBLIC or memberships), for the preflight facts."""
    row = pg.run(target_conn, "SELECT has_database_privilege(%s, %s, 'CONNECT'), "
                              "has_schema_privilege(%s, %s, 'USAGE'), has_schema_privilege(%s, %s, 'CREATE')",
                 [role, database, role, SCHEMA, role, SCHEMA], "check role privileges").fetchone()
    return dict(connect=row[0], usage=row[1], create=row[2], sufficient=all(row))


def read_state(admin_conn, target_db, database, role, want_password_hash, login_check=None):
    """Everything plan() compares, read from the catalogs (schema grants need the archive database,
    ``target_db()``: a pg.LazyConnection to it).

    When the stored password cannot be read, ``login_check()`` (pg.login_check bound to the role and the
    wanted password) tells whether that password logs the role in."""
    actual = dict(database=read_database(admin_conn, database), role=None, database_grants=set(),
                  schema_grants=None)
    if role:
        actual["role"] = read_role(admin_conn, role, want_password_hash)
        if actual["role"].get("password_hash") == PASSWORD_UNREADABLE and login_check:
            actual["role"]["password_login"] = login_check()
        actual["database_grants"] = read_database_grants(admin_conn, database, role)
    if role and actual["database"]["exists"]:
        actual["schema_grants"] = read_schema_grants(target_db(), role)
    return actual


def preflight(admin, target_db, database, role, unchanged=None):
    """archive_db's facts, returned on every run, read after any change (before, in check mode).

    ``unchanged``: read_state's result when nothing was written since; its database and role are reused
    instead of read again. ``target_db``: the pg.LazyConnection to the archive database."""
    if unchanged is None:
        unchanged = dict(database=read_database(admin, database),
                         role=read_role(admin, role) if role else None)
    facts = dict(database=unchanged["database"], role=role_facts(unchanged["role"]), privileges=None,
                 schema=None, archived_workflows=[])
    if not facts["database"]["exists"]:
        return facts
    target = target_db()
    facts["schema"] = archive_sql.run_schema_status(target)
    if facts["schema"]["archive_ready"]:
        facts["archived_workflows"] = archive_sql.run_archived_counts(target)
    if role and facts["role"]["exists"]:
        facts["privileges"] = effective_privileges(target, database, role)
    return facts


def role_facts(role):
    """A role as read_role/read_state found it, without the stored password (or None for no role)."""
    return None if role is None else dict((k, role[k]) for k in ROLE_FACTS if k in role)


def summary(actual):
    """The state as diff mode shows it (the password only as a mask)."""
    role = actual["role"]
    out = dict(database=dict(name=actual["database"]["name"], exists=actual["database"]["exists"]))
    if role is not None:
        out["role"] = role_facts(role)
        if role["exists"]:
            out["role"]["password"] = pg.MASK
        out["database_privileges"] = sorted(actual["database_grants"])
        out["schema_privileges"] = sorted(actual["schema_grants"] or [])
    return out


def predicted_summary(actual, actions):
    """summary() as it will be after ``actions``."""
    after = summary(actual)
    if "create_database" in actions or "drop_database" in actions:
        after["database"]["exists"] = "create_database" in actions
    if "role" not in after:
        return after
    role = after["role"]
    if "drop_role" in actions:
        after["role"] = dict(name=role["name"], exists=False)
        after["database_privileges"], after["schema_privileges"] = [], []
        return after
    if "create_role" in actions or "set_role_attributes" in actions:
        role.update(exists=True, login=True, superuser=False, createdb=False, createrole=False)
    if "create_role" in actions or "set_password" in actions:
        role["password"] = pg.MASK + " (changed)"
    if "grant_connect" in actions or "revoke_extra_database_privileges" in actions:
        after["database_privileges"] = sorted(DATABASE_PRIVILEGES)
    if "grant_schema" in actions:
        after["schema_privileges"] = sorted(SCHEMA_PRIVILEGES | set(after["schema_privileges"]))
    if "drop_database" in actions:  # the database's ACL goes with it
        after["database_privileges"], after["schema_privileges"] = [], []
    return after


def plan(actual, desired):
    """Ordered action names that turn ``actual`` into ``desired`` (both plain dicts; see archive_db).

    actual: database{exists}, role{exists, login, superuser, createdb, createrole, password_hash?},
            database_grants (set), schema_grants (set or None when the database does not exist yet).
    desired: state, user, password, update_password, drop_database, drop_role.
    """
    if desired["state"] == "absent":
        actions = []
        if desired["drop_database"] and actual["database"]["exists"]:
            actions.append("drop_database")
        if desired["drop_role"] and actual["role"] and actual["role"]["exists"]:
            actions.append("drop_role")
        return actions
    actions = [] if actual["database"]["exists"] else ["create_database"]
    role = actual["role"]
    if role is None:
        return actions
    if not role["exists"]:
        actions.append("create_role")
    else:
        if not role["login"] or role["createdb"] or role["createrole"]:
            actions.append("set_role_attributes")
        if desired["password"] is not None and desired["update_password"] == "always" and \
                _password_differs(role, desired["password"]):
            actions.append("set_password")
    grants = actual["database_grants"] if role["exists"] else set()
    if DATABASE_PRIVILEGES - grants:
        actions.append("grant_connect")
    if grants - DATABASE_PRIVILEGES:
        actions.append("revoke_extra_database_privileges")
    schema_grants = actual["schema_grants"] if role["exists"] and actual["schema_grants"] is not None else set()
    if SCHEMA_PRIVILEGES - schema_grants:
        actions.append("grant_schema")
    return actions


def _password_differs(role, password):
    if role.get("password_hash") == PASSWORD_UNREADABLE:
        return role.get("password_login") is not True  # undecidable: set it (the module warns)
    return pg.password_matches(role.get("password_hash"), password, role["name"]) is not True


# PostgreSQL keeps the first NAMEDATALEN - 1 bytes of a name (63 in every standard build) and silently
# truncates the rest, so two long names could become one. Role names it refuses even when quoted:
RESERVED_ROLE_NAMES = ("public", "none")
MAX_NAME_BYTES = 63


def name_problem(option, value, kind):
    """Why ``value`` cannot name a PostgreSQL ``kind`` ('database' or 'role'), as a message; None if it can.
    Names are always quoted (any other character is safe), so only what PostgreSQL itself refuses or
    truncates is checked here, before connecting."""
    if value is None:
        return None
    if value == "":
        return "%s: a %s name cannot be empty" % (option, kind)
    if "\x00" in value:
        return "%s: a %s name cannot contain a NUL character" % (option, kind)
    size = len(value.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return ("%s: %r is %d bytes long in UTF-8; PostgreSQL keeps only the first %d bytes of a %s name "
                "(it would silently truncate it), so use a shorter name" % (option, value, size, MAX_NAME_BYTES, kind))
    if kind == "role" and (value in RESERVED_ROLE_NAMES or value.startswith("pg_")):
        return ("%s: PostgreSQL reserves the role name %r (public, none and names starting with pg_ cannot be "
                "created)" % (option, value))
    return None


def refuse_unsafe(actual, desired, login_user):
    """Reasons not to touch the role at all (returned as an error message, or None)."""
    role = actual["role"]
    if role is None or desired["state"] != "present":
        return None
    if role["name"] == login_user:
        return ("user: %r is the login_user of this connection; give the Argo controller its own role "
                "(archive_db would remove CREATEDB/CREATEROLE from it)" % role["name"])
    if role.get("superuser"):
        return ("user: role %r is a superuser; archive_db will not demote a superuser. Choose a dedicated, "
                "non-superuser role name for the Argo controller" % role["name"])
    if not role["exists"] and desired["password"] is None:
        return "password: required to create role %r" % role["name"]
    return None


def apply(admin_conn, target_db, actions, database, role, password, done=None):
    """Execute ``actions``. ``admin_conn`` is autocommit on the maintenance database; ``target_db`` is a
    pg.LazyConnection to the archive database (schema privileges), closed here before DROP DATABASE.
    Each action that completed is appended to ``done``, so a failure part-way can report what it changed."""
    ident_db, ident_role = pg.identifier(database), pg.identifier(role) if role else None
    sql = pg.sql
    done = [] if done is None else done
    for action in actions:
        if action == "create_database":
            pg.run(admin_conn, sql.SQL("CREATE DATABASE {}").format(ident_db), doing="create database")
        elif action == "create_role":
            pg.run(admin_conn, sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                ident_role, sql.Literal(pg.encrypt_password(admin_conn, password, role))), doing="create role")
        elif action == "set_role_attributes":
            pg.run(admin_conn, sql.SQL("ALTER ROLE {} LOGIN NOCREATEDB NOCREATEROLE").format(ident_role),
                   doing="alter role")
        elif action == "set_password":
            pg.run(admin_conn, sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                ident_role, sql.Literal(pg.encrypt_password(admin_conn, password, role))), doing="set password")
        elif action == "grant_connect":
            pg.run(admin_conn, sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(ident_db, ident_role),
                   doing="grant CONNECT")
        elif action == "revoke_extra_database_privileges":
            pg.run(admin_conn, sql.SQL("REVOKE CREATE, TEMPORARY ON DATABASE {} FROM {}").format(
                ident_db, ident_role), doing="revoke database privileges")
        elif action == "grant_schema":
            pg.run(target_db(), sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(ident_role),
                   doing="grant USAGE, CREATE on schema public")
        elif action == "drop_database":
            target_db.close()
            pg.run(admin_conn, sql.SQL("DROP DATABASE {}").format(ident_db), doing="drop database")
        elif action == "drop_role":
            _drop_role(admin_conn, target_db, "drop_database" in actions, database, role)
        done.append(action)


def role_drop_blockers(admin_conn, target_db, database, role, database_dropped):
    """Why DROP ROLE ``role`` would fail, as one message (None when it would succeed): the pg_shdepend
    rows (owner 'o', privilege 'a') DROP ROLE checks, minus what this run removes first (the database
    when it is dropped; archive_db's own grants on the database and its schema public otherwise).
    Used by check mode and by the real run before anything is written, so both fail the same way."""
    rows = pg.run(admin_conn, """
        SELECT coalesce(d.datname, '(shared)'), c.relname, s.deptype, s.objid, s.dbid
          FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid
          JOIN pg_class c ON c.oid = s.classid LEFT JOIN pg_database d ON d.oid = s.dbid
         WHERE r.rolname = %s AND s.deptype IN ('o', 'a')""", (role,), doing="read role dependencies").fetchall()
    db = pg.run(admin_conn, "SELECT oid FROM pg_database WHERE datname = %s", (database,),
                doing="read database").fetchone()
    db_oid = db[0] if db else None
    public_oid = None
    if db_oid is not None and not database_dropped:
        public_oid = pg.run(target_db(), "SELECT oid FROM pg_namespace WHERE nspname = 'public'",
                            doing="read schema public").fetchone()
        public_oid = public_oid[0] if public_oid else None
    blockers = []
    for datname, catalog, deptype, objid, dbid in rows:
        if database_dropped and (dbid == db_oid or (catalog == "pg_database" and objid == db_oid)):
            continue  # goes away with DROP DATABASE
        if deptype == "a" and catalog == "pg_database" and objid == db_oid:
            continue  # archive_db revokes it
        if deptype == "a" and catalog == "pg_namespace" and dbid == db_oid and objid == public_oid:
            continue  # archive_db revokes it
        what = "owns an object of" if deptype == "o" else "has privileges on an object of"
        blockers.append("%s %s in database %s" % (what, catalog, datname))
    if not blockers:
        return None
    counted = sorted("%s (x%d)" % item for item in collections.Counter(blockers).items())
    return ("drop role: role %r still %s; set drop_database: true as well, or reassign/drop them first "
            "(nothing was changed)" % (role, "; ".join(counted)))


def _drop_role(admin_conn, target_db, database_dropped, database, role):
    sql = pg.sql
    ident_db, ident_role = pg.identifier(database), pg.identifier(role)
    if not database_dropped and read_database(admin_conn, database)["exists"]:
        # One transaction on the archive database: the revokes and DROP ROLE apply together or not at all
        # (a half-applied run would leave Argo's role unable to connect).
        conn = target_db()
        with conn.transaction():
            pg.run(conn, sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(ident_db, ident_role),
                   doing="revoke database privileges")
            pg.run(conn, sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(ident_role),
                   doing="revoke schema privileges")
            pg.run(conn, sql.SQL("DROP ROLE {}").format(ident_role), doing="drop role")
        return
    pg.run(admin_conn, sql.SQL("DROP ROLE {}").format(ident_role), doing="drop role")
