"""Argo's YAML dialect (go-yaml v2 under sigs.k8s.io/yaml v1.4.0), case by case.

Expected values are what Argo v4.0.5's own parser answered for the same text (the argoconfig oracle in
tests/controlplane; tests/integration/test_persistence_model_vs_argo.py compares generated cases).
"""
import math

import pytest

from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import (
    LayoutError, dump, fold_key, fold_matches, go_float32_string, go_string, load, reencoding_problem, resolve_plain,
    same)


@pytest.mark.parametrize("text, value", [
    ("y", True), ("Yes", True), ("on", True), ("OFF", False), ("n", False), ("~", None), ("", None), ("Null", None),
    ("1e3", 1000.0), ("5e-1", 0.5), ("09", 9.0), ("0089", 89.0), ("0o17", 15), ("0x1F", 31), ("017", 15),
    ("0b101", 5), ("-0b11", -3), ("1_000", 1000), ("+5", 5), ("1.", 1.0), (".5", 0.5), ("-.inf", -math.inf),
    ("18446744073709551615", 18446744073709551615), ("99999999999999999999", 1e20),
    # strings: not numbers in go-yaml's rules, or out of range
    ("1e400", "1e400"), (".5e999", ".5e999"), ("0x", "0x"), ("1:20", "1:20"), ("2001-12-14", "2001-12-14"),
    ("yEs", "yEs"), ("<<", "<<"), ("0x1p3", "0x1p3"), ("1,000", "1,000"), ("e3", "e3"),
])
def test_plain_scalars_resolve_as_go_yaml_resolves_them(text, value):
    resolved = resolve_plain(text)
    assert same(resolved, value)


def test_nan_resolves_to_nan():
    assert math.isnan(resolve_plain(".NaN"))


@pytest.mark.parametrize("value, text", [
    (1000.0, "1000"), (1e6, "1e+06"), (123456.0, "123456"), (1234567.0, "1.234567e+06"), (0.0001, "0.0001"),
    (0.00001, "1e-05"), (1.5, "1.5"), (3.14159265358979, "3.1415927"), (1e39, "+Inf"), (3.4028235e38, "3.4028235e+38"),
    (16777217.0, "1.6777216e+07"), (0.1, "0.1"), (1e20, "1e+20"), (math.inf, "+Inf"), (math.nan, "NaN"),
    (5e-324, "0"), (-0.0, "-0"), (9.0, "9"),
])
def test_floats_become_strings_with_gos_float32_formatting(value, text):
    """strconv.FormatFloat(f, 'g', -1, 32), as sigs.k8s.io/yaml writes a number into a string field."""
    assert go_float32_string(value) == text


def test_go_string_of_every_scalar():
    assert [go_string(v) for v in (True, False, 15, 2 ** 64 - 1, 1000.0, "x", None)] == \
        ["true", "false", "15", "18446744073709551615", "1000", "x", None]


def test_load_keeps_types_and_turns_keys_into_strings():
    assert same(load("a: 1e3\nb: '09'\n1: x\ntrue: y\n0x1F: z\n1.5: w\n2001-01-01: t\n", "t"),
                {"a": 1000.0, "b": "09", "1": "x", "true": True, "31": "z", "1.5": "w", "2001-01-01": "t"})


@pytest.mark.parametrize("text, message", [
    ("a: 1\na: 2\n", "key 'a' already set in map"),
    ("1: a\n0x1: b\n", "already set in map"),               # equal as Go values
    ("a: {<<: {b: 1}, b: 2}\n", "already set in map"),       # strict mode: a merge does not override
    ("~: x\n", "unsupported map key"),
    ("18446744073709551615: x\n", "unsupported map key"),
    ("[a]: x\n", "invalid map key"),
    ("1: a\n'1': b\n", "the same key for Argo"),             # different YAML keys, one JSON key: Go picks at random
    ("a: [\n", "is not valid YAML"),
    ("a: \x07\n", "is not valid YAML"),
])
def test_load_rejects_what_argo_rejects(text, message):
    with pytest.raises(LayoutError) as err:
        load(text, "data.x")
    assert message in str(err.value)


