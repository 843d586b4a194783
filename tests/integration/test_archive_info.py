"""archive_info against a real PostgreSQL with Argo's migrated schema and rows shaped as Argo writes them.

Every expectation is computed from a plain read of the tables (``snapshot``), never from the module's
own SQL, and the module runs the way Ansible runs it (`ansible localhost -m ...`).
"""
import datetime
import os
import sys

import psycopg
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import argo_archive  # noqa: E402  pylint: disable=wrong-import-position
from cplane import build  # noqa: E402  (tests/controlplane is on sys.path through conftest)

from ansible_collections.argoops.workflows.plugins.module_utils import archive_sql  # noqa: E402
from ansible_collections.argoops.workflows.plugins.module_utils.archive_selector import parse_selector  # noqa: E402

DB = "argoops_it_archive_info"
TIE = datetime.datetime(2023, 6, 1, 12, 0, 0)  # 40 workflows start in the same second (Argo keeps seconds)
NUL_MESSAGE = "step said \u0000 and stopped"


@pytest.fixture(scope="module")
def archive(request, postgres, argo_db_tool):
    argo_archive.archive_database(request, DB)
    argo_archive.fake_archived(argo_db_tool, postgres, DB, 1200, 11, build.ARGO_VERSION,
                               namespaces=("argo", "team-a", "team-b"))
    argo_archive.fake_archived(argo_db_tool, postgres, DB, 150, 12, build.ARGO_VERSION, clusters=("other",))
    with psycopg.connect(postgres.dsn(DB), autocommit=True) as conn:
        template = argo_archive.argo_template(conn)
        for i in range(40):
            labels = {"team": "a" if i % 2 else "b"}
            if i % 5 == 0:
                labels["app.example.com/tier"] = "web"
            wf = argo_archive.argo_workflow(template, "tie_x-%02d" % i, "team-a", ("Failed", "Succeeded")[i % 2],
                                            TIE, TIE + datetime.timedelta(seconds=10 + i), labels)
            argo_archive.archive_workflow(conn, wf)
        for i in range(20):
            wf = argo_archive.argo_workflow(template, "scoped-%d" % i, "argo", "Succeeded", TIE, TIE)
            argo_archive.archive_workflow(conn, wf, cluster_name="other", instance_id="i2")
        nul = argo_archive.archive_workflow(conn, argo_archive.argo_workflow(
            template, "nul-carrier", "argo", "Error", TIE, TIE, {"team": "c"}, message=NUL_MESSAGE))
        rows = argo_archive.snapshot(conn)
    yield dict(rows=rows, nul=nul, args=postgres.connect_params(DB), password=postgres.password)
    argo_archive.drop_database(postgres, DB)


def info(archive, check=False, **args):
    result = argo_archive.run_module("archive_info", dict(archive["args"], **args), check=check)
    assert archive["password"] not in result["stdout"] + result["stderr"]
    assert result.get("changed") is False
    return result


def newest_first(rows):
    return [r["uid"] for r in sorted(rows, key=lambda r: (r["startedat"], r["uid"]), reverse=True)]


def in_scope(rows, cluster="default", instance=""):
    return [r for r in rows if r["clustername"] == cluster and r["instanceid"] == instance]


def test_first_page_is_newest_first_with_labels_and_durations(archive):
    result = info(archive, limit=25)
    expected = newest_first(in_scope(archive["rows"]))[:25]
    assert [w["uid"] for w in result["workflows"]] == expected
    by_uid = {r["uid"]: r for r in archive["rows"]}
    for item in result["workflows"]:
        row = by_uid[item["uid"]]
        assert item["labels"] == row["labels"] and item["labels"]["workflows.argoproj.io/phase"] == row["phase"]
        assert item["duration_seconds"] == (row["finishedat"] - row["startedat"]).total_seconds()
        assert item["started_at"] == row["startedat"].isoformat() + "Z"
    assert result["next_page_token"]


