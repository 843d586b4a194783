"""The ConfigMap as a whole, as Argo v4.0.5 reads it (config/controller.go), and Go's decoding rules.

Expected verdicts are Argo's own (the argoconfig oracle; tests/integration compares generated cases).
"""
import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config as model
from ansible_collections.argoops.workflows.tests.support import argo_model
from ansible_collections.argoops.workflows.plugins.module_utils.argo_configmap import Current, Plan
from ansible_collections.argoops.workflows.plugins.module_utils.argo_decode import go_int
from ansible_collections.argoops.workflows.plugins.module_utils.argo_document import (Document, argo_text,
                                                                                      go_duration_ok)
from ansible_collections.argoops.workflows.plugins.module_utils.argo_sql_names import (cluster_name_problem,
                                                                                       table_name_problem)
from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import LayoutError

V405 = (4, 0, 5)
PERSISTENCE = ("archive: true\npostgresql:\n  host: h\n  tableName: t\n  userNameSecret: {name: s, key: u}\n"
               "  passwordSecret: {name: s, key: p}\n")


def test_argo_glues_per_key_data_into_one_document():
    assert argo_text({"b": "x: 1\ny: 2\n", "a": "10"}) == "a: 10\nb:\n  x: 1\n  y: 2\n"


@pytest.mark.parametrize("data, key, words", [
    ({"executor": "imagePullPolicy: IfNotPresent"}, "executor", "is not valid YAML"),   # one line: a: b: c
    ({"bogus": "1"}, "bogus", "has no setting 'bogus'"),
    ({"parallelism": "1.5"}, "parallelism", "not an integer"),
    ({"namespaceParallelism": "'10'"}, "namespaceParallelism", "not an integer"),
    ({"initialDelay": "1e3s"}, "initialDelay", "not a Go duration"),
    ({"initialDelay": "~"}, "initialDelay", "null is not a duration"),
    ({"links": "x"}, "links", "is not a list"),
    ({"metricsConfig": "- a\n"}, "metricsConfig", "is not a mapping"),
    ({"navColor": "[a]"}, "navColor", "is not a string"),
    ({"instanceID": '"\\x7f"'}, "instanceID", "control character"),
])
def test_foreign_keys_argo_rejects_are_named(data, key, words):
    document = Document(dict(data, persistence=PERSISTENCE), V405)
    problems = document.other_problems(model.MANAGED_KEYS)
    assert [p.setting for p in problems] == [key] and words in problems[0], problems
    assert document.problems_of(model.MANAGED_KEYS) == []


@pytest.mark.parametrize("data", [
    {"namespaceParallelism": "1e3"},            # go-yaml float 1000 -> JSON 1000 -> int
    {"podGCDeleteDelayDuration": "~"},          # a pointer: null is nil
    {"initialDelay": "1h30m"}, {"Executor": "{image: x}"}, {"instanceID": "09"}, {"sso": "~"},
    {"executor": "imagePullPolicy: IfNotPresent\n"},
])
def test_foreign_keys_argo_accepts(data):
    assert Document(dict(data, persistence=PERSISTENCE), V405).problems == []


def test_unknown_settings_are_only_findings_when_the_controller_is_not_v40():
    for version in (None, (4, 1, 2)):
        document = Document({"newSetting": "1"}, version)
        assert document.problems == [] and "has no setting 'newSetting'" in document.findings[0]


def test_config_key_document_problems_name_the_setting():
    document = Document({"config": "persistence: {}\nnavColor: [a]\nbogus: 1\n"}, V405)
    assert sorted(p.setting for p in document.problems) == ["bogus", "navColor"]
    assert "data.config: bogus" in str([p for p in document.problems if p.setting == "bogus"][0])


@pytest.mark.parametrize("text, ok", [
    ("0", True), ("-0", True), ("1.5h", True), ("1h30m", True), (".5s", True), ("1\u00b5s", True), ("3.m", True),
    ("2562047h", True), ("2562048h", False), ("1e3s", False), ("", False), (".s", False), ("5", False), ("1x", False),
])
def test_go_durations(text, ok):
    assert go_duration_ok(text) is ok


@pytest.mark.parametrize("value, number", [
    (5, 5), (1000.0, 1000), (-0.0, 0), (1e20, None), (1e21, None), (1.5, None), (True, None), ("5", None),
    (2 ** 63, None), (float(2 ** 60), 1152921504606847000),  # Go writes the shortest digits, then parses them
])
def test_integer_fields_take_what_encoding_json_takes(value, number):
    assert go_int(value) == number


