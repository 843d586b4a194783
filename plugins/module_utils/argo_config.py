# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo's ``persistence`` and ``retentionPolicy`` settings: snake_case options <-> the YAML Argo reads.

One table (``PERSISTENCE``, ``RETENTION``) spells every Argo key once, next to its Ansible option, its
type, the first Argo version that understands it and whether the controller only reads it at start-up.
Everything else walks that table: option validation, reading Argo YAML back (argo_decode.py, Go's rules),
rendering, normalised comparison, findings, the Ansible argument spec (argo_configmap.py applies it to a
ConfigMap). Rules come from argo-workflows v4.0.5 and v4.1.2 (config/config.go, config/ttl.go,
util/sqldb/sqldb.go, persist/sqldb/migrate.go, workflow/controller/config.go); SQL names are in
argo_sql_names.py, label selectors in label_selector.py. Plain Python: no Ansible or network imports.

Every problem says what it means for the controller (``Problem.kind``): ARGO_REJECTS -- the controller's
own config parsing refuses it and exits (the Go oracle in tests/integration reproduces each); FAILS_LATER
-- parsed, but the controller exits at start-up (database, Secrets, migration SQL) or crashes later;
REFUSED -- Argo runs with it, and this module refuses it deliberately (documented in the options);
UNKNOWN -- in a setting this module does not manage, something it cannot judge (argo_document.py).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError
from ansible_collections.argoops.workflows.plugins.module_utils.argo_ttl import TTLError, format_ttl, parse_ttl
from ansible_collections.argoops.workflows.plugins.module_utils import argo_sql_names, argo_yaml, label_selector
from ansible_collections.argoops.workflows.plugins.module_utils.argo_decode import ABSENT, Decoder
from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import go_string
from ansible_collections.argoops.workflows.plugins.module_utils.libpq import SSL_MODES

V4_1 = (4, 1)
INT32_MAX = 2 ** 31 - 1
ARGO_REJECTS, FAILS_LATER, REFUSED, UNKNOWN = "argo", "later", "policy", "unknown"


class Problem(str):
    """A problem message, with what it means for the controller (``kind``)."""

    def __new__(cls, message, kind=ARGO_REJECTS):
        self = str.__new__(cls, message)
        self.kind = kind
        return self


class ConfigError(ArgoopsError, ValueError):
    """Input Argo would reject (or that would make the controller exit); ``problems`` lists each rule."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(ConfigError, self).__init__("; ".join(self.problems))


class Field:
    """One Argo key: its Ansible option, kind and rules. ``option=None``: Argo-only (read, never written).

    ``low``/``high`` bound ints and floats, and the length of strings; ``range_kind`` says why.
    """

    def __init__(self, key, option, kind, children=(), since=None, choices=None, default=None, low=None,
                 high=None, range_kind=FAILS_LATER, required=False, secret_like=False, restart=False,
                 embedded=False, pointer=True, item=None, why=None):
        self.key, self.option, self.kind, self.children = key, option, kind, tuple(children)
        self.since, self.choices, self.default = since, choices, default
        self.low, self.high, self.range_kind, self.required = low, high, range_kind, required
        self.secret_like, self.restart = secret_like, restart
        # A member of Go's embedded DBConfig: sigs.k8s.io/yaml then loses track of the target type, so
        # nothing below it gets the number/boolean -> string coercion (``host: 10`` is fatal).
        self.embedded = embedded
        self.pointer, self.item, self.why = pointer, item, why


def _secret_ref(key, option):
    # SecretKeySelector: Argo reads the Secret whatever `optional` says; it is accepted and written as given.
    return Field(key, option, "object", secret_like=True, pointer=False, children=(
        Field("name", "name", "str", required=True),
        Field("key", "key", "str", required=True, secret_like=True),
        Field("optional", "optional", "bool")))


_DATABASE = (
    Field("host", "host", "str", required=True),
    Field("port", "port", "int", low=0, high=65535, why="the controller cannot connect and exits"),
    Field("database", "database", "str"),
    Field("tableName", "table_name", "str", default="argo_workflows", required=True),
    _secret_ref("userNameSecret", "username_secret"),
    _secret_ref("passwordSecret", "password_secret"),
)

# archiveLabelSelector is a metav1.LabelSelector; its rules are label_selector.check.
SELECTOR = (
    Field("matchLabels", "match_labels", "map"),
    Field("matchExpressions", "match_expressions", "list", item=Field(None, None, "object", pointer=False, children=(
        Field("key", "key", "str"), Field("operator", "operator", "str"),
        Field("values", "values", "list", item=Field(None, None, "str")))))
)

PERSISTENCE = (
    Field("archive", "archive", "bool", restart=True),
    Field("archiveTTL", "archive_ttl", "ttl", restart=True),
    Field("archiveLabelSelector", "archive_label_selector", "selector", children=SELECTOR),
    Field("clusterName", "cluster_name", "str", restart=True),
    Field("skipMigration", "skip_migration", "bool", restart=True),
    Field("nodeStatusOffLoad", "node_status_offload", "bool", restart=True),
    Field("connectionPool", "connection_pool", "object", restart=True, embedded=True, children=(
        # Go's database/sql reads <= 0 as "no idle connections" / "unlimited" / "reused forever".
        Field("maxIdleConns", "max_idle_conns", "int"),
        Field("maxOpenConns", "max_open_conns", "int"),
        Field("connMaxLifetime", "conn_max_lifetime", "ttl"))),
    Field("connectionTimeoutSeconds", "connection_timeout_seconds", "int", low=0, high=INT32_MAX,
          since=V4_1, restart=True, range_kind=REFUSED),
    Field("reconnectionConfig", "reconnection", "object", since=V4_1, restart=True, embedded=True, children=(
        Field("maxRetries", "max_retries", "int", low=0, range_kind=REFUSED),
        Field("baseDelaySeconds", "base_delay_seconds", "int", low=0, range_kind=REFUSED),
        Field("maxDelaySeconds", "max_delay_seconds", "int", low=0, range_kind=REFUSED),
        Field("retryMultiple", "retry_multiple", "float", low=0, range_kind=REFUSED))),
    Field("postgresql", "postgresql", "object", restart=True, embedded=True, children=_DATABASE + (
        Field("ssl", "ssl", "bool"),
        Field("sslMode", "ssl_mode", "str", choices=SSL_MODES),
        Field("azureToken", "azure_token", "object", since=V4_1, secret_like=True, children=(
            Field("enabled", "enabled", "bool"), Field("scope", "scope", "str"))),
        Field("awsRDSToken", "aws_rds_token", "object", since=V4_1, secret_like=True, children=(
            Field("enabled", "enabled", "bool"), Field("region", "region", "str"))))),
    Field("mysql", "mysql", "object", restart=True, embedded=True, children=_DATABASE + (
        Field("options", "options", "map"),)),
)

# retentionPolicy is read once, when the controller builds its GC controller at start. A negative count
# is parsed, then Argo's GC pops an empty heap and panics when the first workflow finishes.
RETENTION = tuple(Field(key, key, "int", low=0, why="Argo's workflow GC panics once a workflow finishes")
                  for key in ("completed", "failed", "errored"))
PHASES = {"completed": "Succeeded", "failed": "Failed", "errored": "Error"}
DATABASES = ("postgresql", "mysql")
PERSISTENCE_KEY, RETENTION_KEY = "persistence", "retentionPolicy"
MANAGED_KEYS = (PERSISTENCE_KEY, RETENTION_KEY)
PERSISTENCE_OPTIONS = tuple(f.option for f in PERSISTENCE)
RETENTION_OPTION = "retention_policy"


# ---------------------------------------------------------------- versions

def parse_version(text):
    """(major, minor, patch) from 'v4.0.5', '4.1', 'v4.1.0-rc1'; None when it is not a version."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$", str(text or "").strip())
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def _version_text(version):
    return "v%d.%d" % tuple(version[:2])


