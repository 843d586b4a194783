# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runs of the modules that read or write Argo's objects through the API server (persistence_config,
startup_settings, argo_manifests_info, argo_server_archive_info): ``run_<module>(module, result)``, handed
to ``errors.run_module`` by each module's ``main``. The rules live in argo_config / argo_configmap,
startup_settings, argo_manifests and argo_server; the API calls in kube."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.argoops.workflows.plugins.module_utils import (
    argo_config, argo_configmap, argo_manifests, argo_server, kube, startup_settings)
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


def run_startup_settings(module, result):
    """startup_settings: compare the ConfigMap's start-up settings with what each Deployment runs with;
    roll out (record the new hash on the pod template) where they differ."""
    params = module.params
    settings = startup_settings.StartupSettings(kube.connect(module), params["namespace"], params["configmap"])
    result.update(startup_settings.reconcile(settings, params["deployments"], params["restart"], module.check_mode))
    if not module._diff:
        del result["diff"]


def read_manifests(src):
    texts = []
    for path in argo_manifests.manifest_files(src):
        try:
            with open(path, encoding="utf-8") as handle:
                texts.append(handle.read())
        except (OSError, UnicodeDecodeError) as err:
            raise argo_manifests.ManifestError("src: cannot read %s: %s" % (path, err))
    return texts


def run_argo_manifests_info(module, result):
    """argo_manifests_info: the release manifests made ready to apply, and which CRDs differ from the live ones."""
    params = module.params
    settings = argo_manifests.Settings(
        params["namespace"], params["version"], params["server_name"], params["controller_name"],
        params["server_auth_mode"], params["expose_ui"], params["pin_images"], params["image_registry"],
        params["cluster_scoped_kinds"])
    crds, objects = argo_manifests.prepare(read_manifests(params["src"]), settings, params["crd_label"],
                                           params["crd_hash_annotation"])
    names = [crd["name"] for crd in crds]
    if params["compare_live"] and crds:
        live = kube.connect(module).list_metadata("listing the CRDs labelled %s" % params["crd_label"],
                                                  kube.CRDS, label_selector=params["crd_label"])
        names = argo_manifests.crds_to_apply(crds, live, params["crd_hash_annotation"])
    result.update(
        changed=False, crds=[dict(name=c["name"], key=c["key"]) for c in crds], crds_to_apply=names,
        crd_manifest="\n---\n".join(c["text"] for c in crds if c["name"] in names), objects=objects,
        deployments=[o["metadata"]["name"] for o in objects if o.get("kind") == "Deployment"])


def run_argo_server_archive_info(module, result):
    """argo_server_archive_info: ask argo-server's archive API (with a token, or one for a service account)."""
    result["via"] = module.params["server_url"] or "kubernetes-service-proxy"
    token = module.params["token"] or argo_server.token_for(module)
    status, body = argo_server.ask(module, token)
    result.update(changed=False, status=status, workflows=argo_server.summarize_list(body))
