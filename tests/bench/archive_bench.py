"""Benchmark: Argo's own archive list query (LIMIT/OFFSET) vs archive_info's keyset pages, statistics over
the whole archive, and batched pruning vs Argo's one big DELETE -- side by side on one database.

    make bench                      # or: .venv/bin/python tests/bench/archive_bench.py [--rows N] [--fresh]

The dataset (1,000,000 archived workflows by default, rows shaped exactly as Argo writes them, schema from
Argo's own migrations; see argo_archive.py) lives in a PostgreSQL data directory under the cache dir and is
reused by later runs. Prints numbers and EXPLAIN plans; asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time

import psycopg
from psycopg import sql

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(REPO, "tests", "controlplane"), os.path.join(REPO, ".build", "collections")]

import argo_archive  # noqa: E402  pylint: disable=wrong-import-position
from cplane import build, paths, postgres  # noqa: E402

from ansible_collections.argoops.workflows.plugins.module_utils import archive_rollup, archive_rollup_stats, archive_sql  # noqa: E402
from ansible_collections.argoops.workflows.plugins.module_utils.archive_selector import parse_selector  # noqa: E402

BASE_DB = "argo_bench_base"  # the cached dataset; each run works on a copy (DB), so pruning costs no rebuild
DB = "argo_bench"
DATASET_VERSION = "argo-bench v3"  # bump when the generator changes, so cached datasets are rebuilt
ARGO_WRITTEN = 2000  # rows written by Argo's own ArchiveWorkflow; the rest are copies of one of them
NAMESPACES = ("argo", "team-a", "team-b", "team-c")
DEPTHS = (0, 10000, 100000, 500000)
PAGE = 100
PHASE_FILTER = "workflows.argoproj.io/phase=Succeeded"
SCOPE = archive_sql.Scope("default", "")
PRUNE_SCOPE = archive_sql.Scope("bench-prune", "")  # a second controller's rows in the same archive, to prune

# Argo's ListWorkflows for PostgreSQL (persist/sqldb/workflow_archive.go + selector.go +
# archived_workflow_labels.go, v4.0.5) as upper/db renders it: a CTE that extracts metadata/status from
# the workflow JSON, label requirements inlined as EXISTS sub-queries, ORDER BY startedat DESC, and
# LIMIT limit+1 (argo-server asks for one extra row to know whether more exist) OFFSET offset.
ARGO_LIST = (
    'WITH workflows AS (SELECT "name", "namespace", "uid", "phase", "startedat", "finishedat", '
    '"creationtimestamp", coalesce(workflow->\'metadata\', \'{{}}\') as metadata, '
    'coalesce(workflow->\'status\', \'{{}}\') as status, workflow->\'spec\'->>\'suspend\' as suspend, '
    'coalesce(workflow->\'spec\'->\'arguments\', \'{{}}\') as arguments FROM "argo_archived_workflows" '
    'WHERE (("clustername" = %s AND "instanceid" = %s){labels}) ORDER BY "startedat" DESC LIMIT {limit} '
    'OFFSET {offset}) SELECT "name", "namespace", "uid", "phase", "startedat", "finishedat", "creationtimestamp", '
    'coalesce(metadata->>\'labels\', \'{{}}\') as labels, coalesce(metadata->>\'annotations\', \'{{}}\') as '
    'annotations, coalesce(status->>\'progress\', \'\') as progress, "suspend", coalesce(arguments::text, '
    '\'{{}}\') as arguments, coalesce(status->>\'message\', \'\') as message, '
    'coalesce(status->>\'estimatedDuration\', \'0\') as estimatedduration, '
    'coalesce(status->>\'resourcesDuration\', \'{{}}\') as resourcesduration FROM "workflows"')
ARGO_PHASE_LABEL = (" AND exists (select 1 from argo_archived_workflows_labels where clustername = "
                    "argo_archived_workflows.clustername and uid = argo_archived_workflows.uid and "
                    "name = 'workflows.argoproj.io/phase' and value = 'Succeeded')")
# Argo's archive GC (DeleteExpiredWorkflows): one statement.
ARGO_GC = ("DELETE FROM \"argo_archived_workflows\" WHERE ((\"clustername\" = %s AND \"instanceid\" = %s) "
           "AND finishedat < current_timestamp - interval '{seconds}' second)")


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def bench_base() -> str:
    """Under the cache dir, unless PostgreSQL (run as `postgres` when we are root) cannot reach it."""
    base = os.environ.get("ARGOOPS_BENCH_DIR") or os.path.join(paths.cache_dir(), "bench")
    if os.geteuid() == 0 and subprocess.run(["runuser", "-u", postgres.RUN_AS, "--", "test", "-x",
                                             os.path.dirname(base)], check=False).returncode != 0:
        fallback = os.path.join("/var/tmp", "argoops-workflows", "bench")
        log(f"{base} is not reachable for the postgres user; keeping the dataset in {fallback}")
        base = fallback
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o755)
    return base


def dataset(pg_info, rows: int, prune_rows: int, fresh: bool) -> dict:
    """The cached dataset, or a new one: Argo's migrations, ARGO_WRITTEN rows through Argo's own writer, the
    rest of ``rows`` copied from one of those; plus 2 x ``prune_rows`` of cluster PRUNE_SCOPE that finished
    in 2020 and in 2021, for the prune comparison. Returns facts about it."""
    marker = f"{DATASET_VERSION} rows={rows} prune_rows={prune_rows}"
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        found = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                              [BASE_DB]).fetchone()
        if found and found[0] and found[0].startswith(marker) and not fresh:
            log(f"reusing the cached dataset ({found[0]})")
            return dict(cached=True, note=found[0])
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BASE_DB)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BASE_DB)))
    db_tool = build.ensure("argo-db", log).path("db")
    version = argo_archive.migrate(db_tool, pg_info, BASE_DB)
    began = time.monotonic()
    argo_archive.fake_archived(db_tool, pg_info, BASE_DB, ARGO_WRITTEN, 7, build.ARGO_VERSION,
                               namespaces=NAMESPACES)
    written_s = time.monotonic() - began
    with psycopg.connect(pg_info.dsn(BASE_DB), autocommit=True) as conn:
        note = (f"{marker} built {datetime.date.today()}: schema_history {version} by Argo's migrations; "
                f"{ARGO_WRITTEN} rows by Argo's ArchiveWorkflow in {written_s:.0f}s; ")
        note += add_rows(conn, rows - ARGO_WRITTEN, prune_rows)
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(BASE_DB), sql.Literal(note)))
    return dict(cached=False, note=note)


def add_rows(conn, copies: int, prune_rows: int) -> str:
    """Copies of a workflow Argo wrote: ``copies`` started within the last year, then the prune rows."""
    template = argo_archive.argo_template(conn)
    began = time.monotonic()
    year_ago = conn.execute("SELECT date_trunc('day', now() AT TIME ZONE 'UTC') - interval '365 days'").fetchone()[0]
    argo_archive.generate(conn, copies, template, namespaces=NAMESPACES, start=year_ago, seed=0.6180339887,
                          progress=lambda done: log(f"copied {done}/{copies} rows ({time.monotonic() - began:.0f}s)"))
    copies_s = time.monotonic() - began
    began = time.monotonic()
    for start in ("2020-01-01", "2021-01-01"):
        argo_archive.generate(conn, prune_rows, template, namespaces=NAMESPACES, start=start,
                              span_seconds=300 * 86400, cluster_name=PRUNE_SCOPE.cluster_name, seed=0.25)
    prune_s = time.monotonic() - began
    began = time.monotonic()
    conn.execute("VACUUM (ANALYZE) argo_archived_workflows")
    conn.execute("VACUUM (ANALYZE) argo_archived_workflows_labels")
    return (f"{copies} copied in {copies_s:.0f}s ({copies / copies_s:.0f} rows/s); {2 * prune_rows} rows of cluster "
            f"{PRUNE_SCOPE.cluster_name} in {prune_s:.0f}s; VACUUM ANALYZE {time.monotonic() - began:.0f}s")


def working_copy(pg_info) -> float:
    """DB as a file copy of BASE_DB (seconds it took): this run may delete rows, the cache stays whole."""
    began = time.monotonic()
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(DB), sql.Identifier(BASE_DB)))
    return time.monotonic() - began


def timed(conn, query, params, runs: int):
    """(median milliseconds, rows of the last run); slow queries (> 1 s) run once."""
    samples, result = [], None
    for attempt in range(runs + 1):
        began = time.perf_counter()
        result = conn.execute(query, params).fetchall()
        elapsed = (time.perf_counter() - began) * 1000
        if attempt == 0 and elapsed > 1000:
            return elapsed, result
        if attempt:
            samples.append(elapsed)
    return statistics.median(samples), result


def keyset_position(conn, filters, depth):
    """Harness only (not measured): (startedat, uid) of the depth-th row, where page `depth` starts after."""
    if depth == 0:
        return None
    condition, params = archive_sql.where(SCOPE, filters)
    return conn.execute(f"SELECT w.startedat, w.uid FROM argo_archived_workflows w WHERE {condition} "
                        "ORDER BY w.startedat DESC, w.uid DESC LIMIT 1 OFFSET %s", params + [depth - 1]).fetchone()


def explain(conn, query, params, analyze=True) -> str:
    options = "ANALYZE, BUFFERS" if analyze else "COSTS"
    return "\n".join("    " + r[0] for r in conn.execute(f"EXPLAIN ({options}) " + query, params))


def list_pages(conn, runs: int, plans: dict, rows: int) -> list:
    table = []
    depths = [d for d in DEPTHS if d < rows]
    for label_filter in (False, True):
        filters = archive_sql.NO_FILTERS._replace(
            labels=tuple(parse_selector(PHASE_FILTER)) if label_filter else ())
        for depth in depths:
            argo_sql = ARGO_LIST.format(labels=ARGO_PHASE_LABEL if label_filter else "", limit=PAGE + 1, offset=depth)
            argo_ms, argo_rows = timed(conn, argo_sql, [SCOPE.cluster_name, SCOPE.instance_id], runs)
            ours_sql, ours_params = archive_sql.list_query(SCOPE, filters, PAGE, keyset_position(conn, filters, depth))
            ours_ms, ours_rows = timed(conn, ours_sql, ours_params, runs)
            same = sorted(r[4] for r in argo_rows) == sorted(r[4] for r in ours_rows)
            table.append((depth, PHASE_FILTER if label_filter else "-", argo_ms, ours_ms, len(ours_rows), same))
            log(f"page at depth {depth} filter={label_filter}: argo {argo_ms:.1f} ms, keyset {ours_ms:.1f} ms")
            if depth == depths[-1] and label_filter:
                plans["Argo list, label filter, OFFSET %d" % depth] = explain(
                    conn, argo_sql, [SCOPE.cluster_name, SCOPE.instance_id])
                plans["archive_info list, label filter, depth %d" % depth] = explain(conn, ours_sql, ours_params)
            if depth == 0 and not label_filter:
                plans["archive_info list, first page"] = explain(conn, ours_sql, ours_params)
    return table


def stats_day(conn, runs: int, plans: dict):
    query, params = archive_sql.stats_query(SCOPE, archive_sql.NO_FILTERS, "day")
    ms, rows = timed(conn, query, params, runs)
    plans["archive_info group_by: day (all rows)"] = explain(conn, query, params)
    return ms, len(rows), sum(r[1] for r in rows)


def rollups(pg_info, runs: int) -> dict:
    """archive_rollup on the whole dataset, then after 10k new rows (started within one recent day), and
    the statistics queries side by side: raw rows vs rollups, plus a label filter the rollups cannot serve."""
    facts = {}
    with psycopg.connect(pg_info.dsn(DB)) as conn:
        began = time.perf_counter()
        archive_rollup.ensure_schema(conn, create=True)
        facts["first_rows"] = archive_rollup.roll_up(conn)
        conn.commit()
        facts["first_s"] = time.perf_counter() - began
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) argoops_rollup.workflow")
        conn.execute("VACUUM (ANALYZE) argoops_rollup.hourly")
        template = argo_archive.argo_template(conn)
        recent = conn.execute("SELECT date_trunc('day', now() AT TIME ZONE 'UTC')").fetchone()[0]
        argo_archive.generate(conn, 10000, template, namespaces=NAMESPACES, start=recent, span_seconds=86400,
                              seed=0.3)
        conn.autocommit = False
        began = time.perf_counter()
        facts["inc_rows"] = archive_rollup.roll_up(conn)
        conn.commit()
        facts["inc_s"] = time.perf_counter() - began
        began = time.perf_counter()
        facts["rerun_rows"] = archive_rollup.roll_up(conn)
        conn.commit()
        facts["rerun_s"] = time.perf_counter() - began
        conn.autocommit = True
        raw_q = archive_sql.stats_query(SCOPE, archive_sql.NO_FILTERS, "day")
        roll_q = archive_rollup_stats.stats_query(SCOPE, archive_sql.NO_FILTERS, "day")
        facts["raw_ms"], raw_rows = timed(conn, *raw_q, runs)
        facts["roll_ms"], roll_rows = timed(conn, *roll_q, runs)
        facts["same"] = raw_rows == roll_rows
        facts["groups"] = len(roll_rows)
        began = time.perf_counter()
        facts["uncovered"] = archive_rollup_stats.uncovered_count(conn, SCOPE, archive_sql.NO_FILTERS)
        facts["coverage_ms"] = (time.perf_counter() - began) * 1000
        labelled = archive_sql.NO_FILTERS._replace(labels=tuple(parse_selector("workflows.argoproj.io/phase=Failed")))
        facts["label_ms"], label_rows = timed(conn, *archive_sql.stats_query(SCOPE, labelled, "day"), runs)
        facts["label_groups"] = len(label_rows)
        facts["sizes"] = conn.execute("SELECT pg_total_relation_size('argoops_rollup.workflow') / 1048576, "
                                      "pg_total_relation_size('argoops_rollup.hourly') / 1048576, "
                                      "(SELECT count(*) FROM argoops_rollup.hourly)").fetchone()
    return facts


def durable(conn, on: bool) -> None:
    """The cached server runs without fsync (test server settings); prune timings use real durability."""
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        conn.execute(f"ALTER SYSTEM SET {setting} = {'on' if on else 'off'}")
    conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)


def prune(pg_info, plans: dict) -> dict:
    """Delete PRUNE_SCOPE's 2020 rows with archive_prune's batches and its 2021 rows with Argo's one DELETE."""
    with psycopg.connect(pg_info.dsn(DB), autocommit=True) as conn:
        now = conn.execute("SELECT now() AT TIME ZONE 'UTC'").fetchone()[0]
        ttl_2020 = int((now - datetime.datetime(2020, 12, 1)).total_seconds())
        ttl_2021 = int((now - datetime.datetime(2021, 12, 1)).total_seconds())
        scope = [PRUNE_SCOPE.cluster_name, PRUNE_SCOPE.instance_id]
        batch_sql, batch_params = archive_sql.prune_batch_query(
            PRUNE_SCOPE, archive_sql.with_finished_before(archive_sql.NO_FILTERS, datetime.datetime(2020, 12, 1)), 1000)
        with conn.transaction(force_rollback=True):
            plans["archive_prune batch (1000 rows, rolled back)"] = explain(conn, batch_sql, batch_params)
        plans["Argo archive GC DELETE (not executed)"] = explain(
            conn, ARGO_GC.format(seconds=ttl_2021), scope, analyze=False)
        durable(conn, True)
        try:
            with psycopg.connect(pg_info.dsn(DB)) as batch_conn:
                result = archive_sql.run_prune(batch_conn, PRUNE_SCOPE, archive_sql.NO_FILTERS, ttl_2020, 1000, False)
            began = time.perf_counter()
            with conn.transaction():
                gc_rows = conn.execute(ARGO_GC.format(seconds=ttl_2021), scope).rowcount
            gc_s = time.perf_counter() - began
        finally:
            durable(conn, False)
        left = conn.execute("SELECT count(*) FROM argo_archived_workflows WHERE clustername = %s",
                            [PRUNE_SCOPE.cluster_name]).fetchone()[0]
    return dict(batched=result, gc_rows=gc_rows, gc_s=gc_s, left=left)