# ---------------------------------------------------------------- naming

class _Names:
    """How a rule names a setting: by Ansible option (input) or by Argo key (an existing ConfigMap)."""

    def __init__(self, options, root, option_root=None):
        self.options, self.root, self.option_root = options, root, option_root

    def of(self, path):
        text = ".".join([self.option_root] if self.option_root else [] if self.options else [self.root])
        for step in path:
            if isinstance(step, int):
                text += "[%d]" % step
            elif isinstance(step, str):
                text += "[%r]" % step
            else:
                text += ("." if text else "") + ((step.option or step.key) if self.options else step.key)
        return text


PERSISTENCE_OPTION_NAMES = _Names(True, PERSISTENCE_KEY)
RETENTION_OPTION_NAMES = _Names(True, RETENTION_KEY, RETENTION_OPTION)
PERSISTENCE_KEY_NAMES = _Names(False, PERSISTENCE_KEY)
RETENTION_KEY_NAMES = _Names(False, RETENTION_KEY)


# ---------------------------------------------------------------- reading values

def read_options(fields, data, path, names, problems):
    """Typed Argo mapping from snake_case options (already typed by Ansible's argument spec)."""
    if not isinstance(data, dict):
        problems.append(Problem("%s must be a mapping, not %r" % (names.of(path) or names.root, data)))
        return {}
    result = {}
    by_option = dict((f.option, f) for f in fields if f.option)
    for key in data:
        if key not in by_option:
            problems.append(Problem("%s: unknown option %r; known: %s" % (
                names.of(path) or names.root, key, ", ".join(sorted(by_option)))))
    for field in fields:
        if field.option not in data or data[field.option] is None:
            continue
        value, here = data[field.option], path + [field]
        if field.kind == "object":
            value = read_options(field.children, value, here, names, problems)
        elif field.kind == "selector":
            value = label_selector.from_options(value, names.of(here), problems)
        elif field.kind == "map":
            if not isinstance(value, dict) or any(isinstance(v, (dict, list)) or v is None for v in value.values()):
                problems.append(Problem("%s must map names to plain values" % names.of(here)))
                continue
            value = dict((str(k), go_string(v)) for k, v in value.items())
        elif not _typed_ok(field.kind, value):
            problems.append(Problem("%s: %r is not %s" % (names.of(here), value, {
                "bool": "a boolean", "int": "an integer", "float": "a number", "str": "a string",
                "ttl": "a TTL string"}[field.kind])))
            continue
        result[field.key] = value
    return result


