"""Readings of the persistence model (plugins/module_utils/argo_config.py) that only tests need: the
verdict a list of problems amounts to, and the options that produce given Argo blocks (the reverse of
``from_options``, for render -> parse round trips). Kept out of plugins/ because no module uses them."""
from ansible_collections.argoops.workflows.plugins.module_utils import argo_config as model


def argo_rejects(problems):
    """True when the controller's own parsing refuses at least one of ``problems``; None when that is not
    known (a problem of kind UNKNOWN and none Argo certainly rejects)."""
    kinds = set(getattr(p, "kind", model.ARGO_REJECTS) for p in problems)
    return True if model.ARGO_REJECTS in kinds else None if model.UNKNOWN in kinds else False


def to_options(persistence, retention=None):
    """The snake_case options that produce these Argo blocks."""
    def walk(fields, data):
        out = {}
        for field in fields:
            value = data.get(field.key)
            if value is None or field.option is None:  # Argo-only fields have no option
                continue
            if field.kind == "object":
                value = walk(field.children, value)
            elif field.kind == "selector":
                value = {"match_labels": dict(value.get("matchLabels", {})),
                         "match_expressions": [dict(e, values=e.get("values", [])) for e in
                                               value.get("matchExpressions", [])]}
            out[field.option] = value
        return out
    result = walk(model.PERSISTENCE, persistence or {})
    if retention is not None:
        result[model.RETENTION_OPTION] = walk(model.RETENTION, retention)
    return result