def test_load_reads_merges_aliases_tags_and_only_the_first_document():
    assert load("base: &b {x: 1}\nm:\n  <<: *b\n  z: 2\n", "t") == {"base": {"x": 1}, "m": {"x": 1, "z": 2}}
    assert load("a: !!str 5\nb: !!float 1\nc: !custom v\nd: !!binary aGVsbG8=\n", "t") == \
        {"a": "5", "b": 1.0, "c": "v", "d": "hello"}
    assert load("a: 1\n---\nb: [\n", "t") == {"a": 1}
    assert load("a: &x 1\nb: &x 2\nc: *x\n", "t") == {"a": 1, "b": 2, "c": 2}  # a later anchor wins
    with pytest.raises(LayoutError):
        load("a: !!int x\n", "t")


@pytest.mark.parametrize("value", [
    "1e3", "09", "0o17", "y", "NO", "~", "", "<<", "a: b", " lead", "\x85", "a\rb", "\u2028", "\ufeff", "a\n\nb",
    "\x7f", "'", '"', "#x", "- a", "x" * 5000, "\u00e9", 15, 1.5, True, None,
])
def test_dump_writes_what_argo_reads_back(value):
    assert same(load(dump({"k": value, value if isinstance(value, str) else "v": 1}), "t"),
                {"k": value, value if isinstance(value, str) else "v": 1})


def test_dump_quotes_what_go_yaml_would_read_as_something_else():
    assert dump({"a": "1e3", "b": "09", "c": "y", "d": "plain"}) == "a: '1e3'\nb: '09'\nc: 'y'\nd: plain\n"


def test_field_names_match_as_encoding_json_matches_them():
    assert fold_key("NodeStatusOffload") == fold_key("nodeStatusOffLoad")
    assert fold_key("\u017fkipMigration") == fold_key("skipMigration")  # long s folds onto s
    assert fold_key("\u212aey") == fold_key("key")                      # Kelvin sign folds onto k
    assert fold_key("\u00e9") != fold_key("e")
    assert fold_matches(["persistence", "Persistence", "PERSISTENCE", "x"], "persistence") == \
        ["PERSISTENCE", "Persistence", "persistence"]  # Go decodes them in sorted order; the last wins


def test_control_characters_argos_reencoding_refuses():
    assert reencoding_problem({"a": ["x", "y\x7f"]}) == "y\x7f"
    assert reencoding_problem({"k\x9f": 1}) == "k\x9f"
    assert reencoding_problem({"a": "\x01\x85\t\n\u2028"}) is None  # json.Marshal escapes these


@pytest.mark.parametrize("text, value", [
    ("a: \t\n", {"a": None}), ("a: x\tb\n", {"a": "x\tb"}), ("a:\tb\n", {"a": "b"}), ("a: b\t#c\n", {"a": "b"}),
    ("a: [x,\tz]\n", {"a": ["x", "z"]}), ("a: b\n \tc\n", {"a": "b c"}), ("a: {\tb: c}\n", {"a": {"b": "c"}}),
])
def test_tabs_where_go_yaml_allows_them(text, value):
    """libyaml's rules, which PyYAML's scanner does not follow by itself (checked against Argo's parser)."""
    assert load(text, "t") == value


@pytest.mark.parametrize("text", ["\ta: x\n", "a: b\n\tc\n", "- \ta\n", "a:\n  b: c\n\t\n"])
def test_tabs_go_yaml_refuses(text):
    with pytest.raises(LayoutError):
        load(text, "t")


@pytest.mark.parametrize("text", ["[" * 1000 + "]" * 1000, "".join(" " * i + "a:\n" for i in range(1000))])
def test_nesting_deeper_than_python_can_compose_is_a_layout_error(text):
    # found probing the parsers for the property tests: PyYAML's composer recursed into a RecursionError
    with pytest.raises(LayoutError) as err:
        load(text, "data.persistence")
    assert str(err.value).startswith("data.persistence is not valid YAML for Argo: ")
    assert "nesting too deep" in str(err.value)