def _typed_ok(kind, value):
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("int", "float"):
        return not isinstance(value, bool) and isinstance(value, int if kind == "int" else (int, float))
    if kind == "ttl" and not isinstance(value, str):
        return True  # reported by parse_ttl with the TTL hint
    return isinstance(value, str)


def read_argo(fields, layers, names, problems):
    """Typed Argo mapping from what Argo's YAML reader made of a block: every value written into it, in
    the order Go decodes them (one per spelling of the key; see argo_decode.py)."""
    def report(where, message):
        problems.append(Problem("%s: %s" % (where, message) if not message.startswith("must") else
                                "%s %s" % (where, message)))
    value = Decoder(names, report).object(fields, layers, [])
    return {} if value is ABSENT else value


# ---------------------------------------------------------------- the rules

def _check_scalars(fields, data, path, names, problems):
    """Ranges, choices, TTL grammar and lengths, driven by the table."""
    for field in fields:
        value = data.get(field.key)
        here = path + [field]
        name = names.of(here)
        if value is None:
            continue
        if field.kind == "object":
            _check_scalars(field.children, value, here, names, problems)
        elif field.kind == "selector":
            archiving = bool(data.get("archive"))
            for problem in label_selector.check(value, name, names.options):
                problems.append(Problem(problem + ("" if archiving else (
                    " (Argo reads the selector only with archive on; refused now, as it would exit then)")),
                    ARGO_REJECTS if archiving else REFUSED))
        elif field.kind == "ttl":
            try:
                # database/sql reads a lifetime <= 0 as "reuse forever"; only the archive TTL deletes rows
                parse_ttl(value, name, allow_negative=field.key == "connMaxLifetime")
            except TTLError as err:
                problems.append(Problem(str(err), ARGO_REJECTS if err.kind == "argo" else REFUSED))
        elif field.kind in ("int", "float"):
            if (field.low is not None and value < field.low) or (field.high is not None and value > field.high):
                problems.append(Problem("%s: %r is out of range (%s..%s)%s" % (
                    name, value, field.low, "" if field.high is None else field.high,
                    ": " + field.why if field.why else ""), field.range_kind))
        elif field.kind == "str":
            # sslMode is only read with ssl: true (rule in _check_database)
            if field.choices and value and value not in field.choices and (field.key != "sslMode" or data.get("ssl")):
                problems.append(Problem("%s: %r is not one of %s (the controller cannot connect and exits)"
                                        % (name, value, ", ".join(field.choices)), FAILS_LATER))