def sizes(conn) -> dict:
    row = conn.execute(
        "SELECT pg_relation_size('argo_archived_workflows'), "
        "pg_total_relation_size('argo_archived_workflows') - pg_relation_size('argo_archived_workflows') "
        "- pg_indexes_size('argo_archived_workflows'), pg_indexes_size('argo_archived_workflows'), "
        "pg_total_relation_size('argo_archived_workflows_labels'), pg_database_size(current_database()), "
        "(SELECT count(*) FROM argo_archived_workflows WHERE clustername = %s), "
        "(SELECT count(*) FROM argo_archived_workflows), (SELECT count(*) FROM argo_archived_workflows_labels)",
        [SCOPE.cluster_name]).fetchone()
    mib = [round(v / 1048576) for v in row[:5]]
    return dict(heap_mib=mib[0], toast_mib=mib[1], index_mib=mib[2], labels_mib=mib[3], database_mib=mib[4],
                rows=row[5], all_rows=row[6], label_rows=row[7])


def report_rollups(r) -> None:
    print("\nRollups (archive_rollup; one transaction per run)")
    print(f"  first rollup: {r['first_rows']} rows in {r['first_s']:.1f} s; after 10k new rows: {r['inc_rows']} rows "
          f"in {r['inc_s']:.2f} s; re-run: {r['rerun_rows']} rows in {r['rerun_s']:.2f} s")
    print(f"  rollup tables: narrow rows {r['sizes'][0]} MiB, hourly {r['sizes'][1]} MiB ({r['sizes'][2]} groups)")
    print(f"  {'query':<48} | {'raw rows':>10} | {'rollups':>10} | same result")
    print(f"  {'group_by day, count + avg/p50/p95/max':<48} | {r['raw_ms']:>7.0f} ms | {r['roll_ms']:>7.0f} ms | "
          f"{'yes' if r['same'] else 'NO'} ({r['groups']} groups)")
    print(f"  {'coverage check (rows not rolled up)':<48} | {'':>10} | {r['coverage_ms']:>7.0f} ms | "
          f"{r['uncovered']} uncovered")
    print(f"  {'group_by day, label phase=Failed (raw only)':<48} | {r['label_ms']:>7.0f} ms | {'-':>10} | "
          f"{r['label_groups']} groups")


