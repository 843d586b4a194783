# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""archive_info's statistics served from the hourly rollups (archive_rollup) instead of raw rows.

The rollups keep every duration of an hour group, so the same aggregate (count, avg, percentile_cont,
max) runs over the same multiset of values the raw query sorts: the result is identical, and it still
covers rows pruned after they were rolled up. Rollups answer only what they can answer exactly: filters
on scope, namespaces, phases and start times on whole hours, grouped by phase, namespace, day or hour;
anything else (labels, names, finish times, label groups) is served from raw rows.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.argoops.workflows.plugins.module_utils import archive_rollup, archive_sql, pg

ROLLUP_GROUPS = {"phase": "h.phase", "namespace": "h.namespace", "day": "date_trunc('day', h.hour)",
                 "hour": "h.hour"}
SOURCES = ("auto", "raw", "rollup")


def _on_the_hour(moment):
    return moment is None or (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)


def why_not_rollup(filters, group_by):
    """None when the rollups can answer this query exactly, else the reason (for the error of source=rollup)."""
    if group_by not in ROLLUP_GROUPS:
        return "group_by %r needs raw rows (rollups group by %s)" % (group_by, ", ".join(sorted(ROLLUP_GROUPS)))
    if filters.name or filters.labels:
        return "name and label_selector filters need raw rows"
    if filters.finished_after or filters.finished_before:
        return "finished_after/finished_before need raw rows"
    if not (_on_the_hour(filters.started_after) and _on_the_hour(filters.started_before)):
        return "started_after/started_before must be on a whole hour (UTC) for the rollups"
    return None


def stats_query(scope, filters, group_by):
    clauses = ["h.clustername = %s", "h.instanceid = %s"]
    params = [scope.cluster_name, scope.instance_id]
    if filters.namespaces:
        clauses.append("h.namespace = ANY(%s)")
        params.append(list(filters.namespaces))
    if filters.phases:
        clauses.append("h.phase = ANY(%s)")
        params.append(list(filters.phases))
    if filters.started_after is not None:
        clauses.append("h.hour >= %s")
        params.append(filters.started_after)
    if filters.started_before is not None:
        clauses.append("h.hour < %s")
        params.append(filters.started_before)
    query = ("SELECT s.key, count(*), avg(s.d), percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY s.d), "
             "max(s.d) FROM (SELECT %s AS key, unnest(h.durations) AS d FROM %s.hourly h WHERE %s) s "
             "GROUP BY s.key ORDER BY s.key" % (ROLLUP_GROUPS[group_by], archive_rollup.SCHEMA, " AND ".join(clauses)))
    return query, params


def uncovered_count(conn, scope, filters):
    """Raw rows matching the query that are not rolled up yet (0 = the rollups cover the range)."""
    condition, params = archive_sql.where(scope, filters)
    query = ("SELECT count(*) FROM argo_archived_workflows w WHERE %s AND NOT EXISTS (SELECT 1 FROM %s.workflow r "
             "WHERE r.clustername = w.clustername AND r.uid = w.uid)" % (condition, archive_rollup.SCHEMA))
    return pg.run(conn, query, params, "check rollup coverage").fetchone()[0]


def run_stats(conn, scope, filters, group_by, source):
    """(stats, source used). ``source`` auto: rollups when they exist, can answer and cover every matching
    raw row; raw otherwise. rollup: rollups or a clear error. raw: raw rows."""
    if source != "raw":
        reason = why_not_rollup(filters, group_by)
        if reason is None:
            state = archive_rollup.schema_state(conn)
            if state != "ours":
                reason = "no rollup schema %s in this database (run archive_rollup)" % archive_rollup.SCHEMA
            elif uncovered_count(conn, scope, filters):
                reason = "rows archived since the last archive_rollup run are not rolled up yet"
        if reason is None:
            query, params = stats_query(scope, filters, group_by)
            rows = pg.run(conn, query, params, "compute statistics from rollups")
            return [archive_sql.row_to_stat(r, group_by) for r in rows], "rollup"
        if source == "rollup":
            raise archive_rollup.RollupError("stats_source: the rollups cannot answer this query: %s" % reason)
    return archive_sql.run_stats(conn, scope, filters, group_by), "raw"