def _check_database(db_field, db, persistence, names, problems, findings):
    prefix = [db_field]
    fields = dict((f.key, f) for f in db_field.children)
    azure = (db.get("azureToken") or {}).get("enabled")
    aws = (db.get("awsRDSToken") or {}).get("enabled")
    if not db.get("host"):
        problems.append(Problem("%s is required (the database server the controller connects to)"
                                % names.of(prefix + [fields["host"]]), FAILS_LATER))
    table = db.get("tableName")
    if not table:
        problems.append(Problem("%s is required (Argo exits with \"TableName is empty\")"
                                % names.of(prefix + [fields["tableName"]])))
    elif not persistence.get("skipMigration"):
        problem = argo_sql_names.table_name_problem(db_field.key, table)
        if problem:
            problems.append(Problem("%s: %r %s" % (names.of(prefix + [fields["tableName"]]), table, problem),
                                    FAILS_LATER))
    for key in _secrets_read(db):
        ref = db.get(key) or {}
        for child in fields[key].children:
            if child.required and not ref.get(child.key):
                problems.append(Problem("%s is required: the controller reads this Secret key at start-up and exits "
                                        "without it" % names.of(prefix + [fields[key], child]), FAILS_LATER))
    if "ssl" in fields and db.get("sslMode") and not db.get("ssl"):
        message = ("%s is ignored unless %s is true (Argo then connects with sslmode=%s)" % (
            names.of(prefix + [fields["sslMode"]]), names.of(prefix + [fields["ssl"]]),
            "disable from v4.1, prefer before"))
        if names.options:
            problems.append(Problem(message + ": set ssl: true to use TLS, or drop ssl_mode", REFUSED))
        else:
            findings.append(message)
    if azure and aws:
        problems.append(Problem("%s and %s cannot both be enabled (Argo v4.1 exits)" % (
            names.of(prefix + [fields["azureToken"]]), names.of(prefix + [fields["awsRDSToken"]])), FAILS_LATER))
    if aws and not db.get("ssl"):
        problems.append(Problem("%s needs %s: true (Argo v4.1 exits: AWS RDS IAM authentication requires SSL)" % (
            names.of(prefix + [fields["awsRDSToken"]]), names.of(prefix + [fields["ssl"]])), FAILS_LATER))


def _secrets_read(db):
    """The SecretKeySelector keys the controller reads at start-up: no password with a token mode enabled."""
    token = (db.get("azureToken") or {}).get("enabled") or (db.get("awsRDSToken") or {}).get("enabled")
    return ("userNameSecret",) if token else ("userNameSecret", "passwordSecret")


def _field(fields, key):
    return next(f for f in fields if f.key == key)