def report(facts, table, stats, pruned, plans, settings) -> None:
    print(f"\nArchive benchmark -- PostgreSQL {settings['server_version']}, shared_buffers "
          f"{settings['shared_buffers']}, work_mem {settings['work_mem']}, "
          f"max_parallel_workers_per_gather {settings['max_parallel_workers_per_gather']}")
    print(f"dataset: {facts['note']}")
    print(f"  this run works on a file copy of it ({facts['copy_s']:.0f}s to make)")
    s = facts["sizes"]
    print(f"  {s['rows']} workflows of cluster {SCOPE.cluster_name} ({s['all_rows']} with {PRUNE_SCOPE.cluster_name}), "
          f"{s['label_rows']} labels; heap {s['heap_mib']} MiB, toast {s['toast_mib']} MiB, "
          f"indexes {s['index_mib']} MiB, labels table {s['labels_mib']} MiB, database {s['database_mib']} MiB")
    print(f"\nList one page of {PAGE} (median ms; one run when it took over 1 s)")
    print(f"{'depth':>8} | {'label filter':<38} | {'Argo LIMIT/OFFSET':>17} | {'archive_info keyset':>19} | "
          f"{'speed-up':>8} | same rows")
    for depth, label, argo_ms, ours_ms, count, same in table:
        print(f"{depth:>8} | {label:<38} | {argo_ms:>14.1f} ms | {ours_ms:>16.1f} ms | {argo_ms / ours_ms:>7.0f}x | "
              f"{'yes' if same else 'NO'} ({count} rows)")
    ms, groups, total = stats
    print(f"\nStatistics, group_by: day over all rows: {ms:.0f} ms ({groups} groups, {total} workflows; "
          f"count + duration avg/p50/p95/max)")
    b = pruned["batched"]
    print("\nPrune (durable settings: fsync, synchronous_commit, full_page_writes on)")
    print(f"  archive_prune, batches of 1000: {b['deleted']} rows in {b['batches']} transactions, {b['seconds']:.1f} s "
          f"= {b['deleted'] / b['seconds']:.0f} rows/s (a transaction holds its locks ~{1000 * b['seconds'] / b['batches']:.0f} ms "
          f"on average)")
    print(f"  Argo GC, one DELETE:            {pruned['gc_rows']} rows in 1 transaction, {pruned['gc_s']:.1f} s "
          f"= {pruned['gc_rows'] / pruned['gc_s']:.0f} rows/s (locks held {pruned['gc_s']:.1f} s)")
    print(f"  rows of cluster {PRUNE_SCOPE.cluster_name} left: {pruned['left']}")
    print("\nEXPLAIN plans")
    for title, plan in plans.items():
        print(f"\n  -- {title}\n{plan}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1000000, help="archived workflows in the dataset")
    parser.add_argument("--prune-rows", type=int, default=100000, help="rows each prune method deletes")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per fast query (median)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the dataset even when cached")
    parser.add_argument("--keep-running", action="store_true", help="leave the bench PostgreSQL running")
    args = parser.parse_args()
    server = postgres.PostgresServer(bench_base())
    pg_info = server.start(log)
    try:
        facts = dataset(pg_info, args.rows, args.prune_rows, args.fresh)
        facts["copy_s"] = working_copy(pg_info)
        plans = {}
        with psycopg.connect(pg_info.dsn(DB), autocommit=True) as conn:
            facts["sizes"] = sizes(conn)
            settings = dict(conn.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                                         "('server_version', 'shared_buffers', 'work_mem', "
                                         "'max_parallel_workers_per_gather')").fetchall())
            table = list_pages(conn, args.runs, plans, args.rows)
            stats = stats_day(conn, args.runs, plans)
        rolled = rollups(pg_info, args.runs)
        pruned = prune(pg_info, plans)
        report(facts, table, stats, pruned, plans, settings)
        report_rollups(rolled)
    finally:
        if server.running():
            with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        if not args.keep_running:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
