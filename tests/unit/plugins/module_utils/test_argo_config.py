"""The Argo persistence/retention model, case by case from Argo's own rules.

Sources of each rule: argo-workflows v4.0.5 / v4.1.2 config/config.go (keys, types), config/ttl.go
(TTL), config/controller.go (layouts, strict parsing), util/sqldb/sqldb.go (secrets, tokens, SSL),
persist/sqldb/sqldb.go ("TableName is empty"), apimachinery labels.NewRequirement (selectors).
"""
import copy

import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config as model
from ansible_collections.argoops.workflows.tests.support import argo_model
from ansible_collections.argoops.workflows.plugins.module_utils.argo_configmap import Current, Plan
from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import LayoutError

V405, V412 = (4, 0, 5), (4, 1, 2)
SECRET = "argo-postgres-config"


def pg(**extra):
    db = {"host": "postgres", "port": 5432, "database": "postgres", "table_name": "argo_workflows",
          "username_secret": {"name": SECRET, "key": "username"},
          "password_secret": {"name": SECRET, "key": "password"}}
    db.update(extra)
    return db


def tutorial(**extra):
    """The seed article's configuration, secrets referenced."""
    options = {"archive": True, "archive_ttl": "7d", "node_status_offload": True,
               "connection_pool": {"max_idle_conns": 100, "max_open_conns": 0, "conn_max_lifetime": "0s"},
               "postgresql": pg(), "retention_policy": {"completed": 10, "failed": 3, "errored": 3}}
    options.update(extra)
    return options


def build(options, version=V405):
    return model.from_options(copy.deepcopy(options), version)


# ---------------------------------------------------------------- valid input

VALID = {
    "tutorial": (tutorial(), V405),
    "ttl disabled by empty string": (tutorial(archive_ttl=""), V405),
    "ttl bare zero": (tutorial(archive_ttl="0"), V405),
    "ttl 180d": (tutorial(archive_ttl="180d"), V405),
    "ttl 48h and lifetime 30m": (tutorial(archive_ttl="48h", connection_pool={"conn_max_lifetime": "30m"}), V405),
    "mysql with options": ({"archive": True, "mysql": dict(pg(port=3306), options={"tls": "true", "timeout": 5})},
                           V405),
    "ssl verify-full": (tutorial(postgresql=pg(ssl=True, ssl_mode="verify-full")), V405),
    "ssl alone": (tutorial(postgresql=pg(ssl=True)), V405),
    "port zero means driver default": (tutorial(postgresql=pg(port=0)), V405),
    "port 65535": (tutorial(postgresql=pg(port=65535)), V405),
    "cluster name of 64 characters": (tutorial(cluster_name="c" * 64), V405),
    "skip migration": (tutorial(skip_migration=True), V405),
    "selector with every operator": (tutorial(archive_label_selector={
        "match_labels": {"workflows.argoproj.io/archive-strategy": "always", "team": ""},
        "match_expressions": [
            {"key": "env", "operator": "In", "values": ["prod", "stage"]},
            {"key": "tier", "operator": "NotIn", "values": ["scratch"]},
            {"key": "example.com/keep", "operator": "Exists"},
            {"key": "skip", "operator": "DoesNotExist", "values": []}]}), V405),
    "v4.1 connection timeout and reconnection": (tutorial(connection_timeout_seconds=10, reconnection={
        "max_retries": 5, "base_delay_seconds": 1, "max_delay_seconds": 30, "retry_multiple": 2.5}), V412),
    "v4.1 azure token needs no password secret": (tutorial(postgresql=dict(
        pg(password_secret=None), azure_token={"enabled": True, "scope": "https://x/.default"})), V412),
    "v4.1 aws token with ssl": (tutorial(postgresql=dict(
        pg(ssl=True, ssl_mode="require"), aws_rds_token={"enabled": True, "region": "eu-west-1"})), V412),
    "v4.1 keys on a release candidate": (tutorial(connection_timeout_seconds=3), (4, 1, 0)),
    "retention only completed": (tutorial(retention_policy={"completed": 5}), V405),
    # Go's database/sql reads <= 0 as "none" / "unlimited" / "forever": Argo runs with them
    "negative pool values": (tutorial(connection_pool={"max_idle_conns": -1, "max_open_conns": -5,
                                                       "conn_max_lifetime": "-5m"}), V405),
    "optional on the secret selectors": (tutorial(postgresql=pg(
        username_secret={"name": SECRET, "key": "username", "optional": True},
        password_secret={"name": SECRET, "key": "password", "optional": False})), V405),
    "table name of 58 characters, $, column-name keyword": (tutorial(postgresql=pg(table_name="t" * 57 + "$")), V405),
    "table name a PostgreSQL column-name keyword": (tutorial(postgresql=pg(table_name="values")), V405),
    "names the migration would break, with skip_migration": (
        tutorial(skip_migration=True, cluster_name="it's", postgresql=pg(table_name="Argo Workflows")), V405),
    "cluster name and strings go-yaml would read as numbers": (tutorial(cluster_name="1e3", postgresql=pg(
        host="09", database="0o17")), V405),
    "mysql with a capitalised table name": ({"archive": True, "mysql": pg(table_name="ArgoWorkflows")}, V405),
}


