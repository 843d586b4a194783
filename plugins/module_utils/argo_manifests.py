# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo's release manifests, made ready for argo_install: split, rewritten, and compared with the cluster.

The release manifest is ~11 MB, nearly all of it the eight CRDs' OpenAPI schemas. CRDs are therefore
handled as text (never parsed here): each gets this collection's label and, in an annotation, the sha256 of
the manifest text it comes from, so a later run can tell from the live CRDs' metadata alone that they were
applied from this very text and skip them. The other objects (a few KB) are parsed and changed only where
the role decides: namespace, binding subjects, argo-server's --auth-mode, the UI Service type, ':latest'
tags and the image registry (including the executor image the controller gives workflow pods).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import hashlib
import os
import re

from ansible_collections.argoops.workflows.plugins.module_utils import kube
from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError

try:
    import yaml
    SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: ~10x faster
except ImportError:  # pragma: no cover - PyYAML is a requirement of the collection (requirements.txt)
    yaml = SAFE_LOADER = None

CLUSTER_SCOPED_KINDS = ("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                        "PriorityClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
CRD_PATTERN = re.compile(r"^kind:\s*CustomResourceDefinition\s*$", re.M)
_CRD_NAME = re.compile(r"^  name: *(\S+)", re.M)
# Only block-style labels/annotations can be extended as text; a flow-style one is left alone (that CRD
# then carries no hash and is applied on every run).
_FLOW_STYLE_MARKS = re.compile(r"^  (labels|annotations): *\S", re.M)
_PINNABLE = re.compile(r".*/argoproj/[^:]+:latest$")
_ARGO_IMAGE = re.compile(r"(.*/)?argoproj/[^/]+$")


class ManifestError(ArgoopsError):
    """A manifest that cannot be used, phrased for the person running the play."""


def manifest_files(src):
    """The files ``src`` names: itself, or a directory's *.yaml/*.yml in name order."""
    if os.path.isdir(src):
        files = sorted(glob.glob(os.path.join(src, "*.yaml")) + glob.glob(os.path.join(src, "*.yml")))
        if not files:
            raise ManifestError("src: no *.yaml or *.yml file in directory %s" % src)
        return files
    if not os.path.isfile(src):
        raise ManifestError("src: no manifest file at %s (a file, or a directory of *.yaml/*.yml)" % src)
    return [src]


def split_documents(texts):
    """The documents of the concatenated files, as text chunks (each keeps the newline before it, so the
    hashes match those earlier versions of the role recorded on the CRDs)."""
    return ("\n" + "\n---\n".join(texts)).split("\n---")


def crd_entry(chunk, label, hash_annotation):
    """{name, key, text} of a CRD chunk: ``text`` carries ``label`` and the chunk's sha256 in
    ``hash_annotation``; ``key`` is NAME@SHA, what a CRD applied from this very text carries."""
    sha = hashlib.sha256(chunk.encode("utf-8")).hexdigest()
    found = _CRD_NAME.search(chunk)
    if not found:
        raise ManifestError("src: a CustomResourceDefinition without metadata.name: %s" % chunk.strip()[:200])
    name, text = found.group(1), chunk
    if not _FLOW_STYLE_MARKS.search(chunk):
        for key, line in (("labels", "    %s: argo-workflows\n" % label),
                          ("annotations", '    %s: "%s"\n' % (hash_annotation, sha))):
            existing = re.compile(r"^  %s:[ \t]*\n" % key, re.M)
            if existing.search(text):
                text = existing.sub(lambda m, k=key, v=line: "  %s:\n%s" % (k, v), text, count=1)
            else:
                text = re.sub(r"^metadata:[ \t]*\n", lambda m, k=key, v=line: "metadata:\n  %s:\n%s" % (k, v),
                              text, count=1, flags=re.M)
    return dict(name=name, key="%s@%s" % (name, sha), text=text)


class Settings:
    """What argo_install decides about the objects (the role's variables, by their module option names)."""

    def __init__(self, namespace, version, server_name="argo-server", controller_name="workflow-controller",
                 server_auth_mode="client", expose_ui=False, pin_images=True, image_registry="",
                 cluster_scoped_kinds=CLUSTER_SCOPED_KINDS):
        self.namespace, self.version = namespace, version
        self.server_name, self.controller_name = server_name, controller_name
        self.server_auth_mode, self.expose_ui = server_auth_mode, expose_ui
        self.pin_images, self.image_registry = pin_images, image_registry.rstrip("/")
        self.cluster_scoped_kinds = tuple(cluster_scoped_kinds)


def _without_flag(args, flag):
    """``args`` without ``flag VALUE`` and ``flag=VALUE``."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == flag:
            skip = True
        elif not arg.startswith(flag + "="):
            out.append(arg)
    return out


def container(spec, settings, is_server, is_controller):
    """A copy of one container of a Deployment, with the image and argument changes the settings ask for."""
    out = dict(spec)
    image = out.get("image") or ""
    if settings.pin_images and _PINNABLE.match(image):
        image = out["image"] = image[:-len("latest")] + settings.version
    if settings.image_registry and _ARGO_IMAGE.match(image):
        out["image"] = settings.image_registry + "/" + image.rsplit("/", 1)[-1]
    if is_controller and settings.image_registry:
        out["args"] = _without_flag(out.get("args") or [], "--executor-image") + [
            "--executor-image=%s/argoexec:%s" % (settings.image_registry, settings.version)]
    if is_server:
        out["args"] = _without_flag(out.get("args") or [], "--auth-mode") + [
            "--auth-mode=" + settings.server_auth_mode]
    return out


def rewrite(doc, settings):
    """A copy of one non-CRD object as argo_install applies it."""
    out = dict(doc)
    kind, name = out.get("kind"), (out.get("metadata") or {}).get("name")
    if kind not in settings.cluster_scoped_kinds:
        out["metadata"] = dict(out.get("metadata") or {}, namespace=settings.namespace)
    if kind in ("RoleBinding", "ClusterRoleBinding"):
        out["subjects"] = [dict(s, namespace=settings.namespace) for s in out.get("subjects") or []]
    if kind == "Deployment":
        pod = out["spec"]["template"]["spec"]
        containers = [container(c, settings, name == settings.server_name and c.get("name") == settings.server_name,
                                name == settings.controller_name and c.get("name") == settings.controller_name)
                      for c in pod.get("containers") or []]
        out["spec"] = dict(out["spec"], template=dict(out["spec"]["template"], spec=dict(pod, containers=containers)))
    if kind == "Service" and name == settings.server_name and settings.expose_ui:
        out["spec"] = dict(out.get("spec") or {}, type="LoadBalancer")
    return out


def prepare(texts, settings, label, hash_annotation):
    """(crds, objects) of the manifest texts: CRD entries (see crd_entry) and rewritten objects."""
    crds, objects = [], []
    for chunk in split_documents(texts):
        if CRD_PATTERN.search(chunk):
            crds.append(crd_entry(chunk, label, hash_annotation))
            continue
        try:
            docs = list(yaml.load_all(chunk, Loader=SAFE_LOADER))  # nosec - a safe loader
        except yaml.YAMLError as err:
            raise ManifestError("src: a manifest document is not valid YAML: %s" % err)
        for doc in docs:
            if not doc:
                continue
            if not isinstance(doc, dict) or "kind" not in doc:
                raise ManifestError("src: a manifest document is not a Kubernetes object: %s" % str(doc)[:200])
            objects.append(rewrite(doc, settings))
    return crds, objects


def crds_to_apply(crds, live, hash_annotation):
    """Names of the manifest's CRDs not applied from their current text. ``live`` is the metadata of the
    CRDs carrying this collection's label (PartialObjectMetadata: no spec, no status). A CRD carrying the
    hash was applied by argo_install, which waits for Established after each apply; CRDs become Established
    on their own, so re-applying could not help one that is not (argo_install_reapply_crds forces it)."""
    current = set("%s@%s" % (m["metadata"]["name"], (m["metadata"].get("annotations") or {}).get(hash_annotation, ""))
                  for m in live)
    return [crd["name"] for crd in crds if crd["key"] not in current]


def read_manifests(src):
    texts = []
    for path in manifest_files(src):
        try:
            with open(path, encoding="utf-8") as handle:
                texts.append(handle.read())
        except (OSError, UnicodeDecodeError) as err:
            raise ManifestError("src: cannot read %s: %s" % (path, err))
    return texts


def run_argo_manifests_info(module, result):
    """argo_manifests_info: the release manifests made ready to apply, and which CRDs differ from the live ones."""
    params = module.params
    settings = Settings(
        params["namespace"], params["version"], params["server_name"], params["controller_name"],
        params["server_auth_mode"], params["expose_ui"], params["pin_images"], params["image_registry"],
        params["cluster_scoped_kinds"])
    crds, objects = prepare(read_manifests(params["src"]), settings, params["crd_label"],
                            params["crd_hash_annotation"])
    names = [crd["name"] for crd in crds]
    if params["compare_live"] and crds:
        live = kube.connect(module).list_metadata("listing the CRDs labelled %s" % params["crd_label"],
                                                  kube.CRDS, label_selector=params["crd_label"])
        names = crds_to_apply(crds, live, params["crd_hash_annotation"])
    result.update(
        changed=False, crds=[dict(name=c["name"], key=c["key"]) for c in crds], crds_to_apply=names,
        crd_manifest="\n---\n".join(c["text"] for c in crds if c["name"] in names), objects=objects,
        deployments=[o["metadata"]["name"] for o in objects if o.get("kind") == "Deployment"])
