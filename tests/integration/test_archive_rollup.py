"""archive_rollup (and archive_prune rollup=true) against a real PostgreSQL with Argo's migrated schema.

The oracle is a plain Python recompute from the archive rows (``snapshot`` + the stored JSON), never the
module's SQL; percentile identity is checked against percentile_cont over the raw rows."""
import collections
import datetime
import json
import os
import random
import sys

import psycopg
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import argo_archive  # noqa: E402  pylint: disable=wrong-import-position
from cplane import build  # noqa: E402  (tests/controlplane is on sys.path through conftest)

DB = "argoops_it_archive_rollup"
WFT = "workflows.argoproj.io/workflow-template"
BASE = datetime.datetime(2024, 3, 1)


def add_random(conn, rng, count, template, now=None):
    """``count`` workflows with random scope, namespace, phase, template, start, duration and resources."""
    for i in range(count):
        started = (now or BASE) + datetime.timedelta(seconds=rng.randrange(0, 3 * 86400))
        finished = started + datetime.timedelta(seconds=rng.choice((0, rng.randrange(1, 400), rng.randrange(1, 9000))))
        labels = {}
        if rng.random() < 0.6:
            labels[WFT] = rng.choice(("etl", "build", "report"))
        wf = argo_archive.argo_workflow(template, "r-%d-%d" % (i, rng.randrange(10 ** 6)), rng.choice(("ci", "prod")),
                                        rng.choice(("Succeeded", "Failed", "Error")), started, finished, labels)
        wf["status"]["resourcesDuration"] = {"cpu": rng.randrange(0, 500), "memory": rng.randrange(0, 9000)}
        argo_archive.archive_workflow(conn, wf, cluster_name=rng.choice(("default", "other")),
                                      instance_id=rng.choice(("", "i2")))


@pytest.fixture
def archive(request, postgres, argo_db_tool):
    argo_archive.archive_database(request, DB)
    argo_archive.fake_archived(argo_db_tool, postgres, DB, 1, 15, build.ARGO_VERSION)
    rng = random.Random(15)
    with psycopg.connect(postgres.dsn(DB), autocommit=True) as conn:
        template = argo_archive.argo_template(conn)  # a workflow Argo itself wrote, then only our rows
        conn.execute("DELETE FROM argo_archived_workflows")
        add_random(conn, rng, 300, template)
    yield dict(args=postgres.connect_params(DB), dsn=postgres.dsn(DB), rng=rng, template=template,
               password=postgres.password)
    argo_archive.drop_database(postgres, DB)


def raw_facts(conn):
    """One dict per archive row, computed in Python from the stored row and JSON."""
    facts = []
    for cluster, instance, uid, ns, phase, started, finished, body in conn.execute(
            "SELECT clustername, instanceid, uid, namespace, phase, startedat, finishedat, workflow::text "
            "FROM argo_archived_workflows"):
        wf = json.loads(body)
        labels = wf["metadata"].get("labels", {})
        resources = wf["status"].get("resourcesDuration", {})
        hour = started.replace(minute=0, second=0, microsecond=0)
        facts.append(dict(scope=(cluster, instance), uid=uid, key=(cluster, instance, ns, phase, labels.get(WFT, "none"), hour),
                          started=started, finished=finished, duration=(finished - started).total_seconds(),
                          cpu=resources.get("cpu", 0), memory=resources.get("memory", 0)))
    return facts


def expected_hourly(facts):
    groups = collections.defaultdict(list)
    for fact in facts:
        groups[fact["key"]].append(fact)
    return {key: (len(g), sum(f["duration"] for f in g), min(f["duration"] for f in g), max(f["duration"] for f in g),
                  sorted(f["duration"] for f in g), sum(f["cpu"] for f in g), sum(f["memory"] for f in g))
            for key, g in groups.items()}


def expected_concurrency(facts):
    """Brute force: for every hour a workflow overlaps, the most workflows running at one instant in it
    (the instants that matter are the hour's start and every start inside it)."""
    hours = set()
    for f in facts:
        hour = f["started"].replace(minute=0, second=0, microsecond=0)
        last = max(f["started"], f["finished"] - datetime.timedelta(microseconds=1))
        while hour <= last:
            hours.add(f["scope"] + (hour,))
            hour += datetime.timedelta(hours=1)
    peaks = {}
    for cluster, instance, hour in hours:
        mine = [f for f in facts if f["scope"] == (cluster, instance) and f["finished"] > f["started"]]
        instants = [hour] + [f["started"] for f in mine if hour <= f["started"] < hour + datetime.timedelta(hours=1)]
        peaks[(cluster, instance, hour)] = max(sum(1 for f in mine if f["started"] <= t < f["finished"])
                                               for t in instants)
    return peaks