def validate_persistence(persistence, names, findings):
    """Every rule Argo applies to ``persistence`` (or that would make the controller exit): the problems."""
    problems = []
    bad = argo_yaml.reencoding_problem(persistence)
    if bad is not None:
        problems.append(Problem("%s: %r holds a control character Argo cannot re-encode (its own yaml.Marshal of "
                                "the configuration fails and the controller exits)" % (names.root, bad)))
    _check_scalars(PERSISTENCE, persistence, [], names, problems)
    databases = [f for f in PERSISTENCE if f.key in DATABASES and persistence.get(f.key) is not None]
    if not databases:
        problems.append(Problem("exactly one of %s and %s is required (Argo exits with \"TableName is empty\")" % (
            names.of([_field(PERSISTENCE, "postgresql")]), names.of([_field(PERSISTENCE, "mysql")]))))
    elif len(databases) == 2:
        problems.append(Problem("exactly one of %s and %s is required (with both, Argo silently uses postgresql and "
                                "ignores mysql)" % (names.of([databases[0]]), names.of([databases[1]])), REFUSED))
    if databases:  # the database Argo uses (CreateDBSession: postgresql first)
        _check_database(databases[0], persistence[databases[0].key], persistence, names, problems, findings)
        _check_cluster_name(databases[0].key, persistence, names, problems)
    pool_field = _field(PERSISTENCE, "connectionPool")
    pool = persistence.get("connectionPool") or {}
    if pool.get("maxOpenConns", 0) > 0 and pool.get("maxIdleConns", 0) > pool["maxOpenConns"]:
        findings.append("%s is larger than %s; Go's database/sql lowers it to %d" % (
            names.of([pool_field, _field(pool_field.children, "maxIdleConns")]),
            names.of([pool_field, _field(pool_field.children, "maxOpenConns")]), pool["maxOpenConns"]))
    return problems


def _check_cluster_name(database, persistence, names, problems):
    name = persistence.get("clusterName")
    if name:
        problem = argo_sql_names.cluster_name_problem(database, name, not persistence.get("skipMigration"))
        if problem:
            problems.append(Problem("%s: %r %s" % (names.of([_field(PERSISTENCE, "clusterName")]), name, problem),
                                    FAILS_LATER))


def validate_retention(retention, names):
    """Ranges of ``retentionPolicy``: the problems."""
    problems = []
    _check_scalars(RETENTION, retention, [], names, problems)
    return problems


# ---------------------------------------------------------------- versions gate

def _gated(fields, data, path):
    """[(path of fields, value)] present in ``data`` that need a newer Argo than v4.0."""
    found = []
    for field in fields:
        if data.get(field.key) is None:
            continue
        if field.since:
            found.append((path + [field], field))
        elif field.kind == "object":
            found.extend(_gated(field.children, data[field.key], path + [field]))
    return found


def _lookup(data, path):
    for field in path:
        data = data[field.key]
    return data


def _drop(data, path):
    for field in path[:-1]:
        data = data[field.key]
    del data[path[-1].key]


def gate_version(persistence, version, names, findings):
    """Apply the target version: returns problems; drops harmless new keys when the version is unknown."""
    problems = []
    if persistence is None:
        return problems
    for path, field in _gated(PERSISTENCE, persistence, []):
        if version is not None and tuple(version[:2]) >= field.since:
            continue
        name = names.of(path)
        if version is not None:
            problems.append(Problem("%s needs Argo %s or later; the controller is %s and its strict parser would "
                                    "reject the whole ConfigMap (and exit)"
                                    % (name, _version_text(field.since), _version_text(version))))
        elif field.secret_like and _lookup(persistence, path).get("enabled"):
            problems.append(Problem("%s needs Argo %s or later and the controller version is unknown: set "
                                    "argo_version (dropping it would change how the controller authenticates)"
                                    % (name, _version_text(field.since)), REFUSED))
        else:
            _drop(persistence, path)
            findings.append("%s was not written: it needs Argo %s or later and the controller version is unknown "
                            "(set argo_version to write it)" % (name, _version_text(field.since)))
    if version is None:
        findings.append("the Argo controller version is unknown (no argo_version and no workflow-controller "
                        "Deployment image tag): only keys every supported Argo version accepts are written")
    return problems


# ---------------------------------------------------------------- public: desired state

class Desired:
    """Validated settings to write: Argo-shaped ``persistence`` / ``retention`` (None = not managed)."""

    def __init__(self, persistence, retention, findings):
        self.persistence, self.retention, self.findings = persistence, retention, findings

    def for_version(self, version):
        """Apply the target Argo version (None = unknown); raise ConfigError for keys it cannot take."""
        problems = gate_version(self.persistence, version, PERSISTENCE_OPTION_NAMES, self.findings)
        if problems:
            raise ConfigError(problems)
        return self


