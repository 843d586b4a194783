"""TLS end to end against the test PostgreSQL, which serves TLS with a certificate from a CA of its own
(``postgres.ca_cert``) naming 127.0.0.1 and ``postgres.argoops.test`` -- not ``localhost``.

- The archive modules with ``ssl_mode: verify-full`` and ``ca_cert`` connect; a wrong CA and a wrong
  host name fail with a message that says which.
- Argo's real controller with ``ssl: true`` / ``sslMode: verify-full`` gets the CA the way its driver
  (pgx, under upper/db) reads it, from ``PGSSLROOTCERT``: it migrates and archives over TLS (the
  server's own ``pg_stat_ssl`` shows its connections encrypted); with a wrong CA it exits and says why.
"""
from __future__ import annotations

import os
import sys
import time

import kubernetes
import psycopg
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import argo_archive  # noqa: E402  pylint: disable=wrong-import-position
from cplane import build, pki  # noqa: E402  (tests/controlplane is on sys.path through conftest)
from persistence_support import (POD_LESS_WORKFLOW, persistence_args, run_module,  # noqa: E402
                                 wait_archived)
# fixtures shared with the other persistence tests
from persistence_support import api, ns  # noqa: E402,F401  pylint: disable=unused-import

ROLE, ROLE_PASSWORD = "argoops_tls_role", "tls-test-role-password-4711"
READY_TIMEOUT, EXIT_TIMEOUT = 240.0, 120.0


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A CA that did not sign the server's certificate."""
    directory = str(tmp_path_factory.mktemp("other-ca"))
    pki.Pki(directory).create_serving("server", "someone-else", names=("example.invalid",))
    return os.path.join(directory, "ca.crt")


@pytest.fixture(scope="module")
def tls_db(postgres):
    name = f"argoops_it_tls_{os.getpid()}"
    yield name
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"DROP ROLE IF EXISTS {ROLE}")


def archive_db(postgres, database, **tls):
    args = dict(postgres.connect_params(), name=database, user=ROLE, password=ROLE_PASSWORD, **tls)
    result = argo_archive.run_module("archive_db", args)
    out = result["stdout"] + result["stderr"]
    assert ROLE_PASSWORD not in out and postgres.password not in out
    return result


def test_the_test_server_really_speaks_tls(postgres):
    with psycopg.connect(postgres.dsn().replace("sslmode='disable'", "sslmode='verify-full'"),
                         sslrootcert=postgres.ca_cert) as conn:
        ssl, version = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert ssl is True and version.startswith("TLS")


def test_archive_db_over_verify_full_with_the_ca(postgres, tls_db):
    tls = dict(ssl_mode="verify-full", ca_cert=postgres.ca_cert)
    first = archive_db(postgres, tls_db, **tls)
    assert first.get("failed") is not True, first["stdout"]
    assert first["changed"] is True
    again = archive_db(postgres, tls_db, **tls)
    assert again.get("failed") is not True and again["changed"] is False
    with psycopg.connect(postgres.dsn()) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [tls_db]).fetchone() == (1,)


def test_a_wrong_ca_fails_and_says_so(postgres, tls_db, other_ca):
    result = archive_db(postgres, tls_db, ssl_mode="verify-full", ca_cert=other_ca)
    assert result.get("failed") is True
    assert "certificate verify failed" in result["msg"]
    assert "not signed by ca_cert" in result["msg"], result["msg"]


def test_a_wrong_host_name_fails_and_says_so(postgres, tls_db):
    result = archive_db(postgres, tls_db, ssl_mode="verify-full", ca_cert=postgres.ca_cert,
                        login_host="localhost")
    assert result.get("failed") is True
    assert 'does not match host name "localhost"' in result["msg"]
    assert "does not name login_host" in result["msg"], result["msg"]


def test_archive_info_over_verify_full(request, postgres, argo_db_tool):
    """A read-only module over the same options reads what a plain (non-TLS) query sees."""
    database = argo_archive.archive_database(request, f"argoops_it_tls_info_{os.getpid()}")
    try:
        argo_archive.fake_archived(argo_db_tool, postgres, database, 30, 7, build.ARGO_VERSION)
        with psycopg.connect(postgres.dsn(database)) as conn:
            expected = {uid for (uid,) in conn.execute(
                "SELECT uid FROM argo_archived_workflows WHERE clustername = 'default' AND instanceid = ''")}
        result = argo_archive.run_module("archive_info", dict(postgres.connect_params(database), limit=100,
                                                              ssl_mode="verify-full", ca_cert=postgres.ca_cert))
        assert result.get("failed") is not True, result.get("msg")
        assert expected and {w["uid"] for w in result["workflows"]} == expected
    finally:
        argo_archive.drop_database(postgres, database)


def _controller_connections(postgres, database):
    with psycopg.connect(postgres.dsn()) as conn:
        return conn.execute("SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                            "WHERE a.datname = %s AND a.pid <> pg_backend_pid()", [database]).fetchall()


def _tls_persistence(ns, control_plane, database):  # pylint: disable=redefined-outer-name
    args = persistence_args(ns, control_plane.postgres, argo_version=control_plane.argo_version)
    args["postgresql"] = dict(args["postgresql"], database=database, ssl=True, ssl_mode="verify-full")
    result = run_module(control_plane.kubeconfig, args)
    assert result.get("failed") is not True, result["_output"]


@pytest.fixture
def controller_db(control_plane):
    name = f"argoops_it_tls_argo_{os.getpid()}"
    with psycopg.connect(control_plane.postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    yield name
    with psycopg.connect(control_plane.postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_controller_archives_over_verify_full(control_plane, argo_controller, ns, controller_db):  # noqa: F811
    _tls_persistence(ns, control_plane, controller_db)
    custom = kubernetes.client.CustomObjectsApi(kubernetes.config.new_client_from_config(
        config_file=control_plane.kubeconfig))
    started = time.monotonic()
    with argo_controller.start(ns, env={"PGSSLROOTCERT": control_plane.postgres.ca_cert}) as controller:
        controller.wait_ready(READY_TIMEOUT)
        created = custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", ns, "workflows", POD_LESS_WORKFLOW)
        workflow = wait_archived(control_plane, ns, created["metadata"]["name"])
        connections = _controller_connections(control_plane.postgres, controller_db)
    assert connections and all(ssl for (ssl,) in connections), connections
    with psycopg.connect(control_plane.postgres.dsn(controller_db)) as conn:
        row = conn.execute("SELECT phase FROM argo_archived_workflows WHERE uid = %s",
                           [workflow["metadata"]["uid"]]).fetchone()
    assert row == ("Succeeded",)
    sys.stderr.write(f"[tls] controller archived over verify-full {time.monotonic() - started:.1f}s after start, "
                     f"{len(connections)} TLS connection(s)\n")


def test_controller_with_a_wrong_ca_exits_and_says_why(control_plane, argo_controller, ns, controller_db,  # noqa: F811
                                                       other_ca):
    _tls_persistence(ns, control_plane, controller_db)
    with argo_controller.start(ns, env={"PGSSLROOTCERT": other_ca}) as controller:
        code = controller.wait_exit(EXIT_TIMEOUT)
        log = controller.log()
    assert code not in (None, 0), log[-2000:]
    assert "certificate" in log and "x509" in log, log[-2000:]
