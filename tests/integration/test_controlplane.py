"""The local control plane itself: real PostgreSQL, Argo's real migrations and controller."""
from __future__ import annotations

import subprocess

import psycopg


def test_hack_db_migrate_creates_schema_history(postgres, argo_db_tool):
    """Argo's own migration code (hack/db) runs against the test PostgreSQL."""
    dbname = "migrate_probe"
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {dbname}")
        conn.execute(f"CREATE DATABASE {dbname}")
    try:
        result = subprocess.run([argo_db_tool, "--dsn", postgres.url(dbname), "migrate"],
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        with psycopg.connect(postgres.dsn(dbname)) as conn:
            versions = [row[0] for row in conn.execute("SELECT schema_version FROM schema_history")]
            tables = {row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
        assert len(versions) == 1 and versions[0] > 0
        assert {"argo_archived_workflows", "argo_archived_workflows_labels", "argo_workflows"} <= tables
    finally:
        with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