def test_pages_through_ansible_cover_every_row_once(archive):
    """Walk a filtered listing page by page via the module, as a playbook would."""
    expected = newest_first([r for r in in_scope(archive["rows"]) if r["namespace"] == "team-a"
                             and r["labels"].get("workflows.argoproj.io/phase") == "Failed"])
    assert len(expected) > 100
    seen, token, pages = [], None, 0
    while True:
        args = dict(namespaces=["team-a"], label_selector="workflows.argoproj.io/phase=Failed",
                    limit=len(expected) // 4 + 1)
        result = info(archive, page_token=token, **args) if token else info(archive, **args)
        seen += [w["uid"] for w in result["workflows"]]
        pages += 1
        token = result["next_page_token"]
        if not token:
            break
    assert seen == expected and pages == 4


@pytest.mark.parametrize("limit", [1, 7, 40, 1000])
def test_keyset_walk_has_no_gaps_or_duplicates_even_across_ties(archive, postgres, limit):
    """The same walk in-process (many pages), across the 40 workflows that start in the same second."""
    scope, filters = archive_sql.Scope("default", ""), archive_sql.NO_FILTERS
    expected = newest_first(in_scope(archive["rows"]))
    seen, after = [], None
    with psycopg.connect(postgres.dsn(DB)) as conn:
        while True:
            page, token = archive_sql.run_list(conn, scope, filters, limit, after)
            seen += [w["uid"] for w in page]
            if not token:
                break
            after = archive_sql.decode_token(token, archive_sql.fingerprint(scope, filters))
    assert seen == expected


def oracle(rows, **f):
    out = in_scope(rows)
    if "namespaces" in f:
        out = [r for r in out if r["namespace"] in f["namespaces"]]
    if "phases" in f:
        out = [r for r in out if r["phase"] in f["phases"]]
    if "labels" in f:
        out = [r for r in out if f["labels"](r["labels"])]
    if "name" in f:
        out = [r for r in out if f["name"](r["name"])]
    if "started" in f:
        out = [r for r in out if f["started"](r["startedat"])]
    return newest_first(out)


@pytest.mark.parametrize("args, expected", [
    (dict(namespaces=["team-b", "argo"]), dict(namespaces=("team-b", "argo"))),
    (dict(phases=["Error"]), dict(phases=("Error",))),
    (dict(name="tie_x-07"), dict(name=lambda n: n == "tie_x-07")),
    (dict(name="tie_x-", name_match="prefix"), dict(name=lambda n: n.startswith("tie_x-"))),
    (dict(name="ie_x-1", name_match="contains"), dict(name=lambda n: "ie_x-1" in n)),
    (dict(name="tie%", name_match="prefix"), dict(name=lambda n: n.startswith("tie%"))),  # % is literal
    (dict(label_selector="team=a"), dict(labels=lambda l: l.get("team") == "a")),
    (dict(label_selector="team!=a"), dict(labels=lambda l: l.get("team") != "a")),
    (dict(label_selector="team in (a,c)"), dict(labels=lambda l: l.get("team") in ("a", "c"))),
    (dict(label_selector="team notin (a,c)"), dict(labels=lambda l: l.get("team") not in ("a", "c"))),
    (dict(label_selector="app.example.com/tier"), dict(labels=lambda l: "app.example.com/tier" in l)),
    (dict(label_selector="team,!app.example.com/tier,workflows.argoproj.io/phase=Succeeded"),
     dict(labels=lambda l: "team" in l and "app.example.com/tier" not in l
          and l["workflows.argoproj.io/phase"] == "Succeeded")),
    (dict(started_after="2023-06-01T12:00:00Z", started_before="2023-06-01T14:00:01+02:00"),
     dict(started=lambda t: TIE <= t < TIE + datetime.timedelta(seconds=1))),
    (dict(started_after="2023-06-01T12:00:00Z", started_before="2023-07-01"),
     dict(started=lambda t: TIE <= t < datetime.datetime(2023, 7, 1))),
])
def test_filters_match_a_plain_reading_of_the_tables(archive, args, expected):
    result = info(archive, limit=10000, **args)
    assert [w["uid"] for w in result["workflows"]] == oracle(archive["rows"], **expected)
    assert result["next_page_token"] is None


def test_scope_selects_cluster_and_instance(archive):
    result = info(archive, cluster_name="other", instance_id="i2", limit=10000)
    assert [w["uid"] for w in result["workflows"]] == newest_first(in_scope(archive["rows"], "other", "i2"))
    assert len(result["workflows"]) == 20
    result = info(archive, cluster_name="other", limit=10000)
    assert [w["uid"] for w in result["workflows"]] == newest_first(in_scope(archive["rows"], "other"))
    assert len(result["workflows"]) == 150


def test_include_workflow_returns_argos_object_with_nul_restored(archive):
    result = info(archive, name="nul-carrier", include_workflow=True)
    (item,) = result["workflows"]
    assert item["workflow"]["status"]["message"] == NUL_MESSAGE
    assert item["workflow"] == archive["nul"]


def percentile(values, fraction):
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@pytest.mark.parametrize("group_by, key", [
    ("phase", lambda r: r["phase"]),
    ("day", lambda r: r["startedat"].date().isoformat()),
    ("label:team", lambda r: r["labels"].get("team")),
])
def test_stats_match_the_rows(archive, group_by, key):
    result = info(archive, limit=0, group_by=group_by, check=True)
    groups = {}
    for row in in_scope(archive["rows"]):
        groups.setdefault(key(row), []).append((row["finishedat"] - row["startedat"]).total_seconds())
    assert result["workflows"] == []
    assert {s["key"] for s in result["stats"]} == set(groups)
    for stat in result["stats"]:
        durations = groups[stat["key"]]
        assert stat["count"] == len(durations)
        assert stat["duration_seconds"] == pytest.approx(dict(
            avg=sum(durations) / len(durations), p50=percentile(durations, 0.5),
            p95=percentile(durations, 0.95), max=max(durations)), abs=0.001)


@pytest.mark.parametrize("args, message", [
    (dict(label_selector="team in (a"), "label_selector: unbalanced parentheses"),
    (dict(label_selector="team=a;b"), "label_selector: value 'a;b' for label 'team' is invalid"),
    (dict(group_by="label:bad key"), "group_by: label key 'bad key' is invalid"),
    (dict(page_token="eyJ2IjoxfQ"), "page_token: not a token returned by archive_info"),
])
def test_bad_input_is_refused_clearly(archive, args, message):
    result = argo_archive.run_module("archive_info", dict(archive["args"], **args))
    assert result["failed"] and message in result["msg"]


def test_token_of_another_query_is_refused(archive):
    token = info(archive, limit=5, phases=["Failed"])["next_page_token"]
    result = argo_archive.run_module("archive_info", dict(archive["args"], limit=5, page_token=token))
    assert result["failed"] and "belongs to a query with other filters" in result["msg"]


def test_wrong_password_names_target_not_password(archive, postgres):
    args = dict(archive["args"], login_password="Wr0ng-" + postgres.password[:4])
    result = argo_archive.run_module("archive_info", args)
    assert result["failed"]
    assert 'user "%s" at %s:%d, database "%s"' % (postgres.user, postgres.host, postgres.port, DB) in result["msg"]
    assert "authentication failed" in result["msg"]
    assert args["login_password"] not in result["stdout"] + result["stderr"]


def test_database_without_archive_tables_is_explained(archive, postgres):
    result = argo_archive.run_module("archive_info", postgres.connect_params("postgres"))
    assert result["failed"] and "has no table argo_archived_workflows" in result["msg"]


def test_listing_uses_argos_indexes(archive, postgres):
    """EXPLAIN of a deep, label-filtered page: index scans only, no sort of the whole archive."""
    scope = archive_sql.Scope("default", "")
    filters = archive_sql.NO_FILTERS._replace(labels=tuple(
        parse_selector("workflows.argoproj.io/phase=Failed")))
    query, params = archive_sql.list_query(scope, filters, 50, after=(TIE, "z"))
    with psycopg.connect(postgres.dsn(DB)) as conn:
        conn.execute("ANALYZE argo_archived_workflows")
        conn.execute("ANALYZE argo_archived_workflows_labels")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query, params))
    assert "Seq Scan on argo_archived_workflows " not in plan, plan
    assert "argo_archived_workflows_i4" in plan or "argo_archived_workflows_i1" in plan, plan
    assert "argo_archived_workflows_labels_pkey" in plan, plan