@pytest.mark.parametrize("options, version", list(VALID.values()), ids=list(VALID))
def test_valid_options_render_parse_round_trip(options, version):
    desired = build(options, version)
    for layout in ("per-key", "config"):
        data = Plan({}, desired, "present", version).data
        if layout == "config":
            data = {"config": "persistence:\n" + _indent(data["persistence"]) +
                    ("retentionPolicy:\n" + _indent(data["retentionPolicy"]) if "retentionPolicy" in data else "")}
        current = Current(data, version)
        assert current.problems == {"persistence": [], "retentionPolicy": []}, layout
        assert model.canonical(model.PERSISTENCE, current.persistence) == \
            model.canonical(model.PERSISTENCE, desired.persistence)
        assert model.canonical(model.RETENTION, current.retention) == \
            model.canonical(model.RETENTION, desired.retention)
        again = build(argo_model.to_options(current.persistence, current.retention), version)
        assert model.canonical(model.PERSISTENCE, again.persistence) == \
            model.canonical(model.PERSISTENCE, desired.persistence)
        assert not Plan(data, again, "present", version).changed, layout


def _indent(text):
    return "".join("  " + line + "\n" for line in text.splitlines())


def test_tutorial_renders_argo_spelling_exactly():
    rendered = model.render(build(tutorial()).persistence)
    assert rendered == (
        "archive: true\narchiveTTL: 7d\nnodeStatusOffLoad: true\nconnectionPool:\n  maxIdleConns: 100\n"
        "  maxOpenConns: 0\n  connMaxLifetime: 0s\npostgresql:\n  host: postgres\n  port: 5432\n"
        "  database: postgres\n  tableName: argo_workflows\n  userNameSecret:\n    name: argo-postgres-config\n"
        "    key: username\n  passwordSecret:\n    name: argo-postgres-config\n    key: password\n")
    assert model.render(build(tutorial()).retention) == "completed: 10\nfailed: 3\nerrored: 3\n"


def test_rendering_is_stable_and_quotes_what_go_yaml_reads_as_booleans():
    options = tutorial(cluster_name="y", postgresql=pg(database="n", host="10"))
    first = Plan({}, build(options), "present").data
    assert first == Plan({}, build(options), "present").data
    assert "clusterName: 'y'\n" in first["persistence"]
    assert "database: 'n'\n" in first["persistence"] and "host: '10'\n" in first["persistence"]


def test_mysql_options_values_become_strings():
    desired = build(VALID["mysql with options"][0])
    assert desired.persistence["mysql"]["options"] == {"tls": "true", "timeout": "5"}


# ---------------------------------------------------------------- invalid input

