"""Rollup SQL: scope values are bind parameters, the schema check reads our mark, statements are complete."""
import datetime

import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import archive_rollup as r
from ansible_collections.argoops.workflows.plugins.module_utils.archive_sql import Scope


class FakeCursor:
    def __init__(self, row):
        self.row = row

    def fetchone(self):
        return self.row


class RecordingConn:
    """Records (sql, params); answers the schema lookup with ``comment`` (None row = no schema)."""

    def __init__(self, schema_row):
        self.schema_row = schema_row
        self.calls = []
        self.argoops_target = dict(user="u", host="h", port=5432, dbname="argo")


@pytest.fixture
def recorded(monkeypatch):
    def make(schema_row):
        conn = RecordingConn(schema_row)

        def run(conn_, query, params=None, doing="query"):
            conn_.calls.append((query, params))
            return FakeCursor(conn_.schema_row if "pg_namespace" in query else (0,))
        monkeypatch.setattr(r.pg, "run", run)
        return conn
    return make


@pytest.mark.parametrize("row, state", [(None, "absent"), ((r.SCHEMA_MARK,), "ours"), ((None,), "foreign"),
                                        (("someone else's",), "foreign")])
def test_schema_state(recorded, row, state):
    assert r.schema_state(recorded(row)) == state


def test_foreign_schema_is_refused_before_any_write(recorded):
    conn = recorded((None,))
    with pytest.raises(r.RollupError, match="was not created by argoops.workflows"):
        r.ensure_schema(conn, create=True)
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in (call[0] for call in conn.calls))


def test_missing_schema_without_create_names_the_option(recorded):
    with pytest.raises(r.RollupError, match="create_schema"):
        r.ensure_schema(recorded(None), create=False)


def test_create_writes_the_mark_and_every_table(recorded):
    conn = recorded(None)
    assert r.ensure_schema(conn, create=True) is True
    ddl = " ".join(sql for sql in (call[0] for call in conn.calls))
    for table in ("workflow", "hourly", "concurrency"):
        assert "CREATE TABLE %s.%s" % (r.SCHEMA, table) in ddl
    assert r.SCHEMA_MARK in ddl


def test_scope_and_cutoff_are_parameters(recorded):
    conn = recorded((r.SCHEMA_MARK,))
    scope = Scope("cl'uster; DROP TABLE x", "inst'ance")
    cutoff = datetime.datetime(2024, 1, 1)
    r.roll_up(conn, scope, cutoff)
    stage = [c for c in conn.calls if "CREATE TEMP TABLE" in c[0]][0]
    assert scope.cluster_name not in stage[0] and scope.instance_id not in stage[0]
    assert stage[1] == list(r.TEMPLATE_LABELS) + [scope.cluster_name, scope.instance_id, cutoff]
    assert stage[0].count("%s") == len(stage[1])
    assert conn.calls[0][0].startswith("SELECT pg_advisory_xact_lock")  # the lock comes before any read
