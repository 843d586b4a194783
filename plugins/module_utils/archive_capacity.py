# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity and cost view from the hourly rollups: concurrency and CPU/memory demand by hour of day and
day of week, a suggested baseline and burst, and a cost estimate.

Units: Argo's ``status.resourcesDuration`` counts CPU in core-seconds and memory in 100Mi-seconds (Argo's
resource-duration defaults), so core-hours = cpu / 3600 and GiB-hours = memory * 100 / 1024 / 3600. The
demand of a workflow is booked to the hour it started in (that is how the rollups group it).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.argoops.workflows.plugins.module_utils import archive_rollup, pg
from ansible_collections.argoops.workflows.plugins.module_utils.archive_sql import QueryError, iso

MEMORY_UNIT_GIB = 100.0 / 1024.0  # one unit of Argo's memory resourcesDuration is 100Mi for one second
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

HOURS_QUERY = (
    "SELECT c.hour, c.peak, coalesce(h.cpu, 0), coalesce(h.memory, 0), coalesce(h.runs, 0) FROM "
    + archive_rollup.SCHEMA + ".concurrency c LEFT JOIN (SELECT clustername, instanceid, hour, sum(cpu_seconds) AS cpu, "
    "sum(memory_seconds) AS memory, sum(count)::bigint AS runs FROM " + archive_rollup.SCHEMA + ".hourly "
    "GROUP BY 1, 2, 3) h ON h.clustername = c.clustername AND h.instanceid = c.instanceid AND h.hour = c.hour "
    "WHERE c.clustername = %s AND c.instanceid = %s {range} ORDER BY c.hour")


def check_price(value, option):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise QueryError("%s: %r is not a positive number (a price per hour, for example 0.04)" % (option, value))
    return float(value)


def percentile(values, fraction):
    """percentile_cont over ``values`` (linear interpolation between the closest ranks)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = fraction * (len(ordered) - 1)
    low = int(math.floor(rank))
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _profile(hours, key, labels):
    buckets = dict((label, []) for label in labels)
    for hour in hours:
        buckets[labels[key(hour["hour"])]].append(hour)
    out = []
    for label in labels:
        items = buckets[label]
        out.append(dict(key=label, hours=len(items),
                        peak_concurrency=max([h["peak"] for h in items] or [0]),
                        p95_concurrency=round(percentile([h["peak"] for h in items], 0.95), 3),
                        avg_cores=round(sum(h["cores"] for h in items) / len(items), 3) if items else 0.0,
                        avg_memory_gib=round(sum(h["memory_gib"] for h in items) / len(items), 3) if items else 0.0))
    return out


def capacity(rows, price_per_core_hour=None, price_per_gib_hour=None):
    """The capacity view from rows (hour, peak, cpu_seconds, memory_seconds, runs), hours with workflows only."""
    hours = [dict(hour=r[0], peak=r[1], runs=r[4], cores=r[2] / 3600.0, memory_gib=r[3] * MEMORY_UNIT_GIB / 3600.0)
             for r in rows]
    peaks = [h["peak"] for h in hours]
    baseline = int(math.ceil(percentile(peaks, 0.5)))
    p95 = percentile(peaks, 0.95)
    peak = max(peaks or [0])
    core_hours = sum(h["cores"] for h in hours)
    gib_hours = sum(h["memory_gib"] for h in hours)
    cost = None
    if price_per_core_hour is not None or price_per_gib_hour is not None:
        cost = dict(cpu=round(core_hours * (price_per_core_hour or 0), 2),
                    memory=round(gib_hours * (price_per_gib_hour or 0), 2))
        cost["total"] = round(cost["cpu"] + cost["memory"], 2)
    return dict(
        hours_with_workflows=len(hours), first_hour=iso(hours[0]["hour"]) if hours else None,
        last_hour=iso(hours[-1]["hour"]) if hours else None,
        peak_concurrency=peak, p95_concurrency=round(p95, 3),
        suggested=dict(baseline=baseline, burst=max(0, int(math.ceil(p95)) - baseline),
                       burst_to_peak=max(0, peak - baseline)),
        core_hours=round(core_hours, 3), gib_hours=round(gib_hours, 3), cost=cost,
        by_hour_of_day=_profile(hours, lambda t: t.hour, list(range(24))),
        by_day_of_week=_profile(hours, lambda t: t.weekday(), list(WEEKDAYS)),
        series=[dict(hour=iso(h["hour"]), runs=h["runs"], peak_concurrency=h["peak"], cores=round(h["cores"], 3),
                     memory_gib=round(h["memory_gib"], 3)) for h in hours])


def run_capacity(conn, scope, filters, price_per_core_hour, price_per_gib_hour):
    if archive_rollup.schema_state(conn) != "ours":
        raise archive_rollup.RollupError("capacity: needs the rollups (schema %s); run archive_rollup first"
                                         % archive_rollup.SCHEMA)
    clauses, params = [], [scope.cluster_name, scope.instance_id]
    if filters.started_after is not None:
        clauses.append("AND c.hour >= date_trunc('hour', %s::timestamp)")
        params.append(filters.started_after)
    if filters.started_before is not None:
        clauses.append("AND c.hour < %s")
        params.append(filters.started_before)
    rows = pg.run(conn, HOURS_QUERY.format(range=" ".join(clauses)), params, "read the capacity series").fetchall()
    return capacity(rows, price_per_core_hour, price_per_gib_hour)