INVALID = {
    "ttl 1h30m": (tutorial(archive_ttl="1h30m"), V405, "archive_ttl: '1h30m' is not a TTL Argo accepts"),
    "ttl 1.5d": (tutorial(archive_ttl="1.5d"), V405, "archive_ttl: '1.5d'"),
    "ttl 500ms": (tutorial(archive_ttl="500ms"), V405, "archive_ttl: '500ms'"),
    "ttl negative": (tutorial(archive_ttl="-1d"), V405, "archive_ttl: '-1d' is negative"),
    "ttl bare number": (tutorial(archive_ttl=10), V405, "archive_ttl: 10 is not a TTL string"),
    "ttl unit missing": (tutorial(archive_ttl="7"), V405, "archive_ttl: '7'"),
    "lifetime 1h30m": (tutorial(connection_pool={"conn_max_lifetime": "1h30m"}), V405,
                       "connection_pool.conn_max_lifetime: '1h30m'"),
    "no database": ({"archive": True}, V405, "exactly one of postgresql and mysql is required"),
    "both databases": (tutorial(mysql=pg()), V405, "Argo silently uses postgresql and ignores mysql"),
    "empty table name": (tutorial(postgresql=pg(table_name="")), V405,
                         "postgresql.table_name is required (Argo exits with \"TableName is empty\")"),
    "missing table name": (tutorial(postgresql=pg(table_name=None)), V405, "postgresql.table_name is required"),
    "table name of an archive table": (tutorial(postgresql=pg(table_name="argo_archived_workflows")), V405,
                                       "is the name of a table or index Argo's own migration creates"),
    "table name not an identifier": (tutorial(postgresql=pg(table_name="argo-workflows")), V405,
                                     "postgresql.table_name: 'argo-workflows' must be a plain lower-case SQL identifier"),
    "table name with capitals": (tutorial(postgresql=pg(table_name="Argo_Workflows")), V405,
                                 "PostgreSQL folds capitals"),
    "table name a reserved word": (tutorial(postgresql=pg(table_name="user")), V405,
                                   "postgresql.table_name: 'user' is a reserved word in PostgreSQL"),
    "table name of 59 characters": (tutorial(postgresql=pg(table_name="t" * 59)), V405,
                                    "is longer than 58 characters"),
    "mysql table name a MySQL reserved word": ({"mysql": dict(pg(table_name="key"))}, V405,
                                               "mysql.table_name: 'key' is a reserved word in MySQL"),
    "cluster name with a quote": (tutorial(cluster_name="it's"), V405,
                                  "cluster_name: \"it's\" contains a single quote"),
    "mysql cluster name with a backslash": ({"mysql": pg(), "cluster_name": "a\\b"}, V405, "contains a backslash"),
    "control character": (tutorial(postgresql=pg(host="a\x7fb")), V405,
                          "holds a control character Argo cannot re-encode"),
    "missing host": (tutorial(postgresql=pg(host=None)), V405, "postgresql.host is required"),
    "missing username secret": (tutorial(postgresql=pg(username_secret=None)), V405,
                                "postgresql.username_secret.name is required"),
    "password secret without key": (tutorial(postgresql=pg(password_secret={"name": SECRET})), V405,
                                    "postgresql.password_secret.key is required"),
    "ssl mode not a libpq mode": (tutorial(postgresql=pg(ssl=True, ssl_mode="strict")), V405,
                                  "postgresql.ssl_mode: 'strict' is not one of disable, allow, prefer"),
    "ssl mode without ssl": (tutorial(postgresql=pg(ssl_mode="verify-full")), V405,
                             "postgresql.ssl_mode is ignored unless postgresql.ssl is true"),
    "both token modes": (tutorial(postgresql=dict(pg(ssl=True), azure_token={"enabled": True},
                                                  aws_rds_token={"enabled": True})), V412,
                         "postgresql.azure_token and postgresql.aws_rds_token cannot both be enabled"),
    "aws token without ssl": (tutorial(postgresql=dict(pg(), aws_rds_token={"enabled": True})), V412,
                              "postgresql.aws_rds_token needs postgresql.ssl: true"),
    "v4.1 timeout for v4.0.5": (tutorial(connection_timeout_seconds=5), V405,
                                "connection_timeout_seconds needs Argo v4.1 or later; the controller is v4.0"),
    "v4.1 reconnection for v4.0.5": (tutorial(reconnection={"max_retries": 3}), V405,
                                     "reconnection needs Argo v4.1 or later"),
    "v4.1 azure token for v4.0.5": (tutorial(postgresql=dict(pg(), azure_token={"enabled": True})), V405,
                                    "postgresql.azure_token needs Argo v4.1 or later"),
    "azure token, version unknown": (tutorial(postgresql=dict(pg(), azure_token={"enabled": True})), None,
                                     "postgresql.azure_token needs Argo v4.1 or later and the controller version "
                                     "is unknown: set argo_version"),
    "negative retries": (tutorial(reconnection={"max_retries": -1}), V412,
                         "reconnection.max_retries: -1 is out of range"),
    "negative retry multiple": (tutorial(reconnection={"retry_multiple": -0.5}), V412,
                                "reconnection.retry_multiple: -0.5 is out of range"),
    "timeout beyond int32": (tutorial(connection_timeout_seconds=2 ** 31), V412,
                             "connection_timeout_seconds: 2147483648 is out of range"),
    "cluster name of 65 characters": (tutorial(cluster_name="c" * 65), V405,
                                      "cluster_name: '%s' is longer than 64 characters" % ("c" * 65)),
    "port beyond 65535": (tutorial(postgresql=pg(port=70000)), V405, "postgresql.port: 70000 is out of range"),
    "camelCase option": (tutorial(archiveTTL="7d"), V405, "unknown option 'archiveTTL'"),
    "unknown nested option": (tutorial(postgresql=pg(tablename="x")), V405,
                              "postgresql: unknown option 'tablename'"),
    "unknown secret option": (tutorial(postgresql=pg(password_secret={"name": "s", "key": "k", "namespace": "x"})),
                              V405, "postgresql.password_secret: unknown option 'namespace'"),
    "unknown retention option": (tutorial(retention_policy={"succeeded": 1}), V405,
                                 "retention_policy: unknown option 'succeeded'"),
    "lower-case operator": (tutorial(archive_label_selector={"match_expressions": [
        {"key": "env", "operator": "in", "values": ["a"]}]}), V405,
        "archive_label_selector.match_expressions[0].operator 'in' is not a valid label selector operator"),
    "In without values": (tutorial(archive_label_selector={"match_expressions": [
        {"key": "env", "operator": "In"}]}), V405, "operator In needs at least one value"),
    "Exists with values": (tutorial(archive_label_selector={"match_expressions": [
        {"key": "env", "operator": "Exists", "values": ["a"]}]}), V405, "operator Exists takes no values"),
    "label key starting with dash": (tutorial(archive_label_selector={"match_labels": {"-bad": "x"}}), V405,
                                     "archive_label_selector.match_labels['-bad']: the name part"),
    "label key with two slashes": (tutorial(archive_label_selector={"match_labels": {"a/b/c": "x"}}), V405,
                                   "at most one '/'"),
    "label key prefix upper case": (tutorial(archive_label_selector={"match_labels": {"Example.com/x": "y"}}),
                                    V405, "must be a DNS subdomain"),
    "label value of 64 characters": (tutorial(archive_label_selector={"match_labels": {"a": "v" * 64}}), V405,
                                     "at most 63 characters"),
    "label value with space": (tutorial(archive_label_selector={"match_expressions": [
        {"key": "a", "operator": "In", "values": ["two words"]}]}), V405, "values 'two words'"),
    "unknown selector option": (tutorial(archive_label_selector={"matchLabels": {"a": "b"}}), V405,
                                "archive_label_selector: unknown option 'matchLabels'"),
    "negative retention": (tutorial(retention_policy={"completed": -1, "failed": 1, "errored": 1}), V405,
                           "retention_policy.completed: -1 is out of range"),
    "nested mysql option": ({"mysql": dict(pg(), options={"tls": {"a": 1}})}, V405,
                            "mysql.options must map names to plain values"),
    "archive as a string": (tutorial(archive="yes"), V405, "archive: 'yes' is not a boolean"),
    "port as a string": (tutorial(postgresql=pg(port="5432")), V405, "postgresql.port: '5432' is not an integer"),
}


