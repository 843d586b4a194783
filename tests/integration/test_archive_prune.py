"""archive_prune against a real PostgreSQL with Argo's migrated schema and Argo-shaped rows."""
import datetime
import math
import os
import sys

import psycopg
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import argo_archive  # noqa: E402  pylint: disable=wrong-import-position
from cplane import build  # noqa: E402  (tests/controlplane is on sys.path through conftest)

DB = "argoops_it_archive_prune"
DAY = datetime.timedelta(days=1)


@pytest.fixture
def archive(request, postgres, argo_db_tool):
    """300 workflows Argo's writer archived (started within the last year), and workflows that finished
    1..30 days ago (plus 6 h, far from any TTL boundary) in two namespaces, in two clusters."""
    argo_archive.archive_database(request, DB)
    argo_archive.fake_archived(argo_db_tool, postgres, DB, 300, 5, build.ARGO_VERSION)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    with psycopg.connect(postgres.dsn(DB), autocommit=True) as conn:
        template = argo_archive.argo_template(conn)
        for cluster in ("default", "other"):
            for days in range(1, 31):
                for namespace, phase in (("ci", "Succeeded"), ("prod", "Failed")):
                    finished = now - days * DAY - datetime.timedelta(hours=6)
                    wf = argo_archive.argo_workflow(template, "wf-%s-%d" % (namespace, days), namespace, phase,
                                                    finished - datetime.timedelta(minutes=3), finished)
                    argo_archive.archive_workflow(conn, wf, cluster_name=cluster)
    yield dict(args=postgres.connect_params(DB), now=now, password=postgres.password)
    argo_archive.drop_database(postgres, DB)


def rows(postgres):
    with psycopg.connect(postgres.dsn(DB)) as conn:
        return argo_archive.snapshot(conn)


def prune(archive, check=False, **args):
    result = argo_archive.run_module("archive_prune", dict(archive["args"], **args), check=check)
    assert archive["password"] not in result["stdout"] + result["stderr"]
    return result


def older(rows_, days, now, cluster="default", **match):
    cutoff = now - days * DAY
    return [r for r in rows_ if r["clustername"] == cluster and r["finishedat"] < cutoff
            and all(r[k] in v for k, v in match.items())]


def test_check_mode_counts_and_samples_without_deleting(archive, postgres):
    before = rows(postgres)
    expected = older(before, 10, archive["now"])
    result = prune(archive, check=True, older_than="10d", sample_size=5)
    assert result["changed"] is True and result["would_delete"] == len(expected) > 2 * 21
    oldest = sorted(expected, key=lambda r: (r["finishedat"], r["uid"]))[:5]
    assert [w["uid"] for w in result["sample"]] == [r["uid"] for r in oldest]
    assert result["deleted"] == 0 and len(rows(postgres)) == len(before)


def test_prune_in_batches_then_nothing_left_to_do(archive, postgres):
    before = rows(postgres)
    expected = {r["uid"] for r in older(before, 10, archive["now"])}
    result = prune(archive, older_than="240h", batch_size=64)
    assert result["changed"] is True and result["deleted"] == len(expected)
    assert result["batches"] == math.ceil(len(expected) / 64) and result["seconds"] >= 0
    after = rows(postgres)
    assert {r["uid"] for r in before} - {r["uid"] for r in after} == expected
    with psycopg.connect(postgres.dsn(DB)) as conn:  # labels went by Argo's ON DELETE CASCADE
        orphans = conn.execute("SELECT count(*) FROM argo_archived_workflows_labels l WHERE NOT EXISTS ("
                               "SELECT 1 FROM argo_archived_workflows w WHERE w.clustername = l.clustername "
                               "AND w.uid = l.uid)").fetchone()[0]
    assert orphans == 0
    again = prune(archive, older_than="10d", batch_size=64)
    assert again["changed"] is False and again["deleted"] == 0 and again["batches"] == 0


def test_prune_with_filters_and_scope(archive, postgres):
    before = rows(postgres)
    expected = {r["uid"] for r in older(before, 20, archive["now"], "other", namespace=("prod",), phase=("Failed",))}
    result = prune(archive, older_than="20d", cluster_name="other", namespaces=["prod"], phases=["Failed"],
                   label_selector="workflows.argoproj.io/phase=Failed")
    assert result["deleted"] == len(expected) == 11
    assert {r["uid"] for r in before} - {r["uid"] for r in rows(postgres)} == expected


@pytest.mark.parametrize("args, message", [
    (dict(older_than="1h30m"), "older_than: '1h30m' is not a TTL Argo accepts"),
    (dict(older_than="0"), "older_than: '0' would select every workflow"),
    (dict(older_than="7d", label_selector="!"), "label_selector: cannot parse '!'"),
])
def test_bad_input_deletes_nothing(archive, postgres, args, message):
    count = len(rows(postgres))
    result = prune(archive, **args)
    assert result["failed"] and message in result["msg"]
    assert len(rows(postgres)) == count
