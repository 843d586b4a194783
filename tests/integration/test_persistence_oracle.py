"""Oracle: Argo's real workflow-controller (v4.0.5) judges the module's rules.

1. The module's output makes the real controller start, migrate its schema and archive a pod-less
   workflow into PostgreSQL.
2. For each kind of input the module rejects, the same mistake written straight into the ConfigMap
   makes the real controller exit (non-zero, with Argo's own error in its log) -- at start-up, on a
   live update, or (negative retention) when the first workflow finishes.
3. Two inputs the module rejects although the controller accepts them (it silently ignores part of
   the configuration) are shown to be accepted, so that reason is documented by a real run.
4. The model's reading of an existing ConfigMap agrees with the controller (Go's case-insensitive
   keys accepted; a number below ``postgresql`` and a null TTL fatal).
5. Names Argo pastes into SQL: for each class, the model's verdict on a table or cluster name matches
   whether Argo's own schema migration (the `db migrate` tool over persist/sqldb) succeeds on a fresh
   PostgreSQL database; and the real controller starts, migrates and archives with the edge names the
   model accepts (and the value the module wrote, not a YAML reinterpretation of it), and exits on the
   names it refuses.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import kubernetes
import psycopg
import pytest

from persistence_support import (CONFIGMAP, POD_LESS_WORKFLOW, SECRET, core, create_config_map, persistence_args,
                                 read_config_map, run_module, wait_archived)
from ansible_collections.argoops.workflows.plugins.module_utils import argo_sql_names
from ansible_collections.argoops.workflows.plugins.module_utils.argo_config import parse_version
from ansible_collections.argoops.workflows.plugins.module_utils.argo_configmap import Current
# fixtures shared with the other persistence tests
from persistence_support import api, ns  # noqa: F401  pylint: disable=unused-import

READY_TIMEOUT, EXIT_TIMEOUT = 240.0, 120.0


def say(message):
    sys.stderr.write(f"[oracle] {message}\n")


@pytest.fixture(scope="module")
def archive_db(control_plane):
    """A database of its own, so the schema the controller migrates is the one it created."""
    name = f"argo_oracle_{os.getpid()}"
    with psycopg.connect(control_plane.postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    yield name
    with psycopg.connect(control_plane.postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def oracle_args(namespace, control_plane, database, postgresql_extra=None, **extra):
    args = persistence_args(namespace, control_plane.postgres, argo_version=control_plane.argo_version, **extra)
    args["postgresql"] = dict(args["postgresql"], database=database, **(postgresql_extra or {}))
    return args


def module_output(control_plane, ns, archive_db) -> dict:
    """ConfigMap data as the module writes it for the tutorial's settings."""
    result = run_module(control_plane.kubeconfig, oracle_args(ns, control_plane, archive_db))
    assert result.get("failed") is not True, result["_output"]
    return dict(read_config_map(core(control_plane.kubeconfig), ns).data)


def test_module_output_starts_migrates_and_archives(control_plane, argo_controller, ns, archive_db):
    data = module_output(control_plane, ns, archive_db)
    custom = kubernetes.client.CustomObjectsApi(kubernetes.config.new_client_from_config(
        config_file=control_plane.kubeconfig))
    started = time.monotonic()
    with argo_controller.start(ns) as controller:
        controller.wait_ready(READY_TIMEOUT)
        ready = time.monotonic() - started
        created = custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", ns, "workflows", POD_LESS_WORKFLOW)
        workflow = wait_archived(control_plane, ns, created["metadata"]["name"])
        log = controller.log()
    assert workflow["status"]["phase"] == "Succeeded"
    assert "Workflow archiving is enabled" in log and "Node status offloading is enabled" in log
    with psycopg.connect(control_plane.postgres.dsn(archive_db)) as conn:
        schema = conn.execute("SELECT schema_version FROM schema_history").fetchall()
        row = conn.execute("SELECT name, namespace, phase, clustername FROM argo_archived_workflows WHERE uid = %s",
                           (workflow["metadata"]["uid"],)).fetchone()
        offload = conn.execute("SELECT to_regclass('public.argo_workflows') IS NOT NULL").fetchone()[0]
    assert row == (workflow["metadata"]["name"], ns, "Succeeded", "default")
    assert len(schema) == 1 and offload
    say(f"controller {control_plane.argo_version} ready in {ready:.1f}s with the module's ConfigMap "
        f"({len(data['persistence'])} bytes of persistence); schema_history = {schema[0][0]}; "
        f"workflow archived {time.monotonic() - started:.1f}s after start")


