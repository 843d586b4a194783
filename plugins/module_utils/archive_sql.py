# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Queries on Argo's workflow archive: scope + filters -> parameterised SQL, keyset pages, stats, prune.

Facts honoured (persist/sqldb in argo-workflows): every query is scoped by ``clustername`` and
``instanceid`` as the controller scopes its own; labels live in ``argo_archived_workflows_labels`` and
are matched with EXISTS / NOT EXISTS on its primary key (clustername, uid, name); timestamps are UTC in
``timestamp without time zone``; NUL characters in the stored JSON were replaced by Argo with
``ARGO_POSTGRES_NULL_REPLACEMENT``. Pages use keyset pagination on (startedat, uid) -- never OFFSET,
whose cost grows with the page depth (Argo issues 8836, 13601, 16815). User text never enters the SQL
text: every value, label key included, is a bind parameter. The SQL builders are pure; the ``run_*``
functions execute them through the pg client (pg.py).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import json
import time
from collections import namedtuple

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError
from ansible_collections.argoops.workflows.plugins.module_utils import pg
from ansible_collections.argoops.workflows.plugins.module_utils.archive_selector import check_key, format_selector

ARCHIVE_TABLE = "argo_archived_workflows"
LABELS_TABLE = "argo_archived_workflows_labels"
HISTORY_TABLE = "schema_history"
NULL_REPLACEMENT = "ARGO_POSTGRES_NULL_REPLACEMENT"
GROUP_KEYS = ("phase", "namespace", "day", "hour")
LABEL_GROUP_PREFIX = "label:"
MAX_LIMIT = 10000
TOKEN_VERSION = 1

Scope = namedtuple("Scope", "cluster_name instance_id")
Filters = namedtuple("Filters", "namespaces name name_match phases labels "
                                "started_after started_before finished_after finished_before")
NO_FILTERS = Filters((), None, "exact", (), (), None, None, None, None)

# date_part returns float8; EXTRACT returns numeric since PostgreSQL 14, several times slower over 1M rows.
_DURATION = "date_part('epoch', w.finishedat - w.startedat)"
_LABEL_MATCH = ("SELECT 1 FROM argo_archived_workflows_labels l "
                "WHERE l.clustername = w.clustername AND l.uid = w.uid AND l.name = %s")
_ROW_COLUMNS = ("w.uid, w.name, w.namespace, w.phase, w.startedat, w.finishedat, "
                "(SELECT json_object_agg(l.name, l.value) FROM argo_archived_workflows_labels l "
                "WHERE l.clustername = w.clustername AND l.uid = w.uid) AS labels")


class QueryError(ArgoopsError, ValueError):
    """Bad query input; the message names the option and the rule."""


def parse_time(value, option):
    """ISO 8601 date or date-time -> naive UTC datetime (how Argo stores times); None stays None."""
    if value is None or value == "":
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise QueryError("%s: %r is not an ISO 8601 date or time (for example 2024-05-01 or "
                         "2024-05-01T12:00:00Z; times without an offset are UTC)" % (option, value))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed


def iso(value):
    """Naive UTC datetime -> '2024-05-01T12:00:00Z' (None stays None)."""
    return None if value is None else value.isoformat() + "Z"