def test_case_variants_merge_in_sorted_order():
    """Two spellings of one key: Go decodes "Persistence" then "persistence" into the same struct."""
    current = Current({"Persistence": "archive: true\nclusterName: a\n", "persistence": PERSISTENCE +
                       "clusterName: b\nArchive: false\n"}, V405)
    assert current.persistence["clusterName"] == "b"
    assert current.persistence["archive"] is True  # "Archive" sorts before "archive": the later one wins
    assert current.needs_rewrite("persistence")


def test_null_resets_a_pointer_block():
    assert Current({"config": "persistence: ~\n"}, V405).persistence is None


def test_plan_refuses_to_call_a_rejected_configmap_a_success():
    desired = model.from_options({"archive": True, "postgresql": {
        "host": "h", "table_name": "t", "username_secret": {"name": "s", "key": "u"},
        "password_secret": {"name": "s", "key": "p"}}}, V405)
    plan = Plan({"executor": "imagePullPolicy: IfNotPresent"}, desired, "present", V405)
    assert [p.setting for p in plan.other_problems] == ["executor"]
    assert plan.data["executor"] == "imagePullPolicy: IfNotPresent"  # never rewritten by this module
    left = Plan({"retentionPolicy": "completed: y\n"}, model.Desired(desired.persistence, None, []), "present", V405)
    assert "retentionPolicy (left as it is" in left.other_problems[0] and argo_model.argo_rejects(left.other_problems)
    with pytest.raises(LayoutError):
        Plan({"config": "a: [\n"}, desired, "present", V405)


@pytest.mark.parametrize("database, name, words", [
    ("postgresql", "argo_workflows", None), ("postgresql", "values", None), ("postgresql", "a$b", None),
    ("postgresql", "t" * 58, None), ("postgresql", "t" * 59, "longer than 58"), ("postgresql", "User", "lower-case"),
    ("postgresql", "user", "reserved word in PostgreSQL"), ("postgresql", "left", "reserved"),
    ("postgresql", "idx_name", "Argo's own migration"), ("postgresql", "$a", "plain"), ("postgresql", "1a", "plain"),
    ("postgresql", "\u00e9", "plain"), ("postgresql", "argo_workflows\n", "plain"),
    ("mysql", "ArgoWorkflows", None), ("mysql", "user", None), ("mysql", "key", "reserved word in MySQL"),
    ("mysql", "t" * 62, None), ("mysql", "t" * 63, "longer than 62"), ("mysql", "schema_history", "Argo's own"),
])
def test_table_names_argos_migration_can_use(database, name, words):
    problem = table_name_problem(database, name)
    assert (problem is None) if words is None else (words in problem), problem


@pytest.mark.parametrize("database, name, migrating, words", [
    ("postgresql", "it's", True, "single quote"), ("postgresql", "it's", False, None),
    ("postgresql", "a\\b", True, None), ("mysql", "a\\b", True, "backslash"), ("mysql", "a\\b", False, None),
    ("postgresql", "c" * 64, True, None), ("postgresql", "\u00e9" * 64, True, None),
    ("postgresql", "c" * 65, False, "longer than 64"), ("postgresql", "a\x00", False, "NUL"),
])
def test_cluster_names(database, name, migrating, words):
    problem = cluster_name_problem(database, name, migrating)
    assert (problem is None) if words is None else (words in problem), problem


def test_what_depends_on_gos_random_key_order_is_not_judged_either_way():
    """Argo glues per-key data in Go's map order, which is random: a '---' line in a value ends the
    document wherever it lands, an alias works only after its anchor. The oracle, fed one such ConfigMap
    six times, accepted it five times and rejected it once."""
    marker = Document({"persistence": PERSISTENCE, "navColor": "\u2028---"}, V405)
    assert [(p.setting, p.kind) for p in marker.problems] == [("navColor", "unknown")]
    assert marker.root["persistence"]["archive"] is True  # still read, key by key
    alias = Document({"navColor": "&a x", "instanceID": "*a"}, V405)
    assert [(p.setting, p.kind) for p in alias.problems] == [("instanceID", "unknown")]
    assert argo_model.argo_rejects(alias.problems) is None
    undefined = Document({"instanceID": "*a"}, V405)  # no order helps
    assert [(p.setting, p.kind) for p in undefined.problems] == [("instanceID", "argo")]
