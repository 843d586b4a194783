"""Label selector grammar: what kubectl -l / Argo's archive UI accept, and clear errors otherwise."""
import pytest

from ansible_collections.argoops.workflows.plugins.module_utils.archive_selector import (
    Requirement, SelectorError, format_selector, parse_selector)


@pytest.mark.parametrize("text, expected", [
    ("a=b", [Requirement("a", "=", ("b",))]),
    ("a==b", [Requirement("a", "=", ("b",))]),
    (" a = b ", [Requirement("a", "=", ("b",))]),
    ("a!=b", [Requirement("a", "!=", ("b",))]),
    ("a=", [Requirement("a", "=", ("",))]),
    ("workflows.argoproj.io/phase=Failed", [Requirement("workflows.argoproj.io/phase", "=", ("Failed",))]),
    ("env in (prod, dev)", [Requirement("env", "in", ("dev", "prod"))]),
    ("env in(prod)", [Requirement("env", "in", ("prod",))]),
    ("env notin (a,b,a)", [Requirement("env", "notin", ("a", "b"))]),
    ("team", [Requirement("team", "exists", ())]),
    ("!team", [Requirement("team", "!", ())]),
    ("! team", [Requirement("team", "!", ())]),
    ("a=b,env in (x,y),!c,d", [Requirement("a", "=", ("b",)), Requirement("env", "in", ("x", "y")),
                               Requirement("c", "!", ()), Requirement("d", "exists", ())]),
    ("", []), ("  ", []), (None, []),
])
def test_parses(text, expected):
    assert parse_selector(text) == expected


@pytest.mark.parametrize("text, words", [
    ("a=b,", "empty requirement"),
    (",a", "empty requirement"),
    ("a in ()", "at least one value"),
    ("a in (x", "unbalanced parentheses"),
    ("a>1", "< and > are not supported"),
    ("a<1", "< and > are not supported"),
    ("a b", "cannot parse"),
    ("!a=b", "cannot parse"),
    ("a=b c", "value 'b c' for label 'a' is invalid"),
    ("a=" + "x" * 64, "is invalid"),
    ("-a=b", "label key '-a' is invalid"),
    ("Example.COM/a=b", "the prefix before '/' must be a DNS subdomain"),
    ("/a=b", "the prefix before"),
    ("a/b/c=d", "at most one '/'"),
    ("a/=b", "is invalid"),
    ("x" * 64, "is invalid"),
    ("a='b'", "is invalid"),
    ("a=b;drop table x", "is invalid"),
    ("a in (x,y z)", "value 'y z'"),
])
def test_rejects_with_option_and_rule(text, words):
    with pytest.raises(SelectorError) as err:
        parse_selector(text, option="label_selector")
    assert str(err.value).startswith("label_selector: ")
    assert words in str(err.value)


def test_format_is_canonical():
    assert format_selector(parse_selector("b notin (y,x),a==1,!c,d")) == "b notin (x,y),a=1,!c,d"