def rollup_tables(conn):
    hourly = {tuple(r[:6]): (r[6], r[7], r[8], r[9], sorted(r[10]), r[11], r[12]) for r in conn.execute(
        "SELECT clustername, instanceid, namespace, phase, template, hour, count, duration_sum, duration_min, "
        "duration_max, durations, cpu_seconds, memory_seconds FROM argoops_rollup.hourly")}
    peaks = {tuple(r[:3]): r[3] for r in conn.execute(
        "SELECT clustername, instanceid, hour, peak FROM argoops_rollup.concurrency")}
    return hourly, peaks


def rollup(archive, check=False, **args):
    result = argo_archive.run_module("archive_rollup", dict(archive["args"], **args), check=check)
    assert archive["password"] not in result["stdout"] + result["stderr"]
    return result


def assert_rollups_match(conn, facts):
    hourly, peaks = rollup_tables(conn)
    assert hourly == expected_hourly(facts)
    assert peaks == expected_concurrency(facts)


def test_rollup_matches_recompute_incrementally_and_reruns_change_nothing(archive):
    check = rollup(archive, check=True)
    assert check["changed"] is True and check["rolled_up"] == 300 and check["schema_created"] is True
    with psycopg.connect(archive["dsn"]) as conn:
        assert conn.execute("SELECT to_regnamespace('argoops_rollup')").fetchone()[0] is None
    first = rollup(archive)
    assert first["changed"] is True and first["rolled_up"] == 300
    with psycopg.connect(archive["dsn"]) as conn:
        facts = raw_facts(conn)
        assert_rollups_match(conn, facts)
        before = rollup_tables(conn)
    again = rollup(archive)
    assert again["changed"] is False and again["rolled_up"] == 0
    with psycopg.connect(archive["dsn"], autocommit=True) as conn:
        assert rollup_tables(conn) == before
        add_random(conn, archive["rng"], 120, archive["template"])
    assert rollup(archive, check=True)["rolled_up"] == 120
    assert rollup(archive)["rolled_up"] == 120
    with psycopg.connect(archive["dsn"]) as conn:
        assert_rollups_match(conn, raw_facts(conn))