def judge_options(options):
    """(Desired, problems): the Argo blocks ``options`` make and every rule they break, all at once.

    ``options`` holds the persistence options (``PERSISTENCE_OPTIONS``) and ``retention_policy``
    (None = leave retentionPolicy as it is). The blocks are returned even when there are problems (the
    tests render them to show what Argo makes of them).
    """
    options = dict(options)
    findings, problems = [], []
    retention_options = options.pop(RETENTION_OPTION, None)
    persistence = read_options(PERSISTENCE, _without_none(options), [], PERSISTENCE_OPTION_NAMES, problems)
    retention = None
    if retention_options is not None:
        retention = read_options(RETENTION, _without_none(retention_options), [], RETENTION_OPTION_NAMES, problems)
        for option in ("completed", "failed", "errored") if isinstance(retention_options, dict) else ():
            if retention_options.get(option) is None:
                findings.append("%s.%s is not set: Argo then keeps 0 %s workflows, i.e. deletes each one from "
                                "Kubernetes as soon as it finishes (archived rows stay)"
                                % (RETENTION_OPTION, option, PHASES[option]))
    if not problems:  # rules on a block that could not be read would only repeat its problems
        problems = validate_persistence(persistence, PERSISTENCE_OPTION_NAMES, findings)
        if retention is not None:
            problems += validate_retention(retention, RETENTION_OPTION_NAMES)
    return Desired(persistence, retention, findings), problems


def desired_from_options(options):
    """Validate snake_case options into Argo blocks, before any version is known; raise ConfigError."""
    desired, problems = judge_options(options)
    if problems:
        raise ConfigError(problems)
    return desired


def from_options(options, version=None):
    """``desired_from_options`` then ``for_version``: the blocks to write for that Argo version."""
    return desired_from_options(options).for_version(version)


def _without_none(data):
    """Ansible passes every declared sub-option; None means 'not set'."""
    if isinstance(data, dict):
        return dict((k, _without_none(v)) for k, v in data.items() if v is not None)
    if isinstance(data, list):
        return [_without_none(v) for v in data]
    return data


def _set_fields(fields, data):
    """(field, value) for each field ``data`` sets that has an option (Argo-only fields are never written)."""
    for field in fields:
        value = data.get(field.key)
        if value is not None and field.option is not None:
            yield field, value


def secret_refs(persistence):
    """[(option, Secret name, key)] the controller reads at start-up for this ``persistence`` block."""
    refs = []
    for db_field in PERSISTENCE:
        db = (persistence or {}).get(db_field.key) if db_field.key in DATABASES else None
        if not db:
            continue
        for key in _secrets_read(db):
            ref = db.get(key) or {}
            refs.append(("%s.%s" % (db_field.option, _field(db_field.children, key).option),
                         ref.get("name"), ref.get("key")))
    return refs


# ---------------------------------------------------------------- normalised comparison

def canonical(fields, data):
    """Order-free, default-free form: what the controller actually ends up using."""
    if data is None:
        return None
    out = {}
    for field, value in _set_fields(fields, data):
        if field.kind == "object":
            value = canonical(field.children, value)
            if field.key in ("azureToken", "awsRDSToken") and not value.get("enabled"):
                continue  # only read when enabled
            if field.key in ("userNameSecret", "passwordSecret") and not value:
                continue
        elif field.kind == "selector":
            value = (tuple(sorted((k, str(v)) for k, v in value.get("matchLabels", {}).items())),
                     tuple(sorted(set((str(e.get("key", "")), str(e.get("operator", "")), tuple(sorted(set(str(v) for v in e.get("values", [])))))
                                      for e in value.get("matchExpressions", [])))))
            if value == ((), ()):
                continue  # an empty selector selects everything, like no selector
        elif field.kind == "ttl":
            try:
                value = parse_ttl(value, field.key, allow_negative=True)
            except TTLError:
                value = ("invalid", value)  # differs from every valid TTL, so a rewrite replaces it
        elif field.kind == "map":
            value = tuple(sorted(value.items()))
        if field.key == "clusterName" and value == "default":
            continue  # GetClusterName() falls back to "default"
        if value in (False, 0, "", ()) and field.kind != "object":
            continue  # Go's zero value == absent
        out[field.key] = value
    if "sslMode" in out and not out.get("ssl"):
        del out["sslMode"]  # ignored without ssl: true (v4.0 and v4.1)
    return out


