"""The persistence_config model against Argo's own ConfigMap parsing, on generated configurations.

The oracle is Argo v4.0.5's config package run as the workflow-controller runs it
(tests/controlplane/argoconfig): config.Controller.Get on the ConfigMap, then updateConfig's checks.
Hypothesis generates valid and near-valid input -- every option, odd strings, numbers as strings, names at
and past the limits, selectors, foreign keys, both layouts -- and every property says: the oracle rejects
exactly when the model says Argo rejects (a problem of kind ARGO_REJECTS), and where both accept, Argo
reads exactly the values the model says it wrote (or read). A disagreement fails the test with the case.

Problems of the other kinds (FAILS_LATER: database, Secrets, migration SQL; REFUSED: deliberate policy)
are invisible to the parser by design: there the oracle must *accept*, and the classes are exercised
against real PostgreSQL and the real controller in test_persistence_oracle.py.

Examples per property: ARGOOPS_HYPOTHESIS_EXAMPLES (default below); the run is deterministic unless
ARGOOPS_HYPOTHESIS_RANDOM=1 (then each run explores new cases).
"""
from __future__ import annotations

import copy
import os
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from persistence_support import argo_config_oracle  # noqa: F401  pylint: disable=unused-import
from ansible_collections.argoops.workflows.plugins.module_utils import argo_config as model
from ansible_collections.argoops.workflows.tests.support import argo_model
from ansible_collections.argoops.workflows.plugins.module_utils import argo_sql_names, label_selector
from ansible_collections.argoops.workflows.plugins.module_utils.argo_configmap import Current, Plan
from ansible_collections.argoops.workflows.plugins.module_utils.argo_document import TOP_LEVEL
from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import LayoutError, dump