def write_directly(api, ns, data):
    """Bypass the module: what a hand edit of the ConfigMap would do."""
    cm = api.read_namespaced_config_map(CONFIGMAP, ns)
    cm.data = data
    api.replace_namespaced_config_map(CONFIGMAP, ns, cm)


def _replace(old, new):
    return lambda data: dict(data, persistence=data["persistence"].replace(old, new, 1))


def _append(text):
    return lambda data: dict(data, persistence=data["persistence"] + text)


# id: (module arguments the module must reject, message, the same mistake written directly, Argo's log line)
FATAL = {
    "ttl with two units": ({"archive_ttl": "1h30m"}, "archive_ttl: '1h30m' is not a TTL Argo accepts",
                           _replace("archiveTTL: 7d", "archiveTTL: 1h30m"), "strconv.Atoi"),
    "ttl as a bare number": ({"archive_ttl": "10"}, "archive_ttl: '10' is not a TTL Argo accepts",
                             _replace("archiveTTL: 7d", "archiveTTL: 10"), "invalid TTL"),
    "unknown key": ({"archive_ttl_days": 7}, "Unsupported parameters", _append("archiveTTLDays: 7\n"),
                    'unknown field \\"archiveTTLDays\\"'),
    "missing table name": ({"postgresql_extra": {"table_name": ""}}, "postgresql.table_name is required",
                           _replace("  tableName: argo_workflows\n", ""), "TableName is empty"),
    "v4.1-only key for a v4.0 controller": ({"connection_timeout_seconds": 5},
                                            "connection_timeout_seconds needs Argo v4.1 or later",
                                            _append("connectionTimeoutSeconds: 5\n"),
                                            'unknown field \\"connectionTimeoutSeconds\\"'),
    "label selector operator": (
        {"archive_label_selector": {"match_expressions": [{"key": "a", "operator": "in", "values": ["x"]}]}},
        "archive_label_selector.match_expressions[0].operator 'in' is not a valid label selector operator",
        _append("archiveLabelSelector:\n  matchExpressions:\n  - {key: a, operator: in, values: [x]}\n"),
        "is not a valid label selector operator"),
    "port as a string": ({"postgresql_extra": {"port": "not-a-port"}}, "argument 'port' is of type str found in 'postgresql'",
                         lambda data: dict(data, persistence=_quote_port(data["persistence"])),
                         "cannot unmarshal string into Go struct field"),
    "missing secret key": ({"postgresql_extra": {"password_secret": {"name": SECRET, "key": "pass"}}},
                           "has no key 'pass'", _replace("key: password", "key: pass"),
                           "does not have the key 'pass'"),
}


def _quote_port(text):
    port = next(line for line in text.splitlines() if line.startswith("  port: ")).split(": ")[1]
    return text.replace("  port: %s\n" % port, "  port: '%s'\n" % port)


@pytest.mark.parametrize("bad_args, message, edit, argo_error", list(FATAL.values()), ids=list(FATAL))
def test_rejected_input_makes_the_real_controller_exit(control_plane, argo_controller, api, ns, archive_db,
                                                       bad_args, message, edit, argo_error):
    rejected = run_module(control_plane.kubeconfig, oracle_args(ns, control_plane, archive_db, **bad_args))
    assert rejected["failed"] is True and message in rejected["msg"], rejected.get("msg")
    assert read_config_map(api, ns) is None  # nothing written

    write_directly(api, ns, edit(module_output(control_plane, ns, archive_db)))
    with argo_controller.start(ns) as controller:
        code = controller.wait_exit(EXIT_TIMEOUT)
        log = controller.log()
    assert code not in (None, 0), f"the controller did not exit:\n{log[-3000:]}"
    assert argo_error in log, log[-3000:]
    say(f"{argo_error!r}: controller exited with {code}")


