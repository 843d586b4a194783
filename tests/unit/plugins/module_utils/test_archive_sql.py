"""SQL building for the archive: every user value is a bind parameter, keyset pages, tokens, stats, prune."""
import datetime
import json
import re

import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import archive_sql as q
from ansible_collections.argoops.workflows.plugins.module_utils.archive_selector import parse_selector

T0 = datetime.datetime(2024, 5, 1, 12, 0, 0)
SCOPE = q.Scope("cl'uster\"; DROP TABLE x; --", "inst%ance")
HOSTILE = "o'brien\"; DELETE FROM argo_archived_workflows; --"
SELECTOR = ("markerkey1.example.com/k1=markervalue1,markerkey2 in (markervalue2,markervalue3),"
            "markerkey3 notin (markervalue4),markerkey4!=markervalue5,markerkey5,!markerkey6")
USER_TEXT = [SCOPE.cluster_name, SCOPE.instance_id, HOSTILE, "nsmarker1", "nsmarker2", "Failed"] + \
    re.findall(r"marker\w+", SELECTOR)


def hostile_filters(**overrides):
    values = dict(namespaces=("nsmarker1", "nsmarker2"), name=HOSTILE, name_match="contains", phases=("Failed",),
                  labels=tuple(parse_selector(SELECTOR)), started_after=T0, started_before=T0,
                  finished_after=T0, finished_before=T0)
    values.update(overrides)
    return q.Filters(**values)


def all_queries(filters):
    after = (T0, "uid-" + HOSTILE)
    return [q.list_query(SCOPE, filters, 10, after, include_workflow=True), q.count_query(SCOPE, filters),
            q.oldest_query(SCOPE, filters, 5), q.prune_batch_query(SCOPE, filters, 1000),
            q.stats_query(SCOPE, filters, "label:markerkey7"), q.stats_query(SCOPE, filters, "day")]


@pytest.mark.parametrize("name_match", ["exact", "prefix", "contains"])
def test_no_user_text_in_sql_and_one_param_per_placeholder(name_match):
    for sql, params in all_queries(hostile_filters(name_match=name_match)):
        for text in USER_TEXT + ["markerkey7"]:
            assert text not in sql, (text, sql)
        assert "'" not in sql.replace("'day'", "").replace("'epoch'", "")  # no literal but our constants
        assert sql.count("%s") == len(params)
        flat = json.dumps(params, default=str)
        for text in ["nsmarker1", "nsmarker2", "Failed"] + re.findall(r"marker\w+", SELECTOR):
            assert text in flat, (text, sql)  # every filter reaches the query, as a parameter


def test_no_offset_anywhere():
    for sql, _params in all_queries(hostile_filters()):
        assert "OFFSET" not in sql.upper()


def test_scope_always_first_and_bound():
    sql, params = q.where(SCOPE, q.NO_FILTERS)
    assert sql == "w.clustername = %s AND w.instanceid = %s"
    assert params == [SCOPE.cluster_name, SCOPE.instance_id]


def test_one_namespace_uses_equality_for_index_i1():
    sql, params = q.where(SCOPE, q.NO_FILTERS._replace(namespaces=("argo",)))
    assert "w.namespace = %s" in sql and params[-1] == "argo"
    sql, params = q.where(SCOPE, q.NO_FILTERS._replace(namespaces=("a", "b")))
    assert "w.namespace = ANY(%s)" in sql and params[-1] == ["a", "b"]


@pytest.mark.parametrize("selector, clause, params", [
    ("k=v", "EXISTS (SELECT 1 FROM argo_archived_workflows_labels l WHERE l.clustername = w.clustername "
            "AND l.uid = w.uid AND l.name = %s AND l.value = %s)", ["k", "v"]),
    ("k!=v", "NOT EXISTS (", ["k", "v"]),
    ("k in (a,b)", "AND l.value = ANY(%s))", ["k", ["a", "b"]]),
    ("k notin (a)", "NOT EXISTS (", ["k", ["a"]]),
    ("k", "l.name = %s)", ["k"]),
    ("!k", "NOT EXISTS (", ["k"]),
])
def test_label_requirements_become_exists_on_the_labels_primary_key(selector, clause, params):
    sql, bound = q.where(SCOPE, q.NO_FILTERS._replace(labels=tuple(parse_selector(selector))))
    assert clause in sql
    assert bound[2:] == params
    assert sql.count("NOT EXISTS") == (1 if selector.startswith("!") or "!=" in selector or "notin" in selector
                                       else 0)


@pytest.mark.parametrize("name_match, clause, param", [
    ("exact", "w.name = %s", "a_b%c\\"),
    ("prefix", "w.name LIKE %s", "a\\_b\\%c\\\\%"),
    ("contains", "strpos(w.name, %s) > 0", "a_b%c\\"),
])
def test_name_matching_treats_wildcards_literally(name_match, clause, param):
    sql, params = q.where(SCOPE, q.NO_FILTERS._replace(name="a_b%c\\", name_match=name_match))
    assert clause in sql and params[-1] == param


def test_time_bounds_are_half_open():
    sql, params = q.where(SCOPE, q.NO_FILTERS._replace(started_after=T0, finished_before=T0))
    assert "w.startedat >= %s" in sql and "w.finishedat < %s" in sql and params[2:] == [T0, T0]