@pytest.mark.parametrize("options, version, message", list(INVALID.values()), ids=list(INVALID))
def test_invalid_options_name_the_option_and_rule(options, version, message):
    with pytest.raises(model.ConfigError) as err:
        build(options, version)
    assert any(message in problem for problem in err.value.problems), err.value.problems


def test_every_problem_is_reported_at_once():
    options = tutorial(archive_ttl="1h30m", cluster_name="c" * 65, postgresql=pg(table_name="", port=-1))
    with pytest.raises(model.ConfigError) as err:
        build(options)
    text = str(err.value)
    for option in ("archive_ttl", "cluster_name", "postgresql.table_name", "postgresql.port"):
        assert option in text


# ---------------------------------------------------------------- versions

@pytest.mark.parametrize("text, version", [
    ("v4.0.5", (4, 0, 5)), ("4.1", (4, 1, 0)), ("v4.1.0-rc1", (4, 1, 0)), ("v3.7.2", (3, 7, 2)),
    ("latest", None), ("", None), (None, None), ("sha256:abc", None),
])
def test_parse_version(text, version):
    assert model.parse_version(text) == version


def test_unknown_version_writes_only_common_keys_and_says_so():
    desired = build(tutorial(connection_timeout_seconds=10, reconnection={"max_retries": 3}), None)
    assert "connectionTimeoutSeconds" not in desired.persistence
    assert "reconnectionConfig" not in desired.persistence
    text = " ".join(desired.findings)
    assert "connection_timeout_seconds was not written" in text and "reconnection was not written" in text
    assert "controller version is unknown" in text