def test_config_key_next_to_other_keys_makes_the_controller_exit(control_plane, argo_controller, api, ns,
                                                                 archive_db):
    write_directly(api, ns, dict(module_output(control_plane, ns, archive_db), config="instanceID: x\n"))
    rejected = run_module(control_plane.kubeconfig, oracle_args(ns, control_plane, archive_db))
    assert rejected["failed"] is True and "Argo refuses" in rejected["msg"]
    with argo_controller.start(ns) as controller:
        code = controller.wait_exit(EXIT_TIMEOUT)
        log = controller.log()
    assert code not in (None, 0) and "you must only have one item" in log, log[-3000:]


def test_bad_config_written_to_a_running_controller_stops_it(control_plane, argo_controller, api, ns, archive_db):
    """Why the module refuses before writing: a running controller re-reads the ConfigMap and exits."""
    good = module_output(control_plane, ns, archive_db)
    with argo_controller.start(ns) as controller:
        controller.wait_ready(READY_TIMEOUT)
        write_directly(api, ns, FATAL["ttl with two units"][2](good))
        code = controller.wait_exit(EXIT_TIMEOUT)
        log = controller.log()
    assert code not in (None, 0) and "strconv.Atoi" in log, log[-3000:]


# id: (module arguments the module rejects, message, the same input written directly, evidence in Argo's log)
ACCEPTED_BUT_MISLEADING = {
    # v4.0.5 CreateDBSession: `if PostgreSQL != nil {...} else if MySQL != nil` -- MySQL silently ignored.
    "both databases": ({"mysql": {"host": "mysql.invalid", "username_secret": {"name": SECRET, "key": "username"},
                                  "password_secret": {"name": SECRET, "key": "password"}}},
                       "Argo silently uses postgresql and ignores mysql",
                       _append("mysql:\n  host: mysql.invalid\n  tableName: argo_workflows\n")),
    # sslMode is only read with ssl: true; the connection is not what the user asked for.
    "ssl mode without ssl": ({"postgresql_extra": {"ssl_mode": "verify-full"}},
                             "postgresql.ssl_mode is ignored unless postgresql.ssl is true",
                             _replace("  tableName:", "  sslMode: verify-full\n  tableName:")),
}


@pytest.mark.parametrize("bad_args, message, edit", list(ACCEPTED_BUT_MISLEADING.values()),
                         ids=list(ACCEPTED_BUT_MISLEADING))
def test_rejected_input_the_controller_silently_ignores(control_plane, argo_controller, api, ns, archive_db,
                                                        bad_args, message, edit):
    rejected = run_module(control_plane.kubeconfig, oracle_args(ns, control_plane, archive_db, **bad_args))
    assert rejected["failed"] is True and message in rejected["msg"], rejected.get("msg")
    write_directly(api, ns, edit(module_output(control_plane, ns, archive_db)))
    with argo_controller.start(ns) as controller:
        controller.wait_ready(READY_TIMEOUT)  # accepted: the ignored part has no effect at all
        log = controller.log()
    assert "Persistence Session created successfully" in log


def test_negative_retention_crashes_the_controller_once_a_workflow_finishes(control_plane, argo_controller, api, ns,
                                                                            archive_db):
    """Argo parses ``completed: -1``, then its GC pops an empty heap (gc_controller.go runGC) and panics."""
    rejected = run_module(control_plane.kubeconfig, oracle_args(
        ns, control_plane, archive_db, retention_policy={"completed": -1, "failed": 3, "errored": 3}))
    assert rejected["failed"] is True and "retention_policy.completed: -1 is out of range" in rejected["msg"]
    write_directly(api, ns, dict(module_output(control_plane, ns, archive_db), retentionPolicy="completed: -1\n"))
    custom = kubernetes.client.CustomObjectsApi(kubernetes.config.new_client_from_config(
        config_file=control_plane.kubeconfig))
    with argo_controller.start(ns) as controller:
        controller.wait_ready(READY_TIMEOUT)  # the value itself is accepted...
        custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", ns, "workflows", POD_LESS_WORKFLOW)
        code = controller.wait_exit(EXIT_TIMEOUT)  # ...until the first workflow finishes
        log = controller.log()
    assert code not in (None, 0), f"the controller did not exit:\n{log[-3000:]}"
    assert "index out of range" in log, log[-3000:]
    say(f"negative retention: controller exited with {code} after the first workflow finished")


