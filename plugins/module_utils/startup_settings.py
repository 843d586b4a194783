# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which start-up settings Argo's Deployments run with, decided from state.

workflow-controller and argo-server read ``persistence``, ``retentionPolicy`` and the database
credentials only at start-up. Whether they must restart is therefore a comparison of state, not the
memory of "this run changed the ConfigMap" (a run killed between writing the ConfigMap and restarting
would otherwise leave Argo on the old settings forever):

- ``settings_hash`` digests what the ConfigMap holds now: the start-up fields of ``persistence`` (as Argo
  resolves them: ``7d`` equals ``168h``, defaults dropped), ``retentionPolicy``, and the identity
  (uid and resourceVersion, never the values) of each credentials Secret ``persistence`` names;
- each Deployment's pod template carries the hash it was last rolled with, in ``ANNOTATION``;
- a Deployment whose annotation differs is stale; setting the annotation rolls its pods (as
  ``kubectl rollout restart`` does) and records the new hash in the same write.

Plain Python; the Kubernetes calls go through kube.Kube.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config as model
from ansible_collections.argoops.workflows.plugins.module_utils import kube
from ansible_collections.argoops.workflows.plugins.module_utils.argo_configmap import Current

ANNOTATION = "workflows.argoops.io/startup-settings-hash"
DEPLOYMENT = kube.DEPLOYMENT
MERGE_PATCH = "application/merge-patch+json"
# A Secret that does not exist: the controller exits at start-up; once it appears the hash changes.
MISSING = "missing"


def startup_view(data):
    """The start-up part of a ConfigMap's data, as Argo resolves it: (persistence, retentionPolicy).

    Settings a running controller re-reads (archiveLabelSelector) are left out: changing them needs no
    restart. ``data`` None (no ConfigMap) gives (None, None).
    """
    current = Current(data or {})
    persistence = model.canonical(model.PERSISTENCE, current.persistence)
    if persistence is not None:
        restart_keys = set(field.key for field in model.PERSISTENCE if field.restart)
        persistence = dict((key, value) for key, value in persistence.items() if key in restart_keys)
    return persistence, model.canonical(model.RETENTION, current.retention), current.persistence


def secret_names(persistence):
    """Names of the Secrets the controller reads credentials from at start-up, sorted."""
    if not persistence:
        return []
    return sorted(set(name for _option, name, _key in model.secret_refs(persistence) if name))


def settings_hash(persistence, retention, secrets):
    """Hex digest of the start-up view plus {Secret name: "uid/resourceVersion" or MISSING}."""
    text = json.dumps({"persistence": persistence, "retentionPolicy": retention, "secrets": secrets},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def live_hash(deployment):
    """The hash a Deployment's pod template was last rolled with (None when it has none)."""
    template = ((deployment or {}).get("spec") or {}).get("template") or {}
    return ((template.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)


class Rollout:
    """One Deployment's verdict: ``before`` (live annotation), ``after`` (the ConfigMap's hash), ``missing``."""

    def __init__(self, name, deployment, wanted):
        self.name, self.missing = name, deployment is None
        self.before, self.after = live_hash(deployment), wanted
        self.stale = not self.missing and self.before != wanted

    def as_result(self, restarted):
        return {"name": self.name, "exists": not self.missing, "running_hash": self.before,
                "stale": self.stale, "restarted": restarted}


class StartupSettings:
    """Reads the ConfigMap, its Secrets' identities and the Deployments; rolls the stale ones."""

    def __init__(self, kube_client, namespace, configmap):
        self.kube_client, self.namespace, self.configmap = kube_client, namespace, configmap

    def _read(self, what, path):
        return self.kube_client._read(what, path)  # pylint: disable=protected-access

    def secret_identity(self, name):
        secret = self._read("reading Secret %s/%s" % (self.namespace, name), kube.SECRET % (self.namespace, name))
        if secret is None:
            return MISSING
        meta = secret.get("metadata") or {}
        return "%s/%s" % (meta.get("uid"), meta.get("resourceVersion"))  # identity only, never data

    def wanted_hash(self):
        """(hash, persistence block as stored or None): what the Deployments should run with."""
        config_map = self.kube_client.read_config_map(self.namespace, self.configmap)
        persistence, retention, stored = startup_view(None if config_map is None else config_map.get("data"))
        secrets = dict((name, self.secret_identity(name)) for name in secret_names(stored))
        return settings_hash(persistence, retention, secrets), stored

    def verdicts(self, names, wanted):
        what = "reading Deployment %s/%s"
        return [Rollout(name, self._read(what % (self.namespace, name), DEPLOYMENT % (self.namespace, name)), wanted)
                for name in names]

    def roll(self, rollout):
        """Set the annotation: the pod template changes, so the Deployment rolls its pods."""
        what = "restarting Deployment %s/%s" % (self.namespace, rollout.name)
        body = {"spec": {"template": {"metadata": {"annotations": {ANNOTATION: rollout.after}}}}}
        try:
            self.kube_client.client.request("PATCH", DEPLOYMENT % (self.namespace, rollout.name), body=body,
                                            content_type=MERGE_PATCH, _request_timeout=kube.REQUEST_TIMEOUT)
        except (kube.ApiException, kube.HTTPError, OSError) as err:
            raise kube._explain(err, what)  # pylint: disable=protected-access


def reconcile(settings, names, restart, check_mode):
    """The module's result: roll each stale Deployment (unless ``restart`` is false or in check mode)."""
    wanted, _stored = settings.wanted_hash()
    rollouts = settings.verdicts(names, wanted)
    results, diff_before, diff_after = [], {}, {}
    for rollout in rollouts:
        restarted = restart and rollout.stale
        if restarted and not check_mode:
            settings.roll(rollout)
        results.append(rollout.as_result(restarted))
        if rollout.stale:
            diff_before[rollout.name] = {ANNOTATION: rollout.before}
            diff_after[rollout.name] = {ANNOTATION: rollout.after}
    stale = [r.name for r in rollouts if r.stale]
    return dict(
        changed=restart and bool(stale),
        settings_hash=wanted,
        stale=stale,
        missing=[r.name for r in rollouts if r.missing],
        deployments=results,
        diff={"before": json.dumps(diff_before, indent=2, sort_keys=True) + "\n",
              "after": json.dumps(diff_after, indent=2, sort_keys=True) + "\n"},
    )


def run_startup_settings(module, result):
    """The startup_settings module's run: compare the ConfigMap's start-up settings with what each Deployment runs with;
    roll out (record the new hash on the pod template) where they differ."""
    params = module.params
    settings = StartupSettings(kube.connect(module), params["namespace"], params["configmap"])
    result.update(reconcile(settings, params["deployments"], params["restart"], module.check_mode))
    if not module._diff:
        del result["diff"]
