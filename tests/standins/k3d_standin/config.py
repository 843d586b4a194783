"""Reading a k3d config file the way k3d v5.9 does: env expansion (Go os.ExpandEnv, no escape for
"$"), YAML, then the v1alpha5 JSON-schema check with gojsonschema-style messages.

The schema is written here independently of the collection's own checks (a table of allowed paths),
so tests compare the module against a separate reading of k3d's rules.
"""
import json
import os
import re
import sys

from . import logs


def _yaml():
    """PyYAML when installed (imported lazily: most commands never read YAML); JSON is YAML too."""
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return yaml


API_VERSION = "k3d.io/v1alpha5"
_SPECIAL = set("*#$@!?-0123456789")
_HOSTNAME = re.compile(r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*"
                       r"([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$")
_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


def _filtered(prefix, key):
    return {prefix: "array", prefix + ".*": "object", prefix + ".*." + key: "string",
            prefix + ".*.nodeFilters": "array", prefix + ".*.nodeFilters.*": "string"}


# path -> JSON type ("any" = unconstrained); "*" stands for array items.
TYPES = {
    "": "object", "apiVersion": "string", "kind": "string", "metadata": "object", "metadata.name": "string",
    "servers": "number", "agents": "number", "kubeAPI": "object", "kubeAPI.host": "string",
    "kubeAPI.hostIP": "string", "kubeAPI.hostPort": "string", "image": "string", "network": "string",
    "subnet": "string", "token": "string",
    "files": "array", "files.*": "object", "files.*.source": "string", "files.*.destination": "string",
    "files.*.description": "string", "files.*.nodeFilters": "array", "files.*.nodeFilters.*": "string",
    "options": "object", "options.k3d": "object", "options.k3d.wait": "boolean", "options.k3d.timeout": "any",
    "options.k3d.disableLoadbalancer": "boolean", "options.k3d.disableImageVolume": "boolean",
    "options.k3d.disableRollback": "boolean", "options.k3d.loadbalancer": "object",
    "options.k3d.loadbalancer.configOverrides": "array", "options.k3d.loadbalancer.configOverrides.*": "any",
    "options.k3s": "object", "options.kubeconfig": "object",
    "options.kubeconfig.updateDefaultKubeconfig": "boolean", "options.kubeconfig.switchCurrentContext": "boolean",
    "options.runtime": "object", "options.runtime.gpuRequest": "string", "options.runtime.serversMemory": "string",
    "options.runtime.agentsMemory": "string", "options.runtime.hostPidMode": "boolean",
    "options.runtime.ulimits": "array", "options.runtime.ulimits.*": "object",
    "options.runtime.ulimits.*.name": "string", "options.runtime.ulimits.*.soft": "number",
    "options.runtime.ulimits.*.hard": "number",
    "registries": "object", "registries.create": "object", "registries.create.name": "string",
    "registries.create.host": "string", "registries.create.hostPort": "string", "registries.create.image": "string",
    "registries.create.proxy": "object", "registries.create.proxy.remoteURL": "string",
    "registries.create.proxy.username": "string", "registries.create.proxy.password": "string",
    "registries.create.volumes": "array", "registries.create.volumes.*": "string",
    "registries.create.enforcePortMatch": "boolean", "registries.use": "array", "registries.use.*": "string",
    "registries.config": "string",
    "hostAliases": "array", "hostAliases.*": "object", "hostAliases.*.ip": "string",
    "hostAliases.*.hostnames": "array", "hostAliases.*.hostnames.*": "string",
}
for _prefix, _key in (("volumes", "volume"), ("ports", "port"), ("env", "envVar"), ("options.k3s.extraArgs", "arg"),
                      ("options.k3s.nodeLabels", "label"), ("options.runtime.labels", "label")):
    TYPES.update(_filtered(_prefix, _key))
# Objects without additionalProperties:false in k3d's schema. Registries' sits inside "properties": it
# declares a key named "additionalProperties" with the schema `false` instead (FALSE below).
OPEN = {"options.runtime", "registries", "hostAliases.*"}
FALSE = {"registries.additionalProperties"}
REQUIRED = {"": ("apiVersion", "kind"), "files.*": ("source", "destination")}
FORMATS = {"metadata.name": ("hostname", _HOSTNAME.match), "kubeAPI.host": ("hostname", _HOSTNAME.match),
           "kubeAPI.hostIP": ("ipv4", lambda v: _IPV4.match(v) and all(int(p) < 256 for p in v.split(".")))}
MINIMUM = {"servers": 1, "agents": 0}


def expand_env(text, getenv=os.environ.get):
    """Go's os.ExpandEnv: $NAME, ${NAME}, $1 style specials; unknown -> ''."""
    out, i, j = [], 0, 0
    while j < len(text):
        if text[j] == "$" and j + 1 < len(text):
            out.append(text[i:j])
            name, width = _shell_name(text[j + 1:])
            if name == "" and width > 0:
                pass  # bad syntax: eaten
            elif name == "":
                out.append("$")
            else:
                out.append(getenv(name) or "")
            j += width
            i = j + 1
        j += 1
    out.append(text[i:])
    return "".join(out)