def _recase(data):
    """Spellings Go's encoding/json accepts: a data key and field names in another case."""
    text = data["persistence"].replace("nodeStatusOffLoad", "nodeStatusOffload").replace("userNameSecret",
                                                                                         "usernameSecret")
    return {"Persistence": text, "retentionPolicy": data["retentionPolicy"]}


def _host_as_number(data):
    lines = [line for line in data["persistence"].splitlines(True) if not line.startswith("  host:")]
    at = lines.index("postgresql:\n") + 1
    return dict(data, persistence="".join(lines[:at] + ["  host: 10\n"] + lines[at:]))


# id: (edit of the module's output, does Argo accept it, evidence in Argo's log)
READ_BACK = {
    "keys in another case": (_recase, True, "Node status offloading is enabled"),
    "number below postgresql": (_host_as_number, False, "cannot unmarshal number into Go struct field"),
    "null archiveTTL": (_replace("archiveTTL: 7d", "archiveTTL:"), False, "invalid TTL"),
}


@pytest.mark.parametrize("edit, accepted, evidence", list(READ_BACK.values()), ids=list(READ_BACK))
def test_reading_existing_config_agrees_with_the_controller(control_plane, argo_controller, api, ns, archive_db,
                                                            edit, accepted, evidence):
    """The model's reading of an existing ConfigMap (used to report problems and decide `changed`)."""
    data = edit(module_output(control_plane, ns, archive_db))
    current = Current(data, parse_version(control_plane.argo_version))
    assert (current.problems["persistence"] == []) is accepted, current.problems
    write_directly(api, ns, data)
    with argo_controller.start(ns) as controller:
        if accepted:
            controller.wait_ready(READY_TIMEOUT)
        else:
            assert controller.wait_exit(EXIT_TIMEOUT) not in (None, 0)
        log = controller.log()
    assert evidence in log, log[-3000:]


# ---------------------------------------------------------------- 5. names Argo pastes into SQL

# One name per class the model distinguishes, each run through Argo's real migration.
TABLE_NAMES = ["argo_workflows", "_x", "a$b", "values", "between", "char", "t" * 58, "t" * 59, "Argo_Workflows",
               "argo_workflows_i1", "argo_archived_workflows_labels_pkey"] + \
    sorted(argo_sql_names.ARGO_RELATIONS) + sorted(argo_sql_names.POSTGRESQL_RESERVED)
CLUSTER_NAMES = ["default", "it's", "back\\slash", "c" * 64, "c" * 65, "\u00e9" * 64, "1e3"]


