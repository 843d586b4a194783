"""Argo's TTL grammar, case by case from config/ttl.go."""
import pytest

from ansible_collections.argoops.workflows.plugins.module_utils.argo_ttl import TTLError, format_ttl, parse_ttl


@pytest.mark.parametrize("value, seconds", [
    ("", 0), ("0", 0), ("0s", 0), ("7d", 7 * 86400), ("180d", 180 * 86400), ("48h", 48 * 3600),
    ("30m", 1800), ("90s", 90), ("007d", 7 * 86400), ("+1h", 3600), ("106751d", 106751 * 86400),
    ("+0", 0), ("-0", 0), ("-0s", 0), ("-0d", 0),
])
def test_accepted(value, seconds):
    assert parse_ttl(value) == seconds


@pytest.mark.parametrize("value, words", [
    ("1h30m", "not a TTL Argo accepts"), ("1.5d", "not a TTL"), ("500ms", "not a TTL"), ("10us", "not a TTL"),
    ("7", "not a TTL"), ("7 d", "not a TTL"), ("d", "not a TTL"), ("7D", "not a TTL"), ("1w", "not a TTL"),
    ("-1d", "negative"), (10, "not a TTL string"), (True, "not a TTL string"), (" 7d", "not a TTL"),
    (None, "not a TTL string"), ("106752d", "longer than Argo can represent"), ("7d\n", "not a TTL"),
    ("9223372036854775808s", "out of Go's int range"),
])
def test_rejected(value, words):
    with pytest.raises(TTLError) as err:
        parse_ttl(value, option="archive_ttl")
    assert str(err.value).startswith("archive_ttl: ")
    assert words in str(err.value)


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (90, "90s"), (120, "2m"), (7200, "2h"), (86400 * 7, "7d")])
def test_format_round_trip(seconds, text):
    assert format_ttl(seconds) == text
    assert parse_ttl(text) == seconds


def test_negative_values_when_the_caller_accepts_them():
    """connMaxLifetime: database/sql reads a lifetime <= 0 as "reuse connections forever"."""
    assert parse_ttl("-5m", "conn_max_lifetime", allow_negative=True) == -300
    with pytest.raises(TTLError) as err:
        parse_ttl("-106752d", "conn_max_lifetime", allow_negative=True)
    assert err.value.kind == "policy" and "wrap" in str(err.value)


def test_problem_kinds():
    """What the controller does with the value: exits ("argo"), or runs with it but the caller refuses it."""
    for value, kind in (("1h30m", "argo"), (10, "argo"), ("9223372036854775808d", "argo"), ("-1d", "policy"),
                        ("106752d", "policy")):
        with pytest.raises(TTLError) as err:
            parse_ttl(value)
        assert err.value.kind == kind, value