V405 = (4, 0, 5)
# Hypothesis keeps caches even without an example database: under the git-ignored .build/, not the checkout
set_hypothesis_home_dir(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                     ".build", "hypothesis"))
EXAMPLES = int(os.environ.get("ARGOOPS_HYPOTHESIS_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                    derandomize=os.environ.get("ARGOOPS_HYPOTHESIS_RANDOM") != "1",
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
STATS = {}


@pytest.fixture(scope="module", autouse=True)
def _report():
    started = time.monotonic()
    yield
    total = sum(s["cases"] for s in STATS.values())
    sys.stderr.write("\n[model-vs-argo] %d generated cases in %.1fs; %s\n" % (
        total, time.monotonic() - started, "; ".join(
            "%s: %d cases, model rejects %d (Argo-visible %d, cannot tell %d)" % (
                name, s["cases"], s["rejected"], s["argo"], s["unknown"])
            for name, s in STATS.items())))


def count(name, problems):
    stats = STATS.setdefault(name, {"cases": 0, "rejected": 0, "argo": 0, "unknown": 0})
    stats["cases"] += 1
    stats["rejected"] += bool(problems)
    verdict = argo_model.argo_rejects(problems)
    stats["argo"] += verdict is True
    stats["unknown"] += verdict is None


# ---------------------------------------------------------------- strategies

YAML_TOKENS = [
    "y", "Y", "n", "N", "yes", "No", "on", "OFF", "true", "False", "~", "null", "NULL", "", "1e3", "5e-1", "1E+2",
    "09", "0089", "0o17", "0O7", "0x1F", "0b101", "-0b11", "1_000", "1__0.5", "+5", "-0", "1.", ".5", "..5", ".inf",
    "-.Inf", ".nan", "1e400", "99999999999999999999", "18446744073709551615", "2001-12-14", "2001-12-14 21:59:43",
    "12:30", "<<", "*a", "&a", "!x", "!!str", "- a", "-a", "? x", "a: b", "a:b", "a #b", "#c", "'q'", '"d"',
    "a'b", "back\\slash", "a\nb", "a\n\nb", " lead", "trail ", " ", "\t", "a\tb", "%x", "@x", "`x", "{a}", "[a]",
    "a,b", "=", "|", ">", "-", "---", "...", "\u00e9", "\u2028", "\x85", "\u017f", "\u212a", "\ufeff", "x" * 70,
    "0x", "0o", "0b", "-0x1F", "+0b1", "1e", "e3", "1.5.5", "1,000", "1 000", "0.", "-.5", "+.5", "00", "-00", "0_7",
    "07", "08.5", "1:2:3", "12e03", "1E3", ".1E3", "=a", "~a", "\x7f", "\x80", "\x9f", "\ufffe", "\x1b",
]
# Raw YAML a person might type as a value: escapes, tags, anchors, flow collections, comments.
RAW_SCALARS = ['"\\x7F"', '"\\u0085"', '"\\N"', '"\\t"', "!!binary aGVsbG8=", "&a x", "'it''s'", "x # note",
               "[1, 2]", "{a: 1}", "!!str", "!custom v", "! x", "\"\\_\"", "'multi\n  line'", "!!timestamp 2001-01-01",
               "!!bool yes", "!!null ''", "!!int 0x1F", "!!float 1", "*a", "1e3 # c", "'09'", '"1e3"']
odd_text = st.one_of(
    st.sampled_from(YAML_TOKENS),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=10),
    st.integers(-10 ** 20, 10 ** 20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text("0123456789eE+-._xob", min_size=1, max_size=6),
)
label_text = st.one_of(st.sampled_from(["a", "tier", "app.kubernetes.io/name", "example.com/x", "x" * 63, "x" * 64,
                                        "-bad", "a/b/c", "Example.com/x", "/a", "a/", "09", "1e3", "y", "abc\n"]),
                       odd_text)
ttl_text = st.one_of(st.sampled_from(["", "0", "+0", "-0", "0s", "7d", "168h", "30m", "90s", "007d", "+1h", "-1d",
                                      "-5m", "1h30m", "1.5d", "500ms", "7", "d", "7D", "1w", "106751d", "106752d",
                                      "-106752d", "9223372036854775808s", "1e3s", " 7d"]),
                     st.builds(lambda n, u: "%d%s" % (n, u), st.integers(-10 ** 6, 10 ** 6), st.sampled_from("dhms")),
                     odd_text)
TABLE_NAMES = ["argo_workflows", "Argo_Workflows", "user", "values", "left", "between", "a$b", "$a", "1abc", "_x",
               "idx_name", "schema_history", "argo-workflows", "argo_archived_workflows_i1", "key", "t" * 58, "t" * 59,
               "t" * 62, "t" * 63, "", "\u00e9"]
table_text = st.one_of(st.sampled_from(TABLE_NAMES),
                       st.sampled_from(sorted(argo_sql_names.POSTGRESQL_RESERVED | argo_sql_names.MYSQL_RESERVED)),
                       st.from_regex(r"[a-z_][a-z0-9_$]{0,62}", fullmatch=True), odd_text)
cluster_text = st.one_of(st.sampled_from(["default", "prod-eu", "it's", "back\\slash", "c" * 64, "c" * 65,
                                          "\u00e9" * 64, "1e3", "09", "y", ""]), odd_text)
int64 = st.one_of(st.integers(-2 ** 63, 2 ** 63 - 1), st.sampled_from([0, -1, 1, 65535, 65536, 2 ** 63 - 1, -2 ** 63]))


def optional(strategy):
    return st.one_of(st.none(), strategy)


def mostly(usual, strategy, odds=4):
    """``usual`` ``odds`` times out of ``odds + 1``, else something from ``strategy``."""
    return st.one_of(*([st.just(usual)] * odds + [strategy]))


class Odd:
    """Which slots of one generated case get an odd value: a few at most, often none, so that generated
    cases are mostly sound configurations with one or two near misses (Hypothesis shrinks towards none)."""

    def __init__(self, draw, slots, most=3):
        self.draw = draw
        self.slots = set(draw(st.lists(st.sampled_from(sorted(slots)), max_size=most, unique=True)))

    def __call__(self, slot, usual, strategy):
        return self.draw(strategy) if slot in self.slots else usual

    def strategy(self, slot, usual, strategy):
        return strategy if slot in self.slots else usual

    def present(self, slot):
        """An optional part: present unless drawn otherwise (drawn, so Hypothesis varies it)."""
        return self.draw(st.booleans())


good_label = st.from_regex(r"([a-z0-9]([-a-z0-9.]{0,8}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?",
                           fullmatch=True)
OPTION_SLOTS = ("archive_ttl", "cluster_name", "pool", "lifetime", "host", "port", "database", "table_name",
                "username_secret", "password_secret", "secret_optional", "ssl_mode", "options", "label_key",
                "label_value", "expression", "retention", "mysql", "both", "v41")


@st.composite
def options_strategy(draw):
    odd = Odd(draw, OPTION_SLOTS)
    options = {"archive": draw(st.booleans())}
    if odd.present("archive_ttl"):
        options["archive_ttl"] = odd("archive_ttl", draw(st.sampled_from(["7d", "168h", "30m", "", "0"])), ttl_text)
    if odd.present("cluster_name"):
        options["cluster_name"] = odd("cluster_name", draw(st.sampled_from(["default", "prod-eu", "c" * 64])),
                                      cluster_text)
    for flag in ("skip_migration", "node_status_offload"):
        if odd.present(flag):
            options[flag] = draw(st.booleans())
    if odd.present("pool"):
        options["connection_pool"] = {
            "max_idle_conns": odd("pool", draw(st.integers(-5, 200)), int64),
            "max_open_conns": odd("pool", draw(st.integers(-5, 200)), int64),
            "conn_max_lifetime": odd("lifetime", draw(st.sampled_from(["0s", "1h", "-5m", ""])), ttl_text)}
    if odd.present("selector"):
        labels = draw(st.dictionaries(odd.strategy("label_key", good_label, label_text),
                                      odd.strategy("label_value", good_label, st.one_of(label_text, st.integers())),
                                      max_size=2))
        exprs = []
        for unused in range(draw(st.integers(0, 2))):  # pylint: disable=unused-variable
            operator = draw(st.sampled_from(label_selector.OPERATORS))
            values = draw(st.lists(odd.strategy("label_value", good_label, label_text), max_size=2,
                                   min_size=int(operator in ("In", "NotIn"))))
            exprs.append({"key": odd("label_key", draw(good_label), label_text), "operator": operator,
                          "values": odd("expression", values if operator in ("In", "NotIn") else [],
                                        st.lists(good_label, max_size=2))})
        options["archive_label_selector"] = {"match_labels": labels, "match_expressions": exprs}
    db = {"host": odd("host", "postgres", optional(odd_text)),
          "table_name": odd("table_name", "argo_workflows", table_text),
          "username_secret": odd("username_secret", {"name": "s", "key": "u"}, optional(secret_ref)),
          "password_secret": odd("password_secret", {"name": "s", "key": "p"}, optional(secret_ref))}
    if odd.present("port"):
        db["port"] = odd("port", draw(st.sampled_from([5432, 0, 65535])), int64)
    if odd.present("database"):
        db["database"] = odd("database", "argo", odd_text)
    if odd.present("secret_optional"):
        db["username_secret"] = dict(db["username_secret"] or {}, optional=draw(st.booleans()))
    mysql = "mysql" in odd.slots
    if mysql:
        db["options"] = odd("options", {"tls": "true"}, st.dictionaries(
            odd_text, st.one_of(odd_text, st.integers(), st.booleans()), max_size=3))
    elif odd.present("ssl"):
        db["ssl"] = draw(st.booleans())
        db["ssl_mode"] = odd("ssl_mode", draw(st.sampled_from(model.SSL_MODES)), st.none()) if db["ssl"] else None
    options["mysql" if mysql else "postgresql"] = db
    if "both" in odd.slots:
        other = dict((k, v) for k, v in db.items() if k not in ("ssl", "ssl_mode", "options"))
        options["postgresql" if mysql else "mysql"] = dict(other, table_name="argo_workflows")
    if odd.present("retention"):
        options["retention_policy"] = dict((phase, odd("retention", draw(st.integers(0, 20)), int64))
                                           for phase in ("completed", "failed", "errored") if draw(st.booleans()))
    if "v41" in odd.slots:
        options["connection_timeout_seconds"] = draw(st.integers(0, 100))  # Argo v4.1 only: v4.0.5 rejects it
    return options


secret_ref = st.fixed_dictionaries({"name": optional(odd_text), "key": optional(odd_text)},
                                   optional={"optional": optional(st.booleans())})


# ---------------------------------------------------------------- what Argo reports, from the model's blocks

def _wrap(number):
    return (number + 2 ** 63) % 2 ** 64 - 2 ** 63


def _ttl_nanos(text):
    """config/ttl.go's value, wrapped as Go's int64 arithmetic wraps it (the model refuses those TTLs)."""
    if text in ("", "0", "+0", "-0"):
        return 0
    number, unit = int(text[:-1]), text[-1]
    if unit == "d":
        return _wrap(_wrap(number * 24) * 3600 * 10 ** 9)
    return _wrap(number * {"h": 3600, "m": 60, "s": 1}[unit] * 10 ** 9)


def _secret(ref):
    ref = ref or {}
    return {"name": ref.get("name", ""), "key": ref.get("key", ""), "optional": ref.get("optional")}


def _database(db, mysql):
    if db is None:
        return None
    return {"host": db.get("host", ""), "port": db.get("port", 0), "database": db.get("database", ""),
            "tableName": db.get("tableName", ""), "userNameSecret": _secret(db.get("userNameSecret")),
            "passwordSecret": _secret(db.get("passwordSecret")), "ssl": db.get("ssl", False),
            "sslMode": db.get("sslMode", ""), "options": db.get("options") if mysql else None}


def _selector(sel):
    if sel is None:
        return None
    out = {}
    if sel.get("matchLabels"):
        out["matchLabels"] = sel["matchLabels"]
    if sel.get("matchExpressions"):
        out["matchExpressions"] = [dict({"key": e.get("key", ""), "operator": e.get("operator", "")},
                                        **({"values": e["values"]} if e.get("values") else {}))
                                   for e in sel["matchExpressions"]]
    return out


def argo_view(persistence):
    """The oracle's answer for ``persistence`` as the model holds it (argoconfig's view struct)."""
    if persistence is None:
        return None
    p = persistence
    pool = p.get("connectionPool")
    pg, my = p.get("postgresql"), p.get("mysql")
    return {
        "archive": p.get("archive", False), "archiveTTLNanos": _ttl_nanos(p.get("archiveTTL", "")),
        "archiveLabelSelector": _selector(p.get("archiveLabelSelector")),
        "clusterName": p.get("clusterName", ""), "effectiveClusterName": p.get("clusterName") or "default",
        "skipMigration": p.get("skipMigration", False), "nodeStatusOffLoad": p.get("nodeStatusOffLoad", False),
        "connectionPool": None if pool is None else {
            "maxIdleConns": pool.get("maxIdleConns", 0), "maxOpenConns": pool.get("maxOpenConns", 0),
            "connMaxLifetimeNanos": _ttl_nanos(pool.get("connMaxLifetime", ""))},
        "postgresql": _database(pg, False), "mysql": _database(my, True),
        "tableName": (pg if pg is not None else my or {}).get("tableName", ""),
        "database": "postgresql" if pg is not None else "mysql" if my is not None else "",
    }


def retention_view(retention):
    return None if retention is None else dict((k, v) for k, v in retention.items() if v)


def oracle_view(answer):
    persistence = answer["persistence"]
    if persistence is not None:
        persistence = dict(persistence)
        persistence.pop("selector")
    return persistence


def agree(answer, argo_rejects, persistence, retention, instance_id, case):
    """The oracle's verdict and values against the model's; the assertion message carries the case."""
    rejected = bool(answer["stage"])
    if argo_rejects is None:
        return  # the model says it cannot tell (and the module refuses such a ConfigMap by default)
    assert rejected == argo_rejects, (
        "DISAGREEMENT: Argo %s, the model says Argo %s\nArgo: %s %s\ncase: %r" % (
            "rejects" if rejected else "accepts", "rejects" if argo_rejects else "accepts",
            answer["stage"], answer["error"], case))
    if rejected:
        return
    assert oracle_view(answer) == argo_view(persistence), "DISAGREEMENT in values read\ncase: %r" % (case,)
    assert answer["retentionPolicy"] == retention_view(retention), "DISAGREEMENT in retention\ncase: %r" % (case,)
    assert answer["instanceID"] == (instance_id or ""), "DISAGREEMENT in instanceID\ncase: %r" % (case,)


# ---------------------------------------------------------------- 1. options -> written ConfigMap -> Argo

def _judge(options, version=V405):
    """The model's blocks and every problem, as the module judges them for a v4.0.5 controller."""
    desired, problems = model.judge_options(copy.deepcopy(options))
    return desired, problems + model.gate_version(desired.persistence, version, model.PERSISTENCE_OPTION_NAMES, [])


@SETTINGS
@given(options=options_strategy())
def test_what_the_model_writes_is_what_argo_reads(argo_config_oracle, options):
    desired, problems = _judge(options)
    count("options", problems)
    if problems:  # the module writes nothing; the same blocks written by hand show what Argo would do
        data = {"persistence": dump(desired.persistence)}
        if desired.retention is not None:
            data["retentionPolicy"] = dump(desired.retention)
    else:
        data = Plan({}, desired, "present", V405).data
    answer = argo_config_oracle.judge(data)
    agree(answer, argo_model.argo_rejects(problems), desired.persistence, desired.retention, None,
          {"options": options, "problems": problems, "data": data})


# ---------------------------------------------------------------- 2. an existing ConfigMap, read as Argo reads it

def _scalar_text(value):
    """A YAML scalar as a person might type it: plain when that parses, else quoted."""
    if isinstance(value, str) and value and "\n" not in value and value.strip() == value and \
            not any(ch in value for ch in ":#'\"{}[],&*!|>%@`\t") and value[0] not in "-?":
        return value
    return dump(value).rstrip("\n").removesuffix("\n...")


def _mapping_text(pairs, indent):
    return "".join("%s%s: %s\n" % (" " * indent, key, value) if not isinstance(value, list) else
                   "%s%s:\n%s" % (" " * indent, key, "".join(value)) for key, value in pairs)


plain_scalar = st.one_of(odd_text.map(_scalar_text), st.sampled_from(YAML_TOKENS).map(_scalar_text),
                         st.sampled_from(["'x'", '"09"', "''", "[]", "{}", "~", "!!str 5", "!!int 5", "!!float 1"]),
                         st.sampled_from(RAW_SCALARS))
# Plain scalars go-yaml reads as numbers: where Go expects a string, Argo uses its own spelling of the number.
numeric_text = st.one_of(
    st.sampled_from(["1e3", "5e-1", "09", "0089", "0o17", "0x1F", "1_000", "+5", "-0", "1.", ".5", "3.14159265358979",
                     "16777217", "1e400", "99999999999999999999", "18446744073709551615", "-9223372036854775809",
                     "123456789", "0.000012345", "1e21", "2.5e+38", "3.5e38", ".inf", "-.Inf", ".nan"]),
    st.floats(allow_nan=False).map(repr), st.integers().map(str))
bool_text = st.sampled_from(["true", "false", "yes", "no", "on", "off", "y", "n", "True", "FALSE", "'true'", "1", "~"])


SPELLINGS = st.sampled_from(["lower", "upper", "title", "typo"])


def spelled(odd, slot, key):
    """Argo's spelling, or (for an odd slot) another case -- which encoding/json accepts -- or a typo."""
    how = odd("spell:" + slot, None, SPELLINGS)
    return {None: key, "lower": key.lower(), "upper": key.upper(), "title": key[:1].upper() + key[1:],
            "typo": key + "x"}[how]


def _block(odd, prefix, fields, indent):
    """YAML lines for {key: (usual text, odd strategy)}, each present or not, values odd for odd slots."""
    lines = []
    for key, (usual, strategy) in fields.items():
        slot = prefix + key
        if slot in odd.slots or odd.present(slot):
            value = odd(slot, usual, strategy)
            lines.append("%s%s: %s\n" % (" " * indent, spelled(odd, slot, key), value))
    return "".join(lines)


TEXT_SLOTS = ["archive", "archiveTTL", "clusterName", "skipMigration", "nodeStatusOffLoad", "db.host", "db.port",
              "db.database", "db.tableName", "db.sslMode", "db.ssl", "secret.name", "secret.key", "secret.optional",
              "sel.label", "sel.value", "sel.operator", "pool.maxIdleConns", "pool.maxOpenConns",
              "pool.connMaxLifetime", "unknown", "duplicate", "database", "block", "retention"]
TEXT_SLOTS += ["spell:" + slot for slot in TEXT_SLOTS]


@st.composite
def persistence_text(draw, odd):
    """A hand-written persistence block: sound but for the odd slots -- scalars typed plainly (1e3, 09,
    yes ...), keys in another case, a wrong type, an unknown field, a duplicate."""
    text = _block(odd, "", {
        "archive": ("true", bool_text), "archiveTTL": ("7d", ttl_text.map(_scalar_text)),
        "clusterName": ("prod", st.one_of(numeric_text, plain_scalar)), "skipMigration": ("false", bool_text),
        "nodeStatusOffLoad": ("true", bool_text)}, 0)
    db = _block(odd, "db.", {
        "host": ("postgres", plain_scalar), "port": ("5432", plain_scalar), "database": ("argo", plain_scalar),
        "ssl": ("true", bool_text), "sslMode": ("require", plain_scalar)}, 2)
    table = odd("db.tableName", "argo_workflows", table_text.map(_scalar_text))
    db += "  %s: %s\n" % (spelled(odd, "db.tableName", "tableName"), table)
    for key, secret_key in (("userNameSecret", "u"), ("passwordSecret", "p")):
        fields = {"name": ("s", plain_scalar), "key": (secret_key, plain_scalar), "optional": ("false", bool_text)}
        db += "  %s:\n" % key + _block(odd, "secret.", fields, 4)
    text += "%s:\n%s" % (odd("database", "postgresql", st.sampled_from(["PostgreSQL", "mysql", "postgres"])), db)
    if odd.present("selector"):
        text += "archiveLabelSelector:\n  matchLabels:\n    %s: %s\n" % (
            odd("sel.label", "tier", label_text.map(_scalar_text)),
            odd("sel.value", "gold", st.one_of(numeric_text, plain_scalar)))
        operator = odd("sel.operator", draw(st.sampled_from(label_selector.OPERATORS)), st.sampled_from(["in", "Gt"]))
        text += "  matchExpressions:\n  - key: env\n    operator: %s\n" % operator + (
            "    values: [%s]\n" % odd("sel.value", "prod", plain_scalar) if operator not in ("Exists", "DoesNotExist")
            else "")
    if odd.present("pool"):
        text += "connectionPool:\n" + _block(odd, "pool.", {
            "maxIdleConns": ("10", plain_scalar), "maxOpenConns": ("0", plain_scalar),
            "connMaxLifetime": ("0s", ttl_text.map(_scalar_text))}, 2)
    if "unknown" in odd.slots:
        text += "bogusField: 1\n"
    if "duplicate" in odd.slots:  # the same field in another case: Go decodes both, in sorted order
        text += "Archive: %s\nClusterName: %s\n" % (draw(bool_text), draw(plain_scalar))
    return text


FOREIGN_VALID = {"executor": "imagePullPolicy: IfNotPresent\n", "namespaceParallelism": "10",
                 "instanceID": "blue", "initialDelay": "30s", "links": "- name: x\n  url: http://x\n",
                 "metricsConfig": "enabled: true\npath: /metrics\n", "images": "{}",
                 "podGCDeleteDelayDuration": "5s", "artifactRepository": "archiveLogs: true\n"}
FOREIGN_ODD = {"executor": "imagePullPolicy: IfNotPresent", "namespaceParallelism": "1e3", "parallelism": "1.5",
               "instanceID": "09", "initialDelay": "1e3s", "links": "x", "metricsConfig": "- a\n",
               "bogus": "1", "Executor": "{image: x}", "navColor": "[a]", "podGCGracePeriodSeconds": "'5'",
               "namespace": ".nan", "resourceRateLimit": "{limit: .nan}\n", "images": "1",
               "podGCDeleteDelayDuration": "", "sso": "~", "initialdelay": "1m", "workflowDefaults": ":\n",
               "columns": "[\n", "parallelism ": "1", "1": "x", "instanceid": "y"}


@st.composite
def configmap_data(draw):
    odd = Odd(draw, TEXT_SLOTS + ["foreign", "layout", "no persistence", "Persistence", "instanceID", "raw"])
    data = {}
    if "no persistence" not in odd.slots:
        data["Persistence" if "Persistence" in odd.slots else "persistence"] = draw(persistence_text(odd))
    if odd.present("retentionPolicy"):
        data[spelled(odd, "retention", "retentionPolicy")] = _block(odd, "retention.", dict(
            (key, ("3", plain_scalar)) for key in ("completed", "failed", "errored")), 0) or "{}"
    for key in draw(st.lists(st.sampled_from(sorted(FOREIGN_VALID)), max_size=3, unique=True)):
        data[key] = FOREIGN_VALID[key]
    if "foreign" in odd.slots:
        key = draw(st.sampled_from(sorted(FOREIGN_ODD)))
        data[key] = FOREIGN_ODD[key]
    if "instanceID" in odd.slots:
        data["instanceID"] = draw(st.one_of(numeric_text, plain_scalar))
    if "raw" in odd.slots:  # any text as a foreign top-level value: Argo's gluing and go-yaml's parser decide
        # (scalar settings: the inside of an object setting like executor is beyond the model, by design)
        data[draw(st.sampled_from(["navColor", "namespaceParallelism", "initialDelay", "namespace"]))] = draw(st.one_of(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
            st.lists(st.sampled_from(YAML_TOKENS + RAW_SCALARS + ["  ", "\t", "\n", "# c", "a:", "- b", ": c"]),
                     max_size=6).map("".join)))
    if "layout" in odd.slots:  # the single `config` key layout
        data = {"config": "".join("%s:\n%s" % (k, "".join("  " + line + "\n" for line in v.splitlines()))
                                  if "\n" in v else "%s: %s\n" % (k, v) for k, v in sorted(data.items()))}
    return data


def model_reading(data):
    """(does the model say Argo rejects, Current or None): LayoutError is a rejection it names."""
    try:
        current = Current(data, V405)
    except LayoutError:
        return True, None
    problems = current.problems[model.PERSISTENCE_KEY] + current.problems[model.RETENTION_KEY] + [
        model.Problem(str(p), p.kind) for p in current.document.other_problems(model.MANAGED_KEYS)]
    return argo_model.argo_rejects(problems), current


@SETTINGS
@given(data=configmap_data())
def test_reading_an_existing_configmap_agrees_with_argo(argo_config_oracle, data):
    rejects, current = model_reading(data)
    count("existing ConfigMaps", [model.Problem("x", {True: "argo", None: "unknown"}[rejects])] if rejects is not False
          else [])
    answer = argo_config_oracle.judge(data)
    agree(answer, rejects, current and current.persistence, current and current.retention,
          current and current.instance_id, {"data": data})


# ---------------------------------------------------------------- 3. a run on an existing ConfigMap

@SETTINGS
@given(data=configmap_data(), options=options_strategy())
def test_a_run_on_an_existing_configmap_leaves_one_argo_reads(argo_config_oracle, data, options):
    desired, problems = _judge(options)
    try:
        plan = Plan(data, desired, "present", V405) if not problems else None
    except LayoutError:
        plan = None
    count("runs on existing ConfigMaps", problems)
    if plan is None:
        return  # refused before anything is written (1. and 2. show those verdicts are Argo's)
    foreign = [model.Problem(str(p), p.kind) for p in plan.other_problems]
    answer = argo_config_oracle.judge(plan.data)
    agree(answer, argo_model.argo_rejects(foreign), desired.persistence, plan.retention,
          plan.current.instance_id, {"data": data, "options": options, "written": plan.data})
    for key, value in data.items():  # settings we do not own keep their bytes (per-key layout)
        if key != "config" and key.lower() not in ("persistence", "retentionpolicy"):
            assert plan.data[key] == value
    assert not Plan(plan.data, desired, "present", V405).changed, "a second run would change it again"


def test_top_level_table_is_argos(argo_config_oracle):
    """Every name in the model's table of Argo's settings is one Argo knows, and a near miss is not."""
    for name in TOP_LEVEL:
        answer = argo_config_oracle.judge({name: "~"})
        assert "unknown field" not in answer["error"], (name, answer)
    assert "unknown field" in argo_config_oracle.judge({"persistance": "~"})["error"]