def test_known_new_version_writes_v41_keys():
    desired = build(VALID["v4.1 connection timeout and reconnection"][0], V412)
    assert desired.persistence["connectionTimeoutSeconds"] == 10
    assert desired.persistence["reconnectionConfig"] == {
        "maxRetries": 5, "baseDelaySeconds": 1, "maxDelaySeconds": 30, "retryMultiple": 2.5}
    assert not any("unknown" in f for f in desired.findings)


def test_existing_v41_key_is_a_problem_for_an_older_controller():
    data = {"persistence": "connectionTimeoutSeconds: 5\n" + model.render(build(tutorial()).persistence)}
    assert Current(data, V412).problems["persistence"] == []
    problems = Current(data, V405).problems["persistence"]
    assert problems and "persistence.connectionTimeoutSeconds needs Argo v4.1" in problems[0]


# ---------------------------------------------------------------- reading existing ConfigMaps

EXISTING = {
    "unknown field": ("archive: true\nbogus: 1\n", "unknown field 'bogus'"),
    "unknown nested field": ("postgresql:\n  hostname: x\n", "persistence.postgresql: unknown field 'hostname'"),
    "port as a string": ("postgresql:\n  port: '5432'\n", "persistence.postgresql.port: '5432' is not an integer"),
    "ttl as a number": ("archiveTTL: 10\n", "persistence.archiveTTL: 10 is not a TTL string"),
    "ttl null": ("archiveTTL:\n", "persistence.archiveTTL: null is not a TTL"),
    "ttl with two units": ("archiveTTL: 1h30m\npostgresql: {}\n", "persistence.archiveTTL: '1h30m'"),
    "archive as a string": ("archive: 'true'\n", "persistence.archive: 'true' is not a boolean"),
    "duplicate key": ("archive: true\narchive: false\n", "key 'archive' already set in map"),
    "not YAML": ("archive: [\n", "data.persistence is not valid YAML"),
    "block is a list": ("- a\n", "persistence must be a mapping"),
    "no table name": ("postgresql:\n  host: h\n", "persistence.postgresql.tableName is required"),
}


@pytest.mark.parametrize("text, message", list(EXISTING.values()), ids=list(EXISTING))
def test_existing_block_problems_are_reported(text, message):
    problems = Current({"persistence": text}).problems["persistence"]
    assert any(message in p for p in problems), problems
    plan = Plan({"persistence": text, "other": "x"}, build(tutorial()), "present", V405)
    assert plan.changed and plan.data["other"] == "x"
    assert any(message in w and "this run replaces the block" in w for w in plan.warnings)