def restart_keys(before, after):
    """Argo keys (persistence.X / retentionPolicy) whose change the controller only picks up at start-up."""
    keys = []
    before_p, after_p = canonical(PERSISTENCE, before[0]), canonical(PERSISTENCE, after[0])
    if before_p != after_p:
        for field in PERSISTENCE:
            if field.restart and (before_p or {}).get(field.key) != (after_p or {}).get(field.key):
                keys.append("%s.%s" % (PERSISTENCE_KEY, field.key))
        if (before_p is None) != (after_p is None) and not keys:
            keys.append(PERSISTENCE_KEY)
    if canonical(RETENTION, before[1]) != canonical(RETENTION, after[1]):
        keys.append(RETENTION_KEY)
    return keys


def change_findings(before, after, instance_ids=(None, None)):
    """Warnings about what a change does to data that is already archived or running."""
    findings = []
    old, new = canonical(PERSISTENCE, before) or {}, canonical(PERSISTENCE, after) or {}
    if before is not None and old.get("clusterName", "default") != new.get("clusterName", "default"):
        findings.append("clusterName changes from %r to %r: every archive query filters by cluster name, so rows "
                        "archived under %r are no longer visible (they are not deleted)"
                        % (old.get("clusterName", "default"), new.get("clusterName", "default"),
                           old.get("clusterName", "default")))
    if instance_ids[0] != instance_ids[1]:
        findings.append("instanceID changes from %r to %r: archive queries filter by instance ID, so rows archived "
                        "under the old one are no longer visible" % instance_ids)
    old_ttl, new_ttl = old.get("archiveTTL", 0), new.get("archiveTTL", 0)
    old_ttl = old_ttl if isinstance(old_ttl, int) else 0  # an invalid TTL never ran
    if before is not None and new.get("archive") and new_ttl and (not old_ttl or new_ttl < old_ttl):
        findings.append("archiveTTL %s %s: the archive GC will delete rows that finished more than %s ago "
                        "(first run one ARCHIVED_WORKFLOW_GC_PERIOD after the controller restarts)"
                        % ("is shortened from " + format_ttl(old_ttl) + " to" if old_ttl else "now enables deletion at",
                           format_ttl(new_ttl), format_ttl(new_ttl)))
    if old.get("archive") and not new.get("archive"):
        findings.append("archiving is turned off: completed workflows are no longer written to the archive (existing "
                        "rows stay, but argo-server only serves them while persistence is configured)")
    return findings


def render(block):
    """Stable YAML text of an Argo block (the value of a per-key ConfigMap entry)."""
    return argo_yaml.dump(block)


# ---------------------------------------------------------------- Ansible argument spec (plain dicts)

_ANSIBLE_TYPES = {"bool": "bool", "int": "int", "float": "float", "str": "str", "ttl": "str", "map": "dict"}


def _spec(fields):
    spec = {}
    for field in fields:
        if field.option is None:
            continue
        if field.kind == "object":
            entry = {"type": "dict", "options": _spec(field.children)}
        elif field.kind == "selector":
            # raw, not dict with sub-options: Ansible would turn the string 'app=etl' into {app: etl} and then
            # report "archive_label_selector.app" as an unsupported parameter, and refuse 'app in (a,b)' without
            # naming the option. label_selector.from_options checks the shape and says what is expected.
            entry = {"type": "raw"}
        else:
            entry = {"type": _ANSIBLE_TYPES[field.kind]}
            if field.choices:
                entry["choices"] = list(field.choices)
            if field.default is not None:
                entry["default"] = field.default
        if field.required and field.default is None:
            entry["required"] = True
        if field.secret_like:
            entry["no_log"] = False  # names of Secrets and keys, never their values
        spec[field.option] = entry
    return spec


def argument_spec():
    """The persistence and retention options as an Ansible argument spec (plain dicts)."""
    spec = _spec(PERSISTENCE)
    spec[RETENTION_OPTION] = {"type": "dict", "options": _spec(RETENTION)}
    return spec