def fresh_schema(control_plane, database):
    """An empty public schema: Argo's migration starts from nothing, as on a new database."""
    with psycopg.connect(control_plane.postgres.dsn(database), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def argo_migrates(control_plane, argo_db_tool, database, table, cluster):
    """(exit code, last line) of Argo's own migration on a fresh schema of ``database``."""
    fresh_schema(control_plane, database)
    proc = subprocess.run([argo_db_tool, "--dsn", control_plane.postgres.url(database), "migrate", "--table", table,
                           "--cluster", cluster], capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, (proc.stderr.strip().splitlines() or [""])[-1]


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_table_name_rules_are_argos_migration(control_plane, argo_db_tool, archive_db, table):
    problem = argo_sql_names.table_name_problem("postgresql", table)
    code, last = argo_migrates(control_plane, argo_db_tool, archive_db, table, "default")
    assert (code == 0) is (problem is None), f"{table!r}: model says {problem!r}; Argo's migration: {code} {last}"


@pytest.mark.parametrize("cluster", CLUSTER_NAMES)
def test_cluster_name_rules_are_argos_migration(control_plane, argo_db_tool, archive_db, cluster):
    problem = argo_sql_names.cluster_name_problem("postgresql", cluster, migrating=True)
    code, last = argo_migrates(control_plane, argo_db_tool, archive_db, "argo_workflows", cluster)
    assert (code == 0) is (problem is None), f"{cluster!r}: model says {problem!r}; Argo's migration: {code} {last}"


def test_edge_names_the_model_accepts_run_on_the_real_controller(control_plane, argo_controller, ns, archive_db):
    """The longest table name the model accepts (58 characters, with '$'), a cluster name go-yaml would
    read as a number (1e3 -> "1000": the module writes it so that Argo archives under exactly "1e3"), and
    what the module used to refuse for nothing: negative pool values and connection lifetime (Go's
    database/sql: none idle, unlimited, reused forever), `optional` on the Secret selectors."""
    table, cluster = "t" * 57 + "$", "1e3"
    fresh_schema(control_plane, archive_db)
    secrets = {"username_secret": {"name": SECRET, "key": "username", "optional": False},
               "password_secret": {"name": SECRET, "key": "password", "optional": True}}
    result = run_module(control_plane.kubeconfig, oracle_args(
        ns, control_plane, archive_db, cluster_name=cluster, postgresql_extra=dict(secrets, table_name=table),
        connection_pool={"max_idle_conns": -1, "max_open_conns": -1, "conn_max_lifetime": "-5m"}))
    assert result.get("failed") is not True, result["_output"]
    custom = kubernetes.client.CustomObjectsApi(kubernetes.config.new_client_from_config(
        config_file=control_plane.kubeconfig))
    with argo_controller.start(ns) as controller:
        controller.wait_ready(READY_TIMEOUT)
        created = custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", ns, "workflows", POD_LESS_WORKFLOW)
        wait_archived(control_plane, ns, created["metadata"]["name"])
    with psycopg.connect(control_plane.postgres.dsn(archive_db)) as conn:
        clusters = conn.execute("SELECT DISTINCT clustername FROM argo_archived_workflows").fetchall()
        offload = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'public."{table}"',)).fetchone()[0]
    assert clusters == [(cluster,)] and offload


@pytest.mark.parametrize("table, cluster, argo_error", [
    ("Argo_Workflows", "default", 'relation "Argo_Workflows" does not exist'),
    ("t" * 59, "default", "_pke\" of relation"),
    ("argo_workflows", "it\'s", "syntax error"),
], ids=["capital letters", "59 characters", "quote in the cluster name"])
def test_names_the_model_refuses_stop_the_real_controller(control_plane, argo_controller, api, ns, archive_db,
                                                          table, cluster, argo_error):
    fresh_schema(control_plane, archive_db)
    rejected = run_module(control_plane.kubeconfig, oracle_args(ns, control_plane, archive_db, cluster_name=cluster,
                                                                postgresql_extra={"table_name": table}))
    assert rejected["failed"] is True and ("table_name" in rejected["msg"] or "cluster_name" in rejected["msg"])
    data = module_output(control_plane, ns, archive_db)  # the same mistake written by hand
    data["persistence"] = data["persistence"].replace("tableName: argo_workflows", f"tableName: {table}") + \
        f"clusterName: \"{cluster}\"\n"
    write_directly(api, ns, data)
    with argo_controller.start(ns) as controller:
        code = controller.wait_exit(EXIT_TIMEOUT)
        log = controller.log()
    assert code not in (None, 0) and "Failed to init db" in log and argo_error in log, log[-3000:]


def test_a_foreign_key_argo_cannot_read_is_never_reported_as_success(control_plane, argo_controller, api, ns,
                                                                     archive_db):
    """`executor: imagePullPolicy: IfNotPresent` as a one-line value: Argo glues it into invalid YAML."""
    before = create_config_map(api, ns, {"executor": "imagePullPolicy: IfNotPresent"}).metadata.resource_version
    refused = run_module(control_plane.kubeconfig, oracle_args(ns, control_plane, archive_db))
    assert refused["failed"] is True and "data.executor" in refused["msg"] and "nothing was written" in refused["msg"]
    assert read_config_map(api, ns).metadata.resource_version == before
    warned = run_module(control_plane.kubeconfig, oracle_args(ns, control_plane, archive_db, foreign_key_errors="warn"))
    assert warned["changed"] is True and "Argo rejects the ConfigMap until this is fixed" in " ".join(warned["warnings"])
    with argo_controller.start(ns) as controller:
        code = controller.wait_exit(EXIT_TIMEOUT)
        log = controller.log()
    assert code not in (None, 0) and "mapping values are not allowed in this context" in log, log[-3000:]