def test_go_matching_rules_when_reading():
    """encoding/json matches field names case-insensitively; sigs.k8s.io/yaml turns numbers into strings for
    string fields -- except below Go's embedded DBConfig (postgresql, mysql), where it loses the target type.
    Each case was checked against v4.0.5's own parser (yaml.UnmarshalStrict into config.Config)."""
    text = ("nodeStatusOffload: true\nclusterName: 123\narchiveLabelSelector: {matchLabels: {tier: 1}}\n"
            "postgresql:\n  host: h\n  TableName: t\n  usernameSecret: {name: s, key: u}\n"
            "  passwordSecret: {name: s, key: p, optional: false}\n")
    current = Current({"persistence": text})
    assert current.problems["persistence"] == []
    assert current.persistence["nodeStatusOffLoad"] is True
    assert current.persistence["clusterName"] == "123"
    assert current.persistence["archiveLabelSelector"]["matchLabels"] == {"tier": "1"}
    assert current.persistence["postgresql"]["userNameSecret"] == {"name": "s", "key": "u"}


@pytest.mark.parametrize("text, message", [
    ("postgresql:\n  host: 10\n  tableName: t\n", "persistence.postgresql.host: 10 is not a string"),
    ("mysql:\n  host: h\n  tableName: t\n  options: {timeout: 5}\n",
     "persistence.mysql.options['timeout']: 5 is not a string (no number-to-string conversion here"),
])
def test_no_string_coercion_below_the_embedded_db_config(text, message):
    assert any(message in p for p in Current({"persistence": text}).problems["persistence"])


def test_upper_case_data_key_is_read_and_rewritten_in_argo_spelling():
    data = {"Persistence": model.render(build(tutorial()).persistence), "executor": "image: x\n"}
    desired = build(tutorial(retention_policy=None))
    plan = Plan(data, desired, "present", V405)
    assert plan.current.persistence is not None
    assert plan.changed and "Persistence" not in plan.data and "persistence" in plan.data
    assert any("spells persistence as 'Persistence'" in w for w in plan.warnings)
    assert not Plan(plan.data, desired, "present", V405).changed


def test_ssl_mode_without_ssl_in_existing_config_is_a_finding_not_a_problem():
    text = model.render(build(tutorial()).persistence).replace("  host:", "  sslMode: verify-full\n  host:")
    current = Current({"persistence": text})
    assert current.problems["persistence"] == []
    assert any("persistence.postgresql.sslMode is ignored unless persistence.postgresql.ssl" in f
               for f in current.findings)


def test_config_key_next_to_other_keys_is_refused():
    with pytest.raises(LayoutError) as err:
        Current({"config": "persistence: {}\n", "executor": "x"})
    assert "Argo refuses" in str(err.value) and "executor" in str(err.value)


def test_config_layout_keeps_other_settings_byte_for_byte():
    head = "# controller settings\nexecutor:\n  image: quay.io/argoproj/argoexec:v4.0.5   # pinned\n\n"
    tail = "\nmetricsConfig: {enabled: true, path: /metrics}\ninstanceID: blue\n"
    old = "persistence:\n  archive: false\n  postgresql: {host: h, tableName: t}\n"
    plan = Plan({"config": head + old + tail}, build(tutorial()), "present", V405)
    text = plan.data["config"]
    assert text.startswith(head) and text.endswith(tail)
    assert "persistence:\n  archive: true\n" in text and "retentionPolicy:\n  completed: 10\n" in text
    assert plan.current.instance_id == "blue"
    assert not Plan(plan.data, build(tutorial()), "present", V405).changed


def test_config_layout_that_cannot_be_edited_in_place_is_reserialised_with_a_note():
    data = {"config": "{executor: {image: x}, persistence: {archive: false}}"}
    plan = Plan(data, build(tutorial()), "present", V405)
    reread = Current(plan.data)
    assert reread.layout.root["executor"] == {"image": "x"}
    assert any("re-serialised" in w for w in plan.warnings)