def test_list_query_keyset_and_order():
    sql, params = q.list_query(SCOPE, q.NO_FILTERS, 100)
    assert sql.endswith("ORDER BY w.startedat DESC, w.uid DESC LIMIT %s") and params[-1] == 101
    assert "workflow::text" not in sql
    sql, params = q.list_query(SCOPE, q.NO_FILTERS, 100, after=(T0, "u1"), include_workflow=True)
    assert "w.startedat <= %s AND (w.startedat < %s OR w.uid < %s)" in sql
    assert params[2:] == [T0, T0, "u1", 101]
    assert "w.workflow::text AS workflow" in sql


def test_token_round_trip_and_opaque():
    fp = q.fingerprint(SCOPE, hostile_filters())
    token = q.encode_token(T0.replace(microsecond=123456), "uid-1", fp)
    assert re.match(r"^[A-Za-z0-9_-]+$", token)
    assert q.decode_token(token, fp) == (T0.replace(microsecond=123456), "uid-1")


def test_token_for_other_filters_is_refused():
    token = q.encode_token(T0, "uid-1", q.fingerprint(SCOPE, q.NO_FILTERS))
    other = q.fingerprint(SCOPE, q.NO_FILTERS._replace(phases=("Failed",)))
    with pytest.raises(q.QueryError, match="page_token: the token belongs to a query with other filters"):
        q.decode_token(token, other)
    other_scope = q.fingerprint(q.Scope("other", ""), q.NO_FILTERS)
    with pytest.raises(q.QueryError, match="another scope"):
        q.decode_token(token, other_scope)


@pytest.mark.parametrize("token", ["", "garbage!", "eyJ2IjoyfQ", "bm90IGpzb24", "W10",
                                   "eyJ2IjoxLCJzIjoibm90LWEtZGF0ZSIsInUiOiJ4IiwicSI6IngifQ"])
def test_bad_tokens_are_refused_clearly(token):
    with pytest.raises(q.QueryError, match="page_token: not a token returned by archive_info"):
        q.decode_token(token, "x")


@pytest.mark.parametrize("group_by, expression", [
    ("phase", "w.phase AS key"), ("namespace", "w.namespace AS key"),
    ("day", "date_trunc('day', w.startedat) AS key"), ("hour", "date_trunc('hour', w.startedat) AS key"),
    ("label:workflows.argoproj.io/phase", "g.value AS key"),
])
def test_stats_query(group_by, expression):
    sql, params = q.stats_query(SCOPE, q.NO_FILTERS, group_by)
    assert expression in sql
    assert "percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY s.d)" in sql and "GROUP BY s.key" in sql
    if group_by.startswith("label:"):
        assert "LEFT JOIN argo_archived_workflows_labels g" in sql
        assert params[0] == "workflows.argoproj.io/phase"


@pytest.mark.parametrize("group_by, words", [
    ("week", "group_by: 'week' is not one of phase, namespace, day, hour or label:<label key>"),
    ("label:", "label key '' is invalid"), ("label:a b", "label key 'a b' is invalid"), ("", "is not one of"),
])
def test_bad_group_by(group_by, words):
    with pytest.raises(ValueError) as err:
        q.group_expression(group_by)
    assert words in str(err.value)


def test_stat_rows_are_formatted():
    row = (datetime.datetime(2024, 5, 1), 3, 10.12345, [9.0, 19.5], 20.0)
    assert q.row_to_stat(row, "day") == dict(key="2024-05-01", count=3,
                                             duration_seconds=dict(avg=10.123, p50=9.0, p95=19.5, max=20.0))
    assert q.row_to_stat((datetime.datetime(2024, 5, 1, 7),) + row[1:], "hour")["key"] == "2024-05-01T07:00:00Z"
    assert q.row_to_stat((None,) + row[1:], "label:x")["key"] is None


def test_row_to_workflow_restores_nul_characters():
    stored = json.dumps({"metadata": {"name": "w"}, "status": {"message": "a\u0000b"}}).replace(
        "\\u0000", q.NULL_REPLACEMENT)  # what Argo writes (workflow_archive.go)
    row = ("u1", "w", "argo", "Failed", T0, T0 + datetime.timedelta(seconds=90.5), {"a": "b"}, stored)
    item = q.row_to_workflow(row)
    assert item["workflow"]["status"]["message"] == "a\u0000b"
    assert item["duration_seconds"] == 90.5 and item["started_at"] == "2024-05-01T12:00:00Z"
    assert q.row_to_workflow(row[:6] + (None,))["labels"] == {}


def test_prune_narrows_to_cutoff_and_orders_by_finishedat():
    narrowed = q.with_finished_before(q.NO_FILTERS, T0)
    sql, params = q.prune_batch_query(SCOPE, narrowed, 500)
    assert "w.finishedat < %s" in sql and "ORDER BY w.finishedat LIMIT %s" in sql
    assert params[-2:] == [T0, 500]
    earlier = T0 - datetime.timedelta(days=1)
    assert q.with_finished_before(q.NO_FILTERS._replace(finished_before=earlier), T0).finished_before == earlier


@pytest.mark.parametrize("text, expected", [
    ("2024-05-01", datetime.datetime(2024, 5, 1)),
    ("2024-05-01T12:00:00Z", T0),
    ("2024-05-01T14:00:00+02:00", T0),
    ("2024-05-01 12:00:00", T0),
    (None, None),
])
def test_parse_time_gives_naive_utc(text, expected):
    assert q.parse_time(text, "started_after") == expected


def test_parse_time_error_names_option():
    with pytest.raises(q.QueryError, match="^started_before: 'yesterday' is not an ISO 8601"):
        q.parse_time("yesterday", "started_before")