def _like_prefix(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where(scope, filters):
    """(' AND '-joined conditions on alias ``w``, parameters) for scope + filters."""
    clauses = ["w.clustername = %s", "w.instanceid = %s"]
    params = [scope.cluster_name, scope.instance_id]

    def add(clause, *values):
        clauses.append(clause)
        params.extend(values)

    if len(filters.namespaces) == 1:  # '=' lets the planner use index i1 (.., namespace, startedat DESC)
        add("w.namespace = %s", filters.namespaces[0])
    elif filters.namespaces:
        add("w.namespace = ANY(%s)", list(filters.namespaces))
    if filters.name and filters.name_match == "exact":
        add("w.name = %s", filters.name)
    elif filters.name and filters.name_match == "prefix":
        add("w.name LIKE %s", _like_prefix(filters.name))
    elif filters.name:
        add("strpos(w.name, %s) > 0", filters.name)
    if filters.phases:
        add("w.phase = ANY(%s)", list(filters.phases))
    for req in filters.labels:
        add(*_label_condition(req))
    for column, op, value in (("startedat", ">=", filters.started_after), ("startedat", "<", filters.started_before),
                              ("finishedat", ">=", filters.finished_after),
                              ("finishedat", "<", filters.finished_before)):
        if value is not None:
            add("w.%s %s %%s" % (column, op), value)
    return " AND ".join(clauses), params


def _label_condition(req):
    """One label requirement -> (EXISTS/NOT EXISTS clause, *params); key and values are parameters."""
    negate = req.operator in ("!=", "notin", "!")
    if req.operator in ("exists", "!"):
        clause, params = _LABEL_MATCH, [req.key]
    elif req.operator in ("=", "!="):
        clause, params = _LABEL_MATCH + " AND l.value = %s", [req.key, req.values[0]]
    else:
        clause, params = _LABEL_MATCH + " AND l.value = ANY(%s)", [req.key, list(req.values)]
    return ("%sEXISTS (%s)" % ("NOT " if negate else "", clause),) + tuple(params)


def fingerprint(scope, filters):
    """Short hash of scope + filters, stored in page tokens so a token is only used with its query."""
    canon = dict(filters._asdict(), labels=format_selector(filters.labels), scope=list(scope))
    return hashlib.sha256(json.dumps(canon, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def encode_token(started_at, uid, query_fingerprint):
    """Opaque page token: the (startedat, uid) of the last row returned, plus the query fingerprint."""
    payload = json.dumps({"v": TOKEN_VERSION, "s": started_at.isoformat(), "u": uid, "q": query_fingerprint},
                         separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_token(token, query_fingerprint, option="page_token"):
    """(started_at, uid) from a token made by encode_token for the same query; QueryError otherwise."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8"))
        if payload["v"] != TOKEN_VERSION:
            raise ValueError("version")
        started_at, uid = datetime.datetime.fromisoformat(payload["s"]), payload["u"]
        if not isinstance(uid, str) or started_at.tzinfo is not None:
            raise ValueError("fields")
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        raise QueryError("%s: not a token returned by archive_info as next_page_token; "
                         "start again without %s" % (option, option))
    if payload.get("q") != query_fingerprint:
        raise QueryError("%s: the token belongs to a query with other filters or another scope; use it only "
                         "with the same cluster_name, instance_id and filters, or start again without it"
                         % option)
    return started_at, uid


def list_query(scope, filters, limit, after=None, include_workflow=False):
    """Newest first by (startedat, uid); ``after`` = (startedat, uid) of the previous page's last row.

    Fetches limit + 1 rows so the caller knows whether another page exists. The redundant
    ``startedat <= %s`` gives the planner an index bound on (clustername, startedat) or i1.
    """
    condition, params = where(scope, filters)
    if after is not None:
        condition += " AND w.startedat <= %s AND (w.startedat < %s OR w.uid < %s)"
        params += [after[0], after[0], after[1]]
    columns = _ROW_COLUMNS + (", w.workflow::text AS workflow" if include_workflow else "")
    query = ("SELECT %s FROM argo_archived_workflows w WHERE %s "
             "ORDER BY w.startedat DESC, w.uid DESC LIMIT %%s" % (columns, condition))
    return query, params + [limit + 1]


def row_to_workflow(row):
    """A listing row -> the dict archive_info returns (workflow JSON decoded, Argo's NUL marker undone)."""
    started, finished = row[4], row[5]
    item = dict(uid=row[0], name=row[1], namespace=row[2], phase=row[3], started_at=iso(started),
                finished_at=iso(finished), duration_seconds=(finished - started).total_seconds(),
                labels=row[6] or {})
    if len(row) > 7:
        item["workflow"] = json.loads(row[7].replace(NULL_REPLACEMENT, "\\u0000"))
    return item


def group_expression(group_by, option="group_by"):
    """(SQL expression for the group key, extra join, its params) for a group_by value."""
    if group_by in ("phase", "namespace"):
        return "w.%s" % group_by, "", []
    if group_by in ("day", "hour"):
        return "date_trunc('%s', w.startedat)" % group_by, "", []
    if group_by and group_by.startswith(LABEL_GROUP_PREFIX):
        key = group_by[len(LABEL_GROUP_PREFIX):]
        check_key(key, option)
        return "g.value", ("LEFT JOIN argo_archived_workflows_labels g ON g.clustername = w.clustername "
                           "AND g.uid = w.uid AND g.name = %s"), [key]
    raise QueryError("%s: %r is not one of %s or label:<label key> (for example label:workflows.argoproj.io/phase)"
                     % (option, group_by, ", ".join(GROUP_KEYS)))


def stats_query(scope, filters, group_by):
    """Count and duration avg/p50/p95/max (seconds) per group, groups in ascending order."""
    key, join, join_params = group_expression(group_by)
    condition, params = where(scope, filters)
    # One percentile_cont over an array of fractions: one sort per group instead of one per percentile.
    query = ("SELECT s.key, count(*), avg(s.d), percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY s.d), "
             "max(s.d) FROM ("
             "SELECT %s AS key, %s AS d FROM argo_archived_workflows w %s WHERE %s"
             ") s GROUP BY s.key ORDER BY s.key" % (key, _DURATION, join, condition))
    return query, join_params + params


def row_to_stat(row, group_by):
    key = row[0]
    if group_by == "day" and key is not None:
        key = key.date().isoformat()
    elif group_by == "hour" and key is not None:
        key = iso(key)
    return dict(key=key, count=row[1], duration_seconds=dict(
        avg=round(row[2], 3), p50=round(row[3][0], 3), p95=round(row[3][1], 3), max=round(row[4], 3)))


def count_query(scope, filters):
    condition, params = where(scope, filters)
    return "SELECT count(*) FROM argo_archived_workflows w WHERE %s" % condition, params


def oldest_query(scope, filters, limit):
    """The rows a prune would delete first (oldest finishedat), for check-mode samples."""
    condition, params = where(scope, filters)
    return ("SELECT %s FROM argo_archived_workflows w WHERE %s ORDER BY w.finishedat, w.uid LIMIT %%s"
            % (_ROW_COLUMNS, condition)), params + [limit]


def prune_batch_query(scope, filters, batch_size):
    """Delete up to ``batch_size`` of the oldest matching rows; labels go by Argo's ON DELETE CASCADE.

    The inner ORDER BY finishedat walks index i2 (clustername, instanceid, finishedat), as Argo's GC does.
    """
    condition, params = where(scope, filters)
    return ("DELETE FROM argo_archived_workflows d USING ("
            "SELECT w.clustername, w.uid FROM argo_archived_workflows w WHERE %s "
            "ORDER BY w.finishedat LIMIT %%s) b "
            "WHERE d.clustername = b.clustername AND d.uid = b.uid" % condition), params + [batch_size]


CUTOFF_QUERY = "SELECT (now() AT TIME ZONE 'UTC') - %s * interval '1 second'"


def with_finished_before(filters, cutoff):
    """``filters`` narrowed to rows finished before ``cutoff`` (the earlier of both bounds wins)."""
    bound = cutoff if filters.finished_before is None else min(cutoff, filters.finished_before)
    return filters._replace(finished_before=bound)


# ---- running them (through the pg client (pg.py)) ----

def archive_tables(conn):
    """Which of Argo's tables (schema_history and the two archive tables) exist here, in one query."""
    names = (HISTORY_TABLE, ARCHIVE_TABLE, LABELS_TABLE)
    row = pg.run(conn, "SELECT " + ", ".join(["to_regclass(%s) IS NOT NULL"] * len(names)),
                 ["public." + t for t in names], "look for Argo's tables").fetchone()
    return dict(zip(names, row))


def require_archive_tables(conn):
    """Fail clearly when Argo has not created its archive tables in this database."""
    tables = archive_tables(conn)
    missing = [t for t in (ARCHIVE_TABLE, LABELS_TABLE) if not tables[t]]
    if missing:
        raise pg.PgError("PostgreSQL: %s has no table %s: Argo's workflow-controller creates the archive "
                         "tables when it starts with persistence.archive: true (and skipMigration: false); "
                         "check login_db" % (pg.describe(conn.argoops_target), " or ".join(missing)))


def run_list(conn, scope, filters, limit, after=None, include_workflow=False):
    """(workflows, next_page_token or None); ``after`` as decode_token returns it."""
    query, params = list_query(scope, filters, limit, after, include_workflow)
    rows = pg.run(conn, query, params, "list archived workflows").fetchall()
    page = rows[:limit]
    next_token = encode_token(page[-1][4], page[-1][0], fingerprint(scope, filters)) if len(rows) > limit else None
    return [row_to_workflow(r) for r in page], next_token


def run_stats(conn, scope, filters, group_by):
    query, params = stats_query(scope, filters, group_by)
    return [row_to_stat(r, group_by) for r in pg.run(conn, query, params, "compute statistics")]


def run_prune(conn, scope, filters, older_than_seconds, batch_size, check_mode, sample_size=10, before_batch=None):
    """Delete matching rows finished more than ``older_than_seconds`` ago, one transaction per batch.

    ``conn`` must not be in autocommit mode. ``before_batch(conn, cutoff)``, when given, runs first in each
    batch's transaction (the rollup of what the batch is about to delete). Returns deleted, batches, seconds, cutoff (and in check
    mode would_delete + sample instead of deleting).
    """
    started = time.monotonic()
    cutoff = pg.run(conn, CUTOFF_QUERY, [older_than_seconds], "compute cutoff").fetchone()[0]
    pg.commit(conn, "compute cutoff")
    narrowed = with_finished_before(filters, cutoff)
    result = dict(cutoff=iso(cutoff), deleted=0, batches=0)
    if check_mode:
        result["would_delete"] = pg.run(conn, *count_query(scope, narrowed), doing="count rows to prune").fetchone()[0]
        result["sample"] = [row_to_workflow(r) for r in pg.run(conn, *oldest_query(scope, narrowed, sample_size),
                                                               doing="sample rows to prune")]
        pg.rollback(conn)
    else:
        query, params = prune_batch_query(scope, narrowed, batch_size)
        while True:
            if before_batch is not None:
                before_batch(conn, cutoff)
            doing = "delete batch %d" % (result["batches"] + 1)
            deleted = pg.run(conn, query, params, doing).rowcount
            pg.commit(conn, "commit " + doing)
            if deleted == 0:
                break
            result["deleted"] += deleted
            result["batches"] += 1
            if deleted < batch_size:
                break
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def run_schema_status(conn):
    """schema_history version and which archive tables exist in the connected database."""
    tables = archive_tables(conn)
    version = None
    if tables[HISTORY_TABLE]:
        version = pg.run(conn, "SELECT max(schema_version) FROM schema_history",
                         doing="read schema_history").fetchone()[0]
    return dict(schema_version=version, tables=tables,
                archive_ready=tables[ARCHIVE_TABLE] and tables[LABELS_TABLE])


def run_archived_counts(conn):
    """Archived rows per (cluster_name, instance_id)."""
    rows = pg.run(conn, "SELECT clustername, instanceid, count(*) FROM argo_archived_workflows "
                        "GROUP BY clustername, instanceid ORDER BY clustername, instanceid",
                  doing="count archived workflows")
    return [dict(cluster_name=r[0], instance_id=r[1], count=r[2]) for r in rows]