# ---------------------------------------------------------------- semantic comparison

FLOW_STYLE = ("{archive: true, archiveTTL: '7d', nodeStatusOffLoad: true, connectionPool: "
              "{maxIdleConns: 100}, postgresql: {host: \"postgres\", port: 5432, database: postgres, "
              "tableName: argo_workflows, userNameSecret: {key: username, name: argo-postgres-config}, "
              "passwordSecret: {name: argo-postgres-config, key: password}}}")


def _tutorial_text(**changes):
    text = model.render(build(tutorial()).persistence)
    for old, new in changes.items():
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("text", [
    FLOW_STYLE,
    _tutorial_text(**{"archiveTTL: 7d": "archiveTTL: 168h"}),
    _tutorial_text(**{"archive: true": "archive: true\nclusterName: default\nskipMigration: false"}),
    _tutorial_text(**{"  port: 5432": "  port: 5432\n  ssl: false\n  sslMode: require"}),
    "postgresql:" + _tutorial_text().split("\npostgresql:")[1] + _tutorial_text().split("\npostgresql:")[0] + "\n",
], ids=["flow style and quoting", "ttl 168h equals 7d", "explicit defaults", "sslMode ignored without ssl",
        "top-level order"])
def test_equivalent_text_is_no_change(text):
    desired = build(tutorial(retention_policy=None))
    assert not Plan({"persistence": text}, desired, "present", V405).changed


def test_selector_order_is_irrelevant():
    exprs = [{"key": "a", "operator": "In", "values": ["x", "y"]}, {"key": "b", "operator": "Exists"}]
    one = build(tutorial(archive_label_selector={"match_expressions": exprs}))
    two = build(tutorial(archive_label_selector={"match_expressions": [
        {"key": "b", "operator": "Exists"}, {"key": "a", "operator": "In", "values": ["y", "x"]}]}))
    data = Plan({}, one, "present", V405).data
    assert not Plan(data, two, "present", V405).changed


@pytest.mark.parametrize("change", [
    {"connection_pool": None},             # an absent pool keeps Go's defaults; {} sets zeros
    {"retention_policy": {}},              # present-and-empty deletes every finished workflow
    {"archive_ttl": "6d"},
    {"postgresql": pg(ssl=True)},
])
def test_meaningful_differences_are_changes(change):
    data = Plan({}, build(tutorial()), "present", V405).data
    assert Plan(data, build(tutorial(**change)), "present", V405).changed


# ---------------------------------------------------------------- findings and restart

def test_omitted_retention_phases_are_findings():
    desired = build(tutorial(retention_policy={"completed": 10}))
    text = " ".join(desired.findings)
    assert "retention_policy.failed is not set" in text and "retention_policy.errored is not set" in text
    assert "Failed workflows" in text and "completed" not in text.split("retention_policy.")[1][:10]
    assert "retention_policy.completed" not in text
    assert len([f for f in desired.findings if f.startswith("retention_policy.")]) == 2


def test_restart_needed_for_startup_settings_only():
    before = build(tutorial())
    data = Plan({}, before, "present", V405).data
    selector = build(tutorial(archive_label_selector={"match_labels": {"a": "b"}}))
    plan = Plan(data, selector, "present", V405)
    assert plan.changed and plan.restart == []
    plan = Plan(data, build(tutorial(archive_ttl="30d", cluster_name="blue")), "present", V405)
    assert plan.restart == ["persistence.archiveTTL", "persistence.clusterName"]
    # restart_settings in the result says it; a warning would nag callers that restart anyway
    assert not any("restart" in w for w in plan.warnings)
    plan = Plan(data, build(tutorial(retention_policy={"completed": 1, "failed": 1, "errored": 1})), "present", V405)
    assert plan.restart == ["retentionPolicy"]


