# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of persistence_config (``run_persistence_config``, handed to ``errors.run_module`` by the module's
``main``): validate the options for the deployed Argo, check the Secret keys the controller reads at start-up,
then apply the ConfigMap plan (argo_configmap.Plan) under optimistic concurrency (kube.update_config_map)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config, argo_configmap, kube
from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import LayoutError
from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError

# Argo's install manifests name both the Deployment and its container like this.
CONTROLLER = "workflow-controller"


def deployed_version(module, kube_client, namespace):
    """(version text, parsed) from the controller Deployment's image tag; (None, None) when unknown."""
    text = None
    try:
        text = kube_client.deployment_image_tag(namespace, CONTROLLER, CONTROLLER)
    except kube.KubeError as err:
        module.warn("the controller version could not be read: %s" % err)
    version = argo_config.parse_version(text)
    return (text if version else None), version


def check_secrets(kube_client, namespace, persistence):
    """Fail before writing when a Secret key the controller reads at start-up is missing."""
    secrets = {}  # each Secret is read once, however many of its keys are named
    for option, name, key in argo_config.secret_refs(persistence):
        if name not in secrets:
            secrets[name] = kube_client.secret_keys(namespace, name)
        keys = secrets[name]
        if keys is None and not kube_client.namespace_exists(namespace):
            raise kube.KubeError("%s: namespace %s does not exist, so neither does Secret %s; create the namespace "
                                 "and the Secret first, or check the namespace option" % (option, namespace, name))
        if keys is None:
            raise kube.KubeError("%s: Secret %s/%s does not exist; the controller would exit at start-up. Create it "
                                 "(or set validate_secrets: false if it is created later)" % (option, namespace, name))
        if key not in keys:
            raise kube.KubeError("%s: Secret %s/%s has no key %r (it has: %s); the controller would exit at start-up"
                                 % (option, namespace, name, key, ", ".join(sorted(keys)) or "no keys"))


def run_persistence_config(module, result):
    """persistence_config: validate the options for the deployed Argo, check the Secrets, then merge the
    managed blocks into the ConfigMap under optimistic concurrency (nothing written in check mode)."""
    params = module.params
    present = params["state"] == "present"
    options = dict((option, params[option]) for option in argo_config.argument_spec())
    version_text = params["argo_version"]
    version = argo_config.parse_version(version_text)
    if version_text and version is None:
        raise ArgoopsError("argo_version: %r is not a version like v4.0.5" % version_text)
    desired = argo_config.desired_from_options(options) if present else argo_config.Desired(None, None, [])
    kube_client = kube.connect(module)
    if not version_text:
        version_text, version = deployed_version(module, kube_client, params["namespace"])
    if present:
        desired.for_version(version)
        if params["validate_secrets"]:
            check_secrets(kube_client, params["namespace"], desired.persistence)

    def plan_for(data):
        plan = argo_configmap.Plan(data, desired, params["state"], version)
        if plan.other_problems and params["foreign_key_errors"] == "fail":
            raise LayoutError("Argo would reject the ConfigMap %s/%s (or this module cannot tell that it would "
                              "not) because of keys this module does not manage; nothing was written (set "
                              "foreign_key_errors: warn to write anyway): %s"
                              % (params["namespace"], params["name"], "; ".join(plan.other_problems)))
        return plan

    plan = kube_client.update_config_map(params["namespace"], params["name"], plan_for,
                                         check_mode=module.check_mode).plan
    for warning in plan.warnings:
        module.warn(warning)
    for problem in plan.other_problems:
        module.warn("Argo rejects the ConfigMap until this is fixed (foreign_key_errors=warn): %s" % problem)
    result.update(changed=plan.changed, config=plan.persistence, retention_policy=plan.retention,
                  restart_required=bool(plan.restart), restart_settings=plan.restart, argo_version=version_text)
    if module._diff:
        result["diff"] = plan.diff
