# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of the workflow-controller ConfigMap's persistence / retentionPolicy blocks (argo_config,
argo_yaml, argo_decode, argo_configmap).

Any options are problems, never an exception; any ConfigMap text is read or refused with a LayoutError;
generated valid settings render, and read back the way Argo reads them (both layouts) to the same settings,
with the TTLs and strings the test generated, and a second run changes nothing.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import example, given, settings, strategies as st

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config as model
from ansible_collections.argoops.workflows.tests.support import argo_model
from ansible_collections.argoops.workflows.plugins.module_utils.argo_configmap import Current, Plan
from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import LayoutError, dump, load, same
from ansible_collections.argoops.workflows.tests.unit.plugins.module_utils.property_strategies import (
    ANYTHING, PROPERTIES, FEWER_EXAMPLES, selector_options)

V405, V412 = (4, 0, 5), (4, 1, 2)
SECONDS_PER = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Strings go-yaml v2 would read as something else unless quoted, and ordinary ones.
TRICKY = st.sampled_from(["yes", "no", "on", "y", "null", "~", "1e3", "09", "0o17", "0x1F", ".5", "-", "'",
                          "\"", "a: b", "#x", "- x", "[a]", "{a: 1}", "*x", "&x", "!x", "%x", "@x", "`x", " x",
                          "x ", "", "3.0", "+1", "1_000", ".inf", "2024-01-01", "a\nb", "\t"])
TEXT = st.one_of(TRICKY, st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co")),
                                 max_size=12))
NAMES = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


@st.composite
def ttls(draw, zero_ok=True):
    """(TTL text, seconds computed here)."""
    if zero_ok and draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["", "0", "0s"])), 0
    number, unit = draw(st.integers(0 if zero_ok else 1, 5000)), draw(st.sampled_from(sorted(SECONDS_PER)))
    return "%s%d%s" % (draw(st.sampled_from(["", "+", "0"])), number, unit), number * SECONDS_PER[unit]


def _maybe(draw, options, name, strategy):
    if draw(st.booleans()):
        options[name] = draw(strategy)


@st.composite
def persistence_options(draw):
    """(options, the archive TTL's seconds, the Argo version) for settings the module accepts."""
    version = draw(st.sampled_from([V405, V412]))
    ttl_text, ttl_seconds = draw(ttls())
    options = {"archive": draw(st.booleans()), "archive_ttl": ttl_text}
    _maybe(draw, options, "node_status_offload", st.booleans())
    _maybe(draw, options, "skip_migration", st.booleans())
    _maybe(draw, options, "cluster_name", TEXT.filter(lambda t: "'" not in t and "\\" not in t))
    if draw(st.booleans()):
        options["archive_label_selector"] = draw(selector_options())[0]
    if draw(st.booleans()):
        options["connection_pool"] = {"max_idle_conns": draw(st.integers(-5, 500)),
                                      "max_open_conns": draw(st.integers(-5, 500)),
                                      "conn_max_lifetime": draw(ttls())[0]}
    database = {"host": draw(TEXT.filter(bool)), "table_name": draw(st.sampled_from(
        ["argo_workflows", "archive", "wf_archive_2"])),
        "username_secret": {"name": draw(NAMES), "key": draw(NAMES)},
        "password_secret": {"name": draw(NAMES), "key": draw(NAMES)}}
    _maybe(draw, database, "port", st.integers(0, 65535))
    _maybe(draw, database, "database", TEXT)
    kind = draw(st.sampled_from(["postgresql", "mysql"]))
    if kind == "postgresql":
        if draw(st.booleans()):
            database["ssl"] = True
            _maybe(draw, database, "ssl_mode", st.sampled_from(model.SSL_MODES))
    else:
        _maybe(draw, database, "options", st.dictionaries(NAMES, st.one_of(TEXT, st.integers(), st.booleans()),
                                                          max_size=3))
    options[kind] = database
    if version >= (4, 1) and draw(st.booleans()):
        options["connection_timeout_seconds"] = draw(st.integers(0, 2 ** 31 - 1))
    if draw(st.booleans()):
        options["retention_policy"] = {k: draw(st.integers(0, 10 ** 6)) for k in ("completed", "failed", "errored")}
    return options, ttl_seconds, version


def _single_key(data):
    """The same blocks in the other layout Argo accepts: one ``config`` key holding the whole document."""
    return {"config": dump(dict((key, load(text, key)) for key, text in sorted(data.items())))}


# Fewer examples here: each one reads YAML with PyYAML's pure-Python parser about fifteen times (two layouts,
# three plans), about 50 ms; 25 keep this test under 2 s of the unit tier's budget.
@settings(PROPERTIES, max_examples=25)
@given(persistence_options())
@example(({"archive": True, "archive_ttl": "168h", "postgresql": {
    "host": "yes", "table_name": "argo_workflows", "database": "1e3",
    "username_secret": {"name": "s", "key": "u"}, "password_secret": {"name": "s", "key": "p"}}}, 168 * 3600, V405))