def test_percentiles_from_rollups_equal_percentile_cont_over_raw_rows(archive):
    rollup(archive)
    with psycopg.connect(archive["dsn"]) as conn:
        raw = conn.execute(
            "SELECT namespace, date_trunc('day', startedat), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
            "(ORDER BY date_part('epoch', finishedat - startedat)) FROM argo_archived_workflows "
            "GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
        rolled = conn.execute(
            "SELECT namespace, date_trunc('day', hour), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
            "(ORDER BY d) FROM argoops_rollup.hourly, unnest(durations) d GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    assert len(raw) >= 6 and rolled == raw


def test_pruned_rows_stay_in_the_rollups(archive):
    """Prune with rollup=true before any archive_rollup run: what it deletes is rolled up in its batches."""
    rollup(archive)  # creates the schema; then rows archived later are rolled up by the prune itself
    with psycopg.connect(archive["dsn"], autocommit=True) as conn:
        rolled = {f["uid"] for f in raw_facts(conn)}
        add_random(conn, archive["rng"], 80, archive["template"], now=datetime.datetime(2024, 2, 1))
        facts = raw_facts(conn)
    result = argo_archive.run_module("archive_prune", dict(archive["args"], older_than="1d", rollup=True,
                                                           cluster_name="other", batch_size=16))
    gone = [f for f in facts if f["scope"][0] == "other" and f["scope"][1] == ""]
    assert result["deleted"] == len(gone) > 16
    with psycopg.connect(archive["dsn"]) as conn:
        remaining = conn.execute("SELECT count(*) FROM argo_archived_workflows").fetchone()[0]
        assert remaining == len(facts) - len(gone)
        gone_uids = {f["uid"] for f in gone}
        assert_rollups_match(conn, [f for f in facts if f["uid"] in rolled | gone_uids])
    assert rollup(archive)["rolled_up"] == len(facts) - len(rolled | gone_uids)
    assert rollup(archive)["changed"] is False
    with psycopg.connect(archive["dsn"]) as conn:
        assert_rollups_match(conn, facts)  # every row ever archived, deleted or not


def test_foreign_schema_is_refused_and_nothing_written(archive):
    with psycopg.connect(archive["dsn"], autocommit=True) as conn:
        conn.execute("CREATE SCHEMA argoops_rollup")
    result = rollup(archive)
    assert result["failed"] and "was not created by argoops.workflows" in result["msg"]
    with psycopg.connect(archive["dsn"]) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'argoops_rollup'").fetchone()[0] == 0


def test_prune_with_rollup_needs_the_schema(archive):
    result = argo_archive.run_module("archive_prune", dict(archive["args"], older_than="1d", rollup=True))
    assert result["failed"] and "create_schema" in result["msg"]
    with psycopg.connect(archive["dsn"]) as conn:
        assert conn.execute("SELECT count(*) FROM argo_archived_workflows").fetchone()[0] == 300


def _stats_of(archive, result):
    assert archive["password"] not in result["stdout"] + result["stderr"] and not result.get("failed"), result
    return result["stats"], result["stats_source"]


def info_stats(archive, **args):
    return _stats_of(archive, argo_archive.run_module("archive_info", dict(archive["args"], limit=0, **args)))


def info_stats_many(archive, queries):
    """info_stats for each query, in one ansible-playbook run (Ansible's start-up paid once)."""
    results = argo_archive.run_modules("archive_info", [dict(archive["args"], limit=0, **q) for q in queries])
    return [_stats_of(archive, r) for r in results]


QUERIES = [dict(group_by=g, **f) for g in ("phase", "namespace", "day", "hour") for f in (
    {}, dict(cluster_name="other", instance_id="i2"), dict(namespaces=["prod"], phases=["Failed", "Error"]),
    dict(started_after="2024-03-01T06:00:00Z", started_before="2024-03-02T18:00:00Z"))]


def test_archive_info_from_rollups_is_identical_to_raw_also_after_pruning(archive):
    """Every figure of every group, for every group_by and several filters: raw first, then rollups
    (stats_source=auto chooses them once rolled up), then again after the raw rows are pruned."""
    raw = [stats for stats, source in info_stats_many(archive, QUERIES) if source == "raw" and stats]
    assert len(raw) == len(QUERIES)  # no rollups yet: auto falls back to raw rows, and every query has groups
    rollup(archive)
    assert info_stats_many(archive, QUERIES) == [(stats, "rollup") for stats in raw]
    forced_raw = [dict(q, stats_source="raw") for q in QUERIES]
    assert info_stats_many(archive, forced_raw) == [(stats, "raw") for stats in raw]
    with psycopg.connect(archive["dsn"], autocommit=True) as conn:
        add_random(conn, archive["rng"], 10, archive["template"], now=datetime.datetime(2024, 6, 1))
    assert info_stats(archive, **QUERIES[0])[1] == "raw"  # 10 rows not rolled up: the rollups do not cover
    result = argo_archive.run_module("archive_info", dict(archive["args"], limit=0, group_by="day",
                                                          stats_source="rollup"))
    assert result["failed"] and "not rolled up yet" in result["msg"]
    with psycopg.connect(archive["dsn"], autocommit=True) as conn:
        conn.execute("DELETE FROM argo_archived_workflows WHERE startedat >= '2024-06-01'")  # the 10 new ones
    pruned = argo_archive.run_module("archive_prune", dict(archive["args"], older_than="1d", rollup=True))
    assert pruned["deleted"] > 50
    kept = [i for i, q in enumerate(QUERIES) if q.get("cluster_name") != "other"]
    after = info_stats_many(archive, [QUERIES[i] for i in kept])
    assert after == [(raw[i], "rollup") for i in kept]  # history outlives the pruned rows


def test_queries_rollups_cannot_answer_use_raw_rows(archive):
    rollup(archive)
    stats, source = info_stats(archive, group_by="day", label_selector=WFT + "=etl")
    assert source == "raw" and stats
    assert info_stats(archive, group_by="label:" + WFT)[1] == "raw"
    assert info_stats(archive, group_by="day", started_after="2024-03-01T06:30:00Z")[1] == "raw"
    result = argo_archive.run_module("archive_info", dict(archive["args"], limit=0, group_by="day",
                                                          finished_after="2024-03-01", stats_source="rollup"))
    assert result["failed"] and "stats_source: the rollups cannot answer" in result["msg"]


def test_capacity_view_matches_recompute(archive):
    rollup(archive)
    result = argo_archive.run_module("archive_info", dict(archive["args"], limit=0, capacity=True,
                                                          price_per_core_hour=0.04, price_per_gib_hour=0.005))
    assert not result.get("failed"), result
    view = result["capacity"]
    with psycopg.connect(archive["dsn"]) as conn:
        facts = [f for f in raw_facts(conn) if f["scope"] == ("default", "")]
    peaks = {k[2]: v for k, v in expected_concurrency(facts).items()}
    assert {s["hour"]: s["peak_concurrency"] for s in view["series"]} == {
        h.isoformat() + "Z": p for h, p in peaks.items()}
    assert view["peak_concurrency"] == max(peaks.values())
    core_hours = sum(f["cpu"] for f in facts) / 3600.0
    gib_hours = sum(f["memory"] for f in facts) * 100 / 1024 / 3600.0
    assert view["core_hours"] == round(core_hours, 3) and view["gib_hours"] == round(gib_hours, 3)
    assert view["cost"]["total"] == round(round(core_hours * 0.04, 2) + round(gib_hours * 0.005, 2), 2)
    assert sum(d["hours"] for d in view["by_day_of_week"]) == len(peaks) == view["hours_with_workflows"]