def _shell_name(rest):
    if rest[0] == "{":
        if len(rest) > 2 and rest[1] in _SPECIAL and rest[2] == "}":
            return rest[1], 3
        for k in range(1, len(rest)):
            if rest[k] == "}":
                return ("", 2) if k == 1 else (rest[1:k], k + 1)
        return "", 1
    if rest[0] in _SPECIAL:
        return rest[0], 1
    k = 0
    while k < len(rest) and (rest[k].isalnum() and rest[k].isascii() or rest[k] == "_"):
        k += 1
    return rest[:k], k


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_matches(value, wanted):
    given = _json_type(value)
    return wanted == "any" or given == wanted or (wanted == "number" and given == "integer")


def schema_errors(value, pattern="", field="(root)"):
    """gojsonschema-like "field: description" strings for every violation."""
    wanted = TYPES[pattern]
    if not _type_matches(value, wanted):
        return ["%s: Invalid type. Expected: %s, given: %s" % (field, wanted, _json_type(value))]
    errors = []
    if wanted == "object":
        for key in REQUIRED.get(pattern, ()):
            if key not in value:
                errors.append("%s: %s is required" % (field, key))
        for key in sorted(value):
            child = key if pattern == "" else pattern + "." + key
            child_field = key if field == "(root)" else field + "." + key
            if child in FALSE:
                errors.append("%s: False always fails validation" % child_field)
            elif child in TYPES:
                errors.extend(schema_errors(value[key], child, child_field))
            elif pattern not in OPEN:
                errors.append("%s: Additional property %s is not allowed" % (field, key))
    elif wanted == "array":
        for index, item in enumerate(value):
            errors.extend(schema_errors(item, pattern + ".*", "%s.%d" % (field, index)))
    if pattern in FORMATS and isinstance(value, str) and not FORMATS[pattern][1](value):
        errors.append("%s: Does not match format '%s'" % (field, FORMATS[pattern][0]))
    if pattern in MINIMUM and isinstance(value, (int, float)) and value < MINIMUM[pattern]:
        errors.append("%s: Must be greater than or equal to %d" % (field, MINIMUM[pattern]))
    if pattern == "apiVersion" and value != API_VERSION:
        errors.append('apiVersion: apiVersion must be one of the following: "%s"' % API_VERSION)
    if pattern == "kind" and value != "Simple":
        errors.append('kind: kind must be one of the following: "Simple"')
    return errors


def _go_string(value):
    """What viper's GetString makes of a YAML value."""
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def _not_a_mapping(yaml, text, data):
    """go-yaml's message for a document that is not a mapping (k3d reads it into map[string]interface{})."""
    line, tag = 1, "!!seq" if isinstance(data, list) else "!!str"
    if yaml is not None:
        node = yaml.compose(text)
        line, tag = node.start_mark.line + 1, node.tag.replace("tag:yaml.org,2002:", "!!")
    shown = tag if isinstance(data, list) else "%s `%s`" % (tag, _go_string(data))
    return "line %d: cannot unmarshal %s into map[string]interface {}" % (line, shown)


def load(source):
    """Read, expand and validate a config file ("-" = stdin) -> dict; fatal like k3d on any problem."""
    if source == "-":
        text = sys.stdin.read()
    else:
        if not os.path.exists(source):
            logs.fatal("Failed to stat config file %s: stat %s: no such file or directory" % (source, source))
        if os.path.isdir(source):
            logs.fatal("error reading config file %s: read %s: is a directory" % (source, source))
        with open(source) as handle:
            text = handle.read()
    text = expand_env(text)
    yaml = _yaml()
    try:
        data = yaml.safe_load(text) if yaml else json.loads(text)
    except Exception as exc:  # pylint: disable=broad-except
        problem = getattr(exc, "problem", None) or str(exc)
        mark = getattr(exc, "problem_mark", None)
        where = "line %d: " % (mark.line + 1) if mark else ""
        logs.fatal("Failed to read config file %s: While parsing config: yaml: %s%s" % (source, where, problem))
    data = {} if data is None else data
    if not isinstance(data, dict):
        logs.fatal("Failed to read config file %s: While parsing config: yaml: unmarshal errors:\n  %s" % (
            source, _not_a_mapping(yaml, text, data)))
    version = _go_string(data.get("apiVersion", ""))
    if version.lower() != API_VERSION and version.lower() not in ("k3d.io/v1alpha2", "k3d.io/v1alpha3", "k3d.io/v1alpha4"):
        logs.fatal("Cannot validate config file %s: unsupported apiVersion '%s'" % (source, version))
    if version.lower() != API_VERSION:
        logs.fatal("k3d stand-in: only %s configs are implemented (got %s)" % (API_VERSION, version))
    errors = schema_errors(data)
    if errors:
        logs.fatal("Schema Validation failed for config file %s: %s" % (source, "".join("- %s\n" % e for e in errors)))
    logs.info("Using config file %s (%s#%s)" % (source, version.lower(), str(data.get("kind", "")).lower()))
    return data
