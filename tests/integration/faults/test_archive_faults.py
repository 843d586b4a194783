"""Faults under archive_prune, against the real test PostgreSQL: the server stopped in the middle of a
prune, and rows archived while a prune runs. Each test asserts the rows afterwards: nothing newer than
the cutoff is lost, and the next run finishes the job."""
import datetime
import json
import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench"))
import argo_archive  # noqa: E402  pylint: disable=wrong-import-position
from cplane import build, postgres as pg_server  # noqa: E402  (tests/controlplane is on sys.path through conftest)

DB = "argoops_fault_prune"
DAY = datetime.timedelta(days=1)
CUTOFF_DAYS = 30


def say(message):
    sys.stderr.write(f"[faults] {message}\n")


@pytest.fixture
def archive(request, postgres, argo_db_tool):
    """6000 workflows as Argo's writer archives them, finished within the last year."""
    argo_archive.archive_database(request, DB)
    argo_archive.fake_archived(argo_db_tool, postgres, DB, 6000, 21, build.ARGO_VERSION)
    yield dict(args=dict(postgres.connect_params(DB), older_than=f"{CUTOFF_DAYS}d"), password=postgres.password)
    argo_archive.drop_database(postgres, DB)


def uids(postgres, where="TRUE", params=()):
    with psycopg.connect(postgres.dsn(DB)) as conn:
        return {uid for (uid,) in conn.execute(f"SELECT uid FROM argo_archived_workflows WHERE {where}", params)}


def newer_than_cutoff(postgres):
    return uids(postgres, "finishedat >= (now() AT TIME ZONE 'UTC') - %s::interval", [f"{CUTOFF_DAYS} days"])


def start_prune(args):
    """archive_prune as Ansible runs it, in the background (``argo_archive.run_module`` waits)."""
    venv_bin = os.path.dirname(sys.executable)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(repo, ".build", "collections"),
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    argv = [os.path.join(venv_bin, "ansible"), "localhost", "-m", "argoops.workflows.archive_prune",
            "-a", json.dumps(args)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def result_of(proc, timeout=300):
    out, err = proc.communicate(timeout=timeout)
    result = json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return dict(result, stdout=out, stderr=err)


def test_database_stopped_mid_prune_loses_nothing_newer_and_the_rerun_finishes(archive, postgres, control_plane_state):
    keep = newer_than_cutoff(postgres)
    everything = uids(postgres)
    old = everything - keep
    assert len(old) > 4000 and keep
    server = pg_server.PostgresServer(control_plane_state)
    proc = start_prune(dict(archive["args"], batch_size=1))  # one row per transaction: a long run
    with psycopg.connect(postgres.dsn(DB), autocommit=True) as watcher:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if watcher.execute("SELECT count(*) FROM argo_archived_workflows").fetchone()[0] < len(everything) - 50:
                break
            time.sleep(0.02)
    assert proc.poll() is None, "the prune finished before the database could be stopped"
    stopped = time.monotonic()
    server.stop()
    failed = result_of(proc)
    server.start(log=say)
    say(f"PostgreSQL stopped mid-prune; the module failed {time.monotonic() - stopped:.1f}s later")
    assert failed.get("failed") is True
    assert archive["password"] not in failed["stdout"] + failed["stderr"]
    assert "PostgreSQL" in failed["msg"] and DB in failed["msg"], failed["msg"]
    after = uids(postgres)
    assert keep <= after, "rows newer than the cutoff were lost"
    assert everything - after <= old and 0 < len(everything - after) < len(old)
    rerun = argo_archive.run_module("archive_prune", dict(archive["args"], batch_size=500))
    assert rerun.get("failed") is not True, rerun.get("msg")
    assert rerun["changed"] is True and rerun["deleted"] == len(after - keep)
    assert uids(postgres) == keep
    again = argo_archive.run_module("archive_prune", dict(archive["args"], batch_size=500))
    assert again["changed"] is False and again["deleted"] == 0


def test_rows_archived_during_a_prune_are_kept(archive, postgres):
    keep = newer_than_cutoff(postgres)
    old = uids(postgres) - keep
    inserted, stop = [], threading.Event()

    def archive_fresh_rows():
        with psycopg.connect(postgres.dsn(DB), autocommit=True) as conn:
            template = argo_archive.argo_template(conn)
            while not stop.is_set():
                now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
                wf = argo_archive.argo_workflow(template, "fresh-%d" % len(inserted), "argo", "Succeeded",
                                                now - datetime.timedelta(minutes=1), now)
                inserted.append(argo_archive.archive_workflow(conn, wf)["metadata"]["uid"])
    writer = threading.Thread(target=archive_fresh_rows)
    writer.start()
    try:
        result = argo_archive.run_module("archive_prune", dict(archive["args"], batch_size=20))
    finally:
        stop.set()
        writer.join()
    assert result.get("failed") is not True, result.get("msg")
    after = uids(postgres)
    say(f"{len(inserted)} rows archived while the prune deleted {result['deleted']} in {result['batches']} batches")
    assert len(inserted) > 20
    assert result["deleted"] == len(old) and not after & old
    assert keep | set(inserted) == after