def test_change_findings_for_archived_data():
    before = build(tutorial(archive_ttl="30d")).persistence
    after = build(tutorial(archive_ttl="7d", cluster_name="blue", archive=False)).persistence
    text = " ".join(model.change_findings(before, after, ("a", "b")))
    assert "clusterName changes from 'default' to 'blue'" in text
    assert "instanceID changes from 'a' to 'b'" in text
    assert "archiving is turned off" in text
    shortened = model.change_findings(before, build(tutorial(archive_ttl="7d")).persistence)
    assert shortened and "archiveTTL is shortened from 30d to 7d" in shortened[0]
    assert model.change_findings(before, build(tutorial(archive_ttl="60d")).persistence) == []
    enabled = model.change_findings(build(tutorial(archive_ttl="")).persistence, before)
    assert "now enables deletion at 30d" in enabled[0]


def test_secret_refs_are_the_keys_the_controller_reads():
    assert model.secret_refs(build(tutorial()).persistence) == [
        ("postgresql.username_secret", SECRET, "username"), ("postgresql.password_secret", SECRET, "password")]
    token = build(VALID["v4.1 azure token needs no password secret"][0], V412)
    assert model.secret_refs(token.persistence) == [("postgresql.username_secret", SECRET, "username")]
    mysql = build(VALID["mysql with options"][0])
    assert [ref[0] for ref in model.secret_refs(mysql.persistence)] == ["mysql.username_secret", "mysql.password_secret"]
    assert model.secret_refs(None) == []


def test_idle_connections_above_open_connections_is_a_finding():
    desired = build(tutorial(connection_pool={"max_idle_conns": 10, "max_open_conns": 5}))
    assert any("connection_pool.max_idle_conns is larger than connection_pool.max_open_conns" in f
               for f in desired.findings)


# ---------------------------------------------------------------- plans: state, other keys, diff

def test_absent_removes_only_managed_keys():
    others = {"executor": "image: x\n", "artifactRepository": "archiveLogs: true\n", "instanceID": "blue"}
    data = dict(others, persistence=model.render(build(tutorial()).persistence), retentionPolicy="completed: 1\n")
    plan = Plan(data, model.Desired(None, None, []), "absent", V405)
    assert plan.changed and plan.data == others
    assert any("archiving is turned off" in w for w in plan.warnings)
    assert not Plan(plan.data, model.Desired(None, None, []), "absent", V405).changed


def test_retention_left_alone_when_not_given():
    data = {"persistence": model.render(build(tutorial()).persistence), "retentionPolicy": "completed: 99  # mine\n"}
    plan = Plan(data, build(tutorial(retention_policy=None)), "present", V405)
    assert not plan.changed and plan.data == data
    plan = Plan(data, build(tutorial(retention_policy=None, archive_ttl="1d")), "present", V405)
    assert plan.data["retentionPolicy"] == "completed: 99  # mine\n"


def test_diff_shows_managed_blocks_only():
    data = {"executor": "image: x\n"}
    plan = Plan(data, build(tutorial()), "present", V405)
    assert plan.diff["before"] == ""
    assert plan.diff["after"].startswith("persistence:\n  archive: true\n")
    assert "executor" not in plan.diff["after"] and "retentionPolicy:\n  completed: 10" in plan.diff["after"]


def test_argument_spec_mirrors_the_table():
    spec = model.argument_spec()
    assert spec["postgresql"]["options"]["table_name"] == {"type": "str", "default": "argo_workflows"}
    assert spec["postgresql"]["options"]["password_secret"]["no_log"] is False
    assert "options" in spec["mysql"]["options"] and "ssl" not in spec["mysql"]["options"]
    assert spec["postgresql"]["options"]["ssl_mode"]["choices"] == list(model.SSL_MODES)
    assert set(spec) == set(model.PERSISTENCE_OPTIONS) | {"retention_policy"}


def test_unknown_field_next_to_the_desired_values_still_forces_a_rewrite():
    """Dropping the unknown field changes nothing semantically, yet Argo would exit on it."""
    desired = build(tutorial(retention_policy=None))
    text = model.render(desired.persistence) + "archiveTtl2: 7d\n"
    plan = Plan({"persistence": text}, desired, "present", V405)
    assert plan.changed and plan.data["persistence"] == model.render(desired.persistence)
    assert plan.restart == []
