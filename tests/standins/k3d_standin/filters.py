"""k3d's node filters (pkg/util/filter.go semantics) and Docker's port spec grammar (nat.ParsePortSpec)."""
import ipaddress
import re

from . import logs

FILTER_RE = re.compile(r"^(?P<group>server|servers|agent|agents|loadbalancer|all)"
                       r"(?P<subsetSpec>:(?P<subset>(?P<subsetList>(\d+,?)+)|(?P<subsetRange>\d*-\d*)|(?P<subsetWildcard>\*)))?"
                       r"(?P<suffixSpec>:(?P<suffix>[A-Za-z]+))?$")
_ROLES = {"server": "server", "servers": "server", "agent": "agent", "agents": "agent"}
DEFAULT_PORT_FILTERS = ["servers:*:proxy", "agents:*:proxy"]


class FilterError(Exception):
    """k3d's error text for a bad filter or port spec."""


def split_filters(flag_value):
    """VALUE@FILTER;FILTER (CLI form) -> (value, [filters])."""
    value, dummy, filters = flag_value.rpartition("@") if "@" in flag_value else (flag_value, "", "")
    return value, [f for f in filters.split(";") if f]


def filter_nodes(nodes, filters):
    if not filters or not filters[0]:
        logs.warn("No node filter specified")
        return list(nodes)
    by_role = dict((role, [n for n in nodes if n["role"] == role]) for role in ("server", "agent"))
    lb = [n for n in nodes if n["role"] == "loadbalancer"]
    chosen = []
    for text in filters:
        match = FILTER_RE.match(text)
        if not match:
            raise FilterError("Failed to parse node filters: invalid format or empty subset in '%s'" % text)
        parts = match.groupdict()
        if parts["suffix"]:
            raise FilterError("error filtering with '%s': no suffix allowed in simple filter" % text)
        if parts["group"] == "all":
            return list(nodes)
        if parts["group"] == "loadbalancer":
            if not lb:
                raise FilterError("Node filter '%s' targets a node that does not exist (disabled?)" % text)
            return chosen + lb
        group = by_role[_ROLES[parts["group"]]]
        if parts["subsetList"]:
            indices = [int(i) for i in parts["subsetList"].split(",") if i]
            for i in indices:
                if i >= len(group):
                    raise FilterError("Index out of range: index '%d' < 0 or > number of available nodes in filter '%s'" % (i, text))
        elif parts["subsetRange"]:
            first, last = parts["subsetRange"].split("-")
            start, end = (int(first) if first else 0), (int(last) if last else len(group) - 1)
            if first and start >= len(group):
                raise FilterError("Invalid subset range: start < 0 or > number of available nodes in '%s'" % text)
            if last and (end < start or end >= len(group)):
                raise FilterError("Invalid subset range: end < start or > number of available nodes in '%s'" % text)
            indices = range(start, end + 1)
        elif parts["subsetWildcard"]:
            indices = range(len(group))
        else:
            raise FilterError("Failed to parse node specifiers: unknown subset in '%s'" % text)
        for i in indices:
            if group[i] not in chosen:
                chosen.append(group[i])
    return chosen


def filter_nodes_with_suffix(nodes, filters, allowed):
    if not filters or not filters[0]:
        raise FilterError("No nodefilters specified")
    result = dict((s, []) for s in allowed)
    result["nosuffix"] = []
    for text in filters:
        match = FILTER_RE.match(text)
        if not match:
            raise FilterError("Failed to parse node filters (with suffix): invalid format or empty subset in '%s'" % text)
        suffix = match.group("suffix") or "nosuffix"
        cleaned = text[:-len(match.group("suffixSpec"))] if match.group("suffix") else text
        if suffix not in result:
            raise FilterError("error filtering nodes: unallowed suffix '%s' in nodefilter '%s'" % (suffix, text))
        try:
            result[suffix].extend(filter_nodes(nodes, [cleaned]))
        except FilterError as exc:
            raise FilterError("failed to filter nodes by filter '%s': %s" % (text, exc))
    return result


def _port_range(text, what, spec):
    low, dummy, high = text.partition("-")
    try:
        low_n, high_n = int(low), int(high or low)
    except ValueError:
        raise FilterError("Invalid %s: %s" % (what, text))
    if not (0 < low_n <= 65535 and 0 < high_n <= 65535) or high_n < low_n:
        raise FilterError("Invalid %s: %s" % (what, text or spec))
    return low_n, high_n


def parse_port_spec(spec):
    """Docker's [IP:][HOSTPORT:]CONTAINERPORT[/PROTO] -> [("80/tcp", {"HostIp":..., "HostPort":...})]."""
    parts = spec.split(":")
    container = parts[-1]
    if len(parts) == 1:
        ip, host = "", ""
    elif len(parts) == 2:
        ip, host = "", parts[0]
    else:
        ip, host = ":".join(parts[:-2]), parts[-2]
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise FilterError("Invalid ip address: %s" % ip)
    port, dummy, proto = container.partition("/")
    proto = proto.lower() or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise FilterError("Invalid proto: %s" % proto)
    start, end = _port_range(port, "containerPort", spec)
    host_start = host_end = None
    if host:
        host_start, host_end = _port_range(host, "hostPort", spec)
        if end - start != host_end - host_start and end != start:
            raise FilterError("Invalid ranges specified for container and host Ports: %s and %s" % (port, host))
    mappings = []
    for i in range(end - start + 1):
        if not host:
            host_port = ""
        elif end - start == host_end - host_start:
            host_port = str(host_start + i)
        else:
            host_port = host
        mappings.append(("%d/%s" % (start + i, proto), {"HostIp": ip, "HostPort": host_port}))
    return mappings
