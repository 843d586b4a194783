# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runs of the archive database modules (archive_db, archive_info, archive_prune, archive_rollup):
``run_<module>(module, result)``, handed to ``errors.run_module`` by each module's ``main``. The SQL and
the rules live in pg_access, archive_sql, archive_rollup and friends; a run reads the options, checks
what can be checked before connecting, and calls them in order."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.argoops.workflows.plugins.module_utils import (
    archive_capacity, archive_rollup, archive_rollup_stats, archive_sql, pg, pg_access)
from ansible_collections.argoops.workflows.plugins.module_utils.archive_args import (
    filters_from_params, scope_from_params)
from ansible_collections.argoops.workflows.plugins.module_utils.argo_ttl import TTLError, parse_ttl
from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError

MAX_BATCH_SIZE = 100000


def run_archive_db(module, result):
    """archive_db: read the database, role and grants, plan, refuse what is unsafe, apply in one go."""
    pg.require_psycopg()
    params = module.params
    database, role = params["name"], params["user"]
    for option, kind in (("name", "database"), ("user", "role")):
        problem = pg_access.name_problem(option, params[option], kind)
        if problem:
            raise ArgoopsError(problem)
    if params["state"] == "absent" and not (params["drop_database"] or params["drop_role"]):
        raise ArgoopsError("state: absent drops only what drop_database and/or drop_role ask for; "
                           "set one of them to true")

    # one connection to the maintenance database, at most one to the archive database
    with pg.connect(params, autocommit=True) as admin, pg.LazyConnection(params, database) as target_db:
        server = pg.server_info(admin)
        pg.check_server(server)
        want_hash = params["password"] is not None and params["update_password"] == "always"
        actual = pg_access.read_state(admin, target_db, database, role, want_hash, lambda: pg.login_check(
            params, role, params["password"], params["login_db"]))
        refusal = pg_access.refuse_unsafe(actual, params, params["login_user"])
        if refusal:
            raise ArgoopsError(refusal)
        actions = pg_access.plan(actual, params)
        if "set_password" in actions and actual["role"].get("password_hash") == pg_access.PASSWORD_UNREADABLE \
                and actual["role"].get("password_login") is None:
            module.warn("login_user cannot read pg_authid and logging in as %r does not tell whether the password "
                        "is right (the server does not check it here), so it is set again; use "
                        "update_password: on_create to avoid this" % role)
        if "drop_role" in actions:  # predicted in check mode and before any write, same message
            blocked = pg_access.role_drop_blockers(admin, target_db, database, role, "drop_database" in actions)
            if blocked:
                raise ArgoopsError(blocked, changed=False, actions=actions)
        written = bool(actions) and not module.check_mode
        if written:
            done = []
            try:
                pg_access.apply(admin, target_db, actions, database, role, params["password"], done)
            except pg.PgError as exc:  # say what the run changed before the failing step
                raise ArgoopsError(str(exc), changed=bool(done), actions=done)
        result.update(changed=bool(actions), actions=actions, server=server,
                      **pg_access.preflight(admin, target_db, database, role, None if written else actual))
    if module._diff:
        result["diff"] = dict(before=pg_access.summary(actual), after=pg_access.predicted_summary(actual, actions))


def run_archive_info(module, result):
    """archive_info: one page of archived workflows, statistics and the capacity view, read-only."""
    pg.require_psycopg()
    params = module.params
    scope, filters = scope_from_params(params), filters_from_params(params)
    if not 0 <= params["limit"] <= archive_sql.MAX_LIMIT:
        raise archive_sql.QueryError("limit: %d is not between 0 and %d" % (params["limit"], archive_sql.MAX_LIMIT))
    if params["group_by"] is not None:
        archive_sql.group_expression(params["group_by"])  # validate before connecting
    prices = [archive_capacity.check_price(params[option], option)
              for option in ("price_per_core_hour", "price_per_gib_hour")]
    after = None
    if params["page_token"]:
        after = archive_sql.decode_token(params["page_token"], archive_sql.fingerprint(scope, filters))
    result.update(changed=False, workflows=[], next_page_token=None)
    with pg.connect(params) as conn:
        conn.read_only = True
        archive_sql.require_archive_tables(conn)
        if params["limit"]:
            result["workflows"], result["next_page_token"] = archive_sql.run_list(
                conn, scope, filters, params["limit"], after, params["include_workflow"])
        if params["group_by"] is not None:
            result["stats"], result["stats_source"] = archive_rollup_stats.run_stats(
                conn, scope, filters, params["group_by"], params["stats_source"])
        if params["capacity"]:
            result["capacity"] = archive_capacity.run_capacity(conn, scope, filters, *prices)


def run_archive_prune(module, result):
    """archive_prune: delete (or count, in check mode) what is older than the TTL, in short batches."""
    pg.require_psycopg()
    params = module.params
    seconds = parse_ttl(params["older_than"], "older_than")
    if seconds == 0:
        raise TTLError("older_than: %r would select every workflow; give a TTL above zero such as 90d"
                       % params["older_than"])
    for option, high in (("batch_size", MAX_BATCH_SIZE), ("sample_size", archive_sql.MAX_LIMIT)):
        if not 1 <= params[option] <= high:
            raise archive_sql.QueryError("%s: %d is not between 1 and %d" % (option, params[option], high))
    scope, filters = scope_from_params(params), filters_from_params(params)
    with pg.connect(params) as conn:
        archive_sql.require_archive_tables(conn)
        before_batch = None
        if params["rollup"]:
            archive_rollup.ensure_schema(conn, create=False)
            conn.commit()
            before_batch = archive_rollup.prune_hook(scope)
        result.update(archive_sql.run_prune(conn, scope, filters, seconds, params["batch_size"],
                                            module.check_mode, params["sample_size"], before_batch))
    result["changed"] = bool(result["deleted"] or result.get("would_delete"))


def run_archive_rollup(module, result):
    """archive_rollup: fold the rows archived since the watermark into the hourly rollups."""
    pg.require_psycopg()
    with pg.connect(module.params) as conn:
        archive_sql.require_archive_tables(conn)
        result.update(archive_rollup.run_rollup(conn, module.params["create_schema"], module.check_mode))
    result["changed"] = bool(result["rolled_up"] or result["schema_created"])
