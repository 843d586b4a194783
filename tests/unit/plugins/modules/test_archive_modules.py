"""The three archive modules' argument handling: bad input fails with the option named, before any
connection is attempted (login_port points at a closed port, so reaching the network would show up as a
connection error instead), and secrets never appear in the result."""
import json
import socket

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.argoops.workflows.plugins.module_utils import pg
from ansible_collections.argoops.workflows.plugins.modules import archive_db, archive_info, archive_prune, archive_rollup

SECRET = "Sup3r-Secret-pw"


@pytest.fixture(scope="module")
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def run(module, args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def conn_args(port, **extra):
    return dict(login_host="127.0.0.1", login_port=port, login_password=SECRET, connect_timeout=2, **extra)


@pytest.mark.parametrize("module, args, message", [
    (archive_prune, dict(older_than="1h30m"), "older_than: '1h30m' is not a TTL Argo accepts"),
    (archive_prune, dict(older_than="-1d"), "older_than: '-1d' is negative"),
    (archive_prune, dict(older_than="0s"), "older_than: '0s' would select every workflow"),
    (archive_prune, dict(older_than="7d", batch_size=0), "batch_size: 0 is not between 1 and 100000"),
    (archive_prune, dict(older_than="7d", label_selector="a in ()"), "label_selector: 'a in ()'"),
    (archive_info, dict(label_selector="team=a b"), "label_selector: value 'a b' for label 'team' is invalid"),
    (archive_info, dict(limit=10001), "limit: 10001 is not between 0 and 10000"),
    (archive_info, dict(group_by="week"), "group_by: 'week' is not one of"),
    (archive_info, dict(capacity=True, price_per_core_hour=-1), "price_per_core_hour: -1.0 is not a positive number"),
    (archive_info, dict(capacity=True, price_per_gib_hour=0), "price_per_gib_hour: 0.0 is not a positive number"),
    (archive_info, dict(stats_source="cache"), "stats_source"),
    (archive_info, dict(started_after="last tuesday"), "started_after: 'last tuesday' is not an ISO 8601"),
    (archive_info, dict(started_after="2024-02-01", started_before="2024-01-01"),
     "started_after must be earlier than started_before"),
    (archive_info, dict(page_token="not-a-token"), "page_token: not a token returned by archive_info"),
    (archive_info, dict(name=""), "name: must not be empty"),
    (archive_info, dict(cluster_name="x" * 65), "cluster_name: "),
    (archive_db, dict(name="argo", state="absent"), "state: absent drops only what drop_database and/or drop_role"),
    (archive_db, dict(name="argo", state="absent", drop_role=True), "drop_role is True but all of the following are missing: user"),
])
def test_bad_input_fails_before_connecting(module, args, message, closed_port, capsys):
    result = run(module, conn_args(closed_port, **args), capsys)
    assert result["failed"] is True
    assert message in result["msg"], result["msg"]


@pytest.mark.parametrize("module, args", [
    (archive_info, {}), (archive_prune, dict(older_than="7d")), (archive_rollup, {}),
    (archive_prune, dict(older_than="7d", rollup=True)),
    (archive_db, dict(name="argo", user="argo", password=SECRET)),
])
def test_unreachable_server_names_target_not_password(module, args, closed_port, capsys):
    result = run(module, conn_args(closed_port, **args), capsys)
    assert result["failed"] is True
    assert 'user "postgres" at 127.0.0.1:%d' % closed_port in result["msg"]
    assert "the server is unreachable" in result["msg"]


def test_missing_psycopg_is_reported(monkeypatch, closed_port, capsys):
    monkeypatch.setattr(pg, "HAS_PSYCOPG", False)
    result = run(archive_info, conn_args(closed_port), capsys)
    assert "psycopg (version 3)" in result["msg"]
