# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of k3d's ``k3d.io/v1alpha5`` ``Simple`` config schema, checked before k3d sees a config.

k3d validates a config file against a JSON schema (pkg/config/v1alpha5/schema.json in k3d v5.9) and
refuses the whole file on the first unknown key. We check the same rules up front so the error names our
option and the offending path instead of k3d's. Closed objects reject unknown keys; three places in k3d's
schema are open and stay open here: ``options.runtime`` and ``hostAliases`` items (no
``additionalProperties``) and ``registries``, whose ``additionalProperties: false`` sits inside
``properties``: it does not close the object, it declares a key named ``additionalProperties`` that
always fails ("False always fails validation"), so that one key is refused. Checked against real k3d
v5.9.0 by tests/integration/test_k3d_real.py. Plain Python, no Ansible imports.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Obj:
    """An object node: ``props`` maps key -> rule; ``open`` allows unknown keys; ``required`` keys;
    ``refused`` keys are never valid (even in an open object)."""

    def __init__(self, props, open_=False, required=(), refused=()):
        self.props = props
        self.open = open_
        self.required = required
        self.refused = refused


class Arr:
    """An array whose items follow ``items``."""

    def __init__(self, items):
        self.items = items


STR, NUM, BOOL, ANY = "string", "number", "boolean", "any"
_FILTERS = Arr(STR)


def _filtered(key):
    return Arr(Obj({key: STR, "nodeFilters": _FILTERS}))


SIMPLE_CONFIG = Obj({
    "apiVersion": STR,
    "kind": STR,
    "metadata": Obj({"name": STR}),
    "servers": NUM,
    "agents": NUM,
    "kubeAPI": Obj({"host": STR, "hostIP": STR, "hostPort": STR}),
    "image": STR,
    "network": STR,
    "subnet": STR,
    "token": STR,
    "volumes": _filtered("volume"),
    "ports": _filtered("port"),
    "files": Arr(Obj({"source": STR, "destination": STR, "description": STR, "nodeFilters": _FILTERS},
                     required=("source", "destination"))),
    "env": _filtered("envVar"),
    "options": Obj({
        "k3d": Obj({
            "wait": BOOL, "timeout": ANY, "disableLoadbalancer": BOOL, "disableImageVolume": BOOL,
            "disableRollback": BOOL, "loadbalancer": Obj({"configOverrides": Arr(ANY)}),
        }),
        "k3s": Obj({"extraArgs": _filtered("arg"), "nodeLabels": _filtered("label")}),
        "kubeconfig": Obj({"updateDefaultKubeconfig": BOOL, "switchCurrentContext": BOOL}),
        "runtime": Obj({
            "gpuRequest": STR, "serversMemory": STR, "agentsMemory": STR, "hostPidMode": BOOL,
            "labels": _filtered("label"),
            "ulimits": Arr(Obj({"name": STR, "soft": NUM, "hard": NUM})),
        }, open_=True),
    }),
    "registries": Obj({
        "create": Obj({
            "name": STR, "host": STR, "hostPort": STR, "image": STR,
            "proxy": Obj({"remoteURL": STR, "username": STR, "password": STR}),
            "volumes": Arr(STR), "enforcePortMatch": BOOL,
        }),
        "use": Arr(STR),
        "config": STR,
    }, open_=True, refused=("additionalProperties",)),
    "hostAliases": Arr(Obj({"ip": STR, "hostnames": Arr(STR)}, open_=True)),
})


def _type_ok(value, rule):
    if rule == ANY:
        return True
    if rule == STR:
        return isinstance(value, str)
    if rule == BOOL:
        return isinstance(value, bool)
    if rule == NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return False


def _type_name(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else type(value).__name__


def schema_errors(value, rule=SIMPLE_CONFIG, path="config"):
    """Every violation of ``rule`` in ``value``, as ``path: problem`` strings (empty when valid)."""
    if isinstance(rule, Obj):
        if not isinstance(value, dict):
            return ["%s: must be an object (mapping), got %s" % (path, _type_name(value))]
        errors = []
        for key in rule.required:
            if key not in value:
                errors.append("%s: missing required key %r" % (path, key))
        for key in sorted(value):
            if key in rule.refused:
                errors.append("%s: key %r is not allowed (k3d's schema refuses it whatever its value)" % (path, key))
            elif key in rule.props:
                errors.extend(schema_errors(value[key], rule.props[key], "%s.%s" % (path, key)))
            elif not rule.open:
                errors.append("%s: unknown key %r; k3d's v1alpha5 schema allows only %s here"
                              % (path, key, ", ".join(sorted(rule.props))))
        return errors
    if isinstance(rule, Arr):
        if not isinstance(value, list):
            return ["%s: must be a list, got %s" % (path, _type_name(value))]
        errors = []
        for index, item in enumerate(value):
            errors.extend(schema_errors(item, rule.items, "%s[%d]" % (path, index)))
        return errors
    if not _type_ok(value, rule):
        return ["%s: must be a %s, got %s" % (path, rule, _type_name(value))]
    return []