def test_valid_settings_render_and_read_back_as_argo_reads_them(generated):
    options, ttl_seconds, version = generated
    desired = model.desired_from_options(options).for_version(version)
    written = Plan({}, desired, "present", version)
    assert written.changed and written.other_problems == []
    for data in (written.data, _single_key(written.data)):
        current = Current(data, version)
        assert current.problems == {"persistence": [], "retentionPolicy": []}, data
        got = model.canonical(model.PERSISTENCE, current.persistence)
        assert got == model.canonical(model.PERSISTENCE, desired.persistence)
        assert model.canonical(model.RETENTION, current.retention) == \
            model.canonical(model.RETENTION, desired.retention)
        # independent facts: the seconds computed from the TTL's parts, strings exactly as given
        assert got.get("archiveTTL", 0) == ttl_seconds
        db_key = "postgresql" if "postgresql" in options else "mysql"
        assert current.persistence[db_key]["host"] == options[db_key]["host"]
        if options[db_key].get("database"):
            assert current.persistence[db_key]["database"] == options[db_key]["database"]
        # the options read back make the same blocks, and running again changes nothing
        again = model.desired_from_options(argo_model.to_options(current.persistence, current.retention))
        assert model.canonical(model.PERSISTENCE, again.persistence) == got
        assert not Plan(data, again.for_version(version), "present", version).changed


OPTION_NAMES = st.sampled_from(model.PERSISTENCE_OPTIONS + (model.RETENTION_OPTION, "bogus"))


@FEWER_EXAMPLES
@given(st.dictionaries(OPTION_NAMES, ANYTHING, max_size=6), st.one_of(st.none(), st.sampled_from([V405, V412])))
@example({"connection_pool": {"max_idle_conns": 5, "max_open_conns": "x"}}, None)
@example({"retention_policy": {"completed": None}, "archive_ttl": None}, V405)
@example({"retention_policy": []}, None)  # was AttributeError: 'list' object has no attribute 'get'
def test_any_options_are_problems_never_an_exception(options, version):
    try:
        model.desired_from_options(options).for_version(version)
    except model.ConfigError as err:
        assert err.problems and all(isinstance(p, str) and p for p in err.problems)


# YAML-ish text: the punctuation go-yaml cares about, anchors, tags, merges, tabs.
YAML_LIKE = st.text(alphabet="persistence:archiveTTL7dhost- \n\t'\"{}[],&*!<>|#%@~.0123456789eE+", max_size=60)
BLOCK_KEYS = st.sampled_from(["persistence", "retentionPolicy", "Persistence", "config", "executor", "archive"])


@FEWER_EXAMPLES
@given(st.one_of(
    st.dictionaries(BLOCK_KEYS, st.one_of(YAML_LIKE, st.text(max_size=40)), max_size=3),
    st.dictionaries(BLOCK_KEYS, ANYTHING.map(lambda v: dump(v) if _dumpable(v) else "x: 1"), max_size=3)),
    st.one_of(st.none(), st.sampled_from([V405, V412])))
@example({"persistence": "archive: true\narchiveTTL: 7d\n<<: *a\n"}, V405)
@example({"persistence": "&a [*a]"}, None)
@example({"persistence": "postgresql: {host: 10, port: 1e3}\nconnectionPool: {maxIdleConns: .inf}"}, V405)
@example({"retentionPolicy": "completed: -1\n"}, V405)
def test_any_configmap_text_is_read_or_refused_with_a_layout_error(data, version):
    try:
        current = Current(data, version)
    except LayoutError as err:
        assert str(err)
        return
    for key in ("persistence", "retentionPolicy"):
        assert all(isinstance(p, str) for p in current.problems[key])
    # planning a change on top of it never raises something else either
    desired = model.desired_from_options({"archive": True, "postgresql": {
        "host": "h", "table_name": "argo_workflows", "username_secret": {"name": "s", "key": "u"},
        "password_secret": {"name": "s", "key": "p"}}})
    try:
        Plan(data, desired, "present", version)
    except LayoutError as err:
        assert str(err)


def _dumpable(value):
    """dump() writes plain data with string keys (what a ConfigMap block can hold)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) for k in value) and all(_dumpable(v) for v in value.values())
    if isinstance(value, list):
        return all(_dumpable(v) for v in value)
    return not isinstance(value, bytes)


@FEWER_EXAMPLES
@given(ANYTHING.filter(_dumpable))
def test_dump_reads_back_as_exactly_the_value(value):
    try:
        text = dump(value)
    except LayoutError:
        return  # dump refuses rather than writing what Argo would read differently
    assert same(load(text, "value"), value)
