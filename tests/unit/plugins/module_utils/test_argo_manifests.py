"""argo_manifests: what argo_install applies, computed from the real v4.0.5 release manifest.

The manifest is rendered from Argo's Go module by molecule/default/render_argo_manifests.sh (kustomize
build manifests/cluster-install, cached in ~/.cache/argoops-workflows). Every expected value below is
read from the manifest text or written by hand from Argo's release, not from the code under test.
"""
import hashlib
import os
import re
import subprocess

import pytest
import yaml

from ansible_collections.argoops.workflows.plugins.module_utils import argo_manifests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
RENDER = os.path.join(REPO, "molecule", "default", "render_argo_manifests.sh")
LABEL, ANNOTATION = "argoops.workflows/crds", "argoops.workflows/manifest-sha256"
ARGO_CRDS = {"clusterworkflowtemplates.argoproj.io", "cronworkflows.argoproj.io", "workflowartifactgctasks.argoproj.io",
             "workfloweventbindings.argoproj.io", "workflows.argoproj.io", "workflowtaskresults.argoproj.io",
             "workflowtasksets.argoproj.io", "workflowtemplates.argoproj.io"}


@pytest.fixture(scope="module")
def manifest():
    proc = subprocess.run(["bash", RENDER, "v4.0.5"], capture_output=True, text=True, check=False, timeout=1800)
    if proc.returncode != 0:
        pytest.fail("rendering Argo v4.0.5's manifests failed: %s" % proc.stderr[-2000:])
    with open(proc.stdout.strip(), encoding="utf-8") as handle:
        return handle.read()


def settings(**overrides):
    args = dict(namespace="argo-x", version="v4.0.5")
    args.update(overrides)
    return argo_manifests.Settings(**args)


def prepared(manifest, **overrides):
    return argo_manifests.prepare([manifest], settings(**overrides), LABEL, ANNOTATION)


def by_kind_name(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def deployment_container(objects, name):
    pod = by_kind_name(objects)[("Deployment", name)]["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == name)


def test_crds_are_split_out_labelled_and_hashed_by_their_original_text(manifest):
    crds, objects = prepared(manifest)
    assert {c["name"] for c in crds} == ARGO_CRDS
    assert all(o["kind"] != "CustomResourceDefinition" for o in objects)
    assert len(objects) == len(re.findall(r"(?m)^kind:", manifest)) - len(ARGO_CRDS)
    originals = {re.search(r"(?m)^  name: (\S+)", d).group(1): d
                 for d in ("\n" + manifest).split("\n---") if re.search(r"(?m)^kind: CustomResourceDefinition$", d)}
    for crd in crds:
        original = originals[crd["name"]]
        sha = hashlib.sha256(original.encode("utf-8")).hexdigest()
        # Only the metadata is parsed (the schemas are ~11 MB of YAML); the rest must be the original text.
        head = crd["text"].split("\nspec:", 1)[0]
        meta = yaml.safe_load(head)["metadata"]
        assert meta["labels"][LABEL] == "argo-workflows"
        assert meta["annotations"][ANNOTATION] == sha
        assert crd["key"] == crd["name"] + "@" + sha
        added = "    %s: argo-workflows\n" % LABEL, '    %s: "%s"\n' % (ANNOTATION, sha)
        assert all(crd["text"].count(line) == 1 for line in added)
        stripped = crd["text"]
        for line in added:
            stripped = stripped.replace(line, "")
        assert stripped.replace("  labels:\n", "", 1).replace("  annotations:\n", "", 1) == original


def test_namespaced_objects_and_binding_subjects_move_to_the_namespace(manifest):
    _crds, objects = prepared(manifest)
    for obj in objects:
        if obj["kind"] in ("ClusterRole", "ClusterRoleBinding", "PriorityClass"):
            assert "namespace" not in obj["metadata"], obj["metadata"]
        else:
            assert obj["metadata"]["namespace"] == "argo-x", obj["metadata"]
        for subject in obj.get("subjects") or []:
            assert subject["namespace"] == "argo-x"
    bindings = [o for o in objects if o["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    assert len(bindings) == 3 and all(b["subjects"] for b in bindings)


def test_latest_tags_are_pinned_and_auth_mode_set(manifest):
    assert "quay.io/argoproj/argocli:latest" in manifest  # what the release's kustomize output carries
    _crds, objects = prepared(manifest, server_auth_mode="server")
    server = deployment_container(objects, "argo-server")
    controller = deployment_container(objects, "workflow-controller")
    assert server["image"] == "quay.io/argoproj/argocli:v4.0.5"
    assert controller["image"] == "quay.io/argoproj/workflow-controller:v4.0.5"
    assert server["args"] == ["server", "--auth-mode=server"]
    assert not any(a.startswith("--executor-image") for a in controller.get("args") or [])
    services = [o for o in objects if o["kind"] == "Service"]
    assert [s["metadata"]["name"] for s in services] == ["argo-server"] and "type" not in services[0]["spec"]


def test_no_pinning_keeps_latest(manifest):
    _crds, objects = prepared(manifest, pin_images=False)
    assert deployment_container(objects, "argo-server")["image"] == "quay.io/argoproj/argocli:latest"


def test_image_registry_rewrites_argo_images_and_the_executor(manifest):
    _crds, objects = prepared(manifest, image_registry="registry.example.com/mirror/")
    assert deployment_container(objects, "argo-server")["image"] == "registry.example.com/mirror/argocli:v4.0.5"
    controller = deployment_container(objects, "workflow-controller")
    assert controller["image"] == "registry.example.com/mirror/workflow-controller:v4.0.5"
    assert controller["args"][-1] == "--executor-image=registry.example.com/mirror/argoexec:v4.0.5"


def test_expose_ui_makes_the_server_service_a_load_balancer(manifest):
    _crds, objects = prepared(manifest, expose_ui=True)
    assert by_kind_name(objects)[("Service", "argo-server")]["spec"]["type"] == "LoadBalancer"


def test_the_input_objects_are_not_modified(manifest):
    docs = [yaml.safe_load(d) for d in argo_manifests.split_documents([manifest]) if "\nkind: Deployment\n" in d]
    assert len(docs) == 2
    before = repr(docs)
    for doc in docs:
        argo_manifests.rewrite(doc, settings(image_registry="r.example.com", server_auth_mode="sso"))
    assert repr(docs) == before


@pytest.mark.parametrize("args, expected", [
    (["server", "--auth-mode", "client", "--secure"], ["server", "--secure", "--auth-mode=sso"]),
    (["server", "--auth-mode=client", "--auth-mode=server"], ["server", "--auth-mode=sso"]),
    (None, ["--auth-mode=sso"]),
])
def test_auth_mode_replaces_every_form_of_the_flag(args, expected):
    spec = {"name": "argo-server", "image": "quay.io/argoproj/argocli:v4.0.5"}
    if args is not None:
        spec["args"] = args
    out = argo_manifests.container(spec, settings(server_auth_mode="sso"), is_server=True, is_controller=False)
    assert out["args"] == expected


def test_executor_image_flag_with_a_separate_value_is_replaced_whole():
    spec = {"name": "workflow-controller", "image": "quay.io/argoproj/workflow-controller:v4.0.5",
            "args": ["--executor-image", "quay.io/argoproj/argoexec:v4.0.5", "--namespaced"]}
    out = argo_manifests.container(spec, settings(image_registry="r.example.com"), is_server=False, is_controller=True)
    assert out["args"] == ["--namespaced", "--executor-image=r.example.com/argoexec:v4.0.5"]


def test_only_argoproj_images_get_the_registry():
    spec = {"name": "sidecar", "image": "docker.io/library/busybox:1.36"}
    out = argo_manifests.container(spec, settings(image_registry="r.example.com"), False, False)
    assert out["image"] == "docker.io/library/busybox:1.36"


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
%s  name: things.example.com
spec:
  group: example.com
"""


@pytest.mark.parametrize("existing, kept", [
    ("", {}),
    ("  labels:\n    app: x\n", {"labels": {"app": "x"}}),
    ("  annotations:\n    a: b\n", {"annotations": {"a": "b"}}),
])
def test_block_style_metadata_gets_label_and_hash_and_keeps_its_own(existing, kept):
    entry = argo_manifests.crd_entry(CRD % existing, LABEL, ANNOTATION)
    meta = yaml.safe_load(entry["text"])["metadata"]
    sha = entry["key"].split("@")[1]
    assert meta["name"] == "things.example.com"
    assert meta["labels"] == dict(kept.get("labels", {}), **{LABEL: "argo-workflows"})
    assert meta["annotations"] == dict(kept.get("annotations", {}), **{ANNOTATION: sha})


def test_flow_style_labels_are_left_alone_so_that_crd_is_always_applied():
    chunk = CRD % "  labels: {app: x}\n"
    entry = argo_manifests.crd_entry(chunk, LABEL, ANNOTATION)
    assert entry["text"] == chunk
    assert argo_manifests.crds_to_apply([entry], [], ANNOTATION) == ["things.example.com"]


def test_crds_to_apply_compares_name_and_hash_of_the_live_metadata():
    crds = [argo_manifests.crd_entry(CRD.replace("things", name) % "", LABEL, ANNOTATION) for name in ("a", "b", "c")]
    sha = {c["name"]: c["key"].split("@")[1] for c in crds}
    live = [{"metadata": {"name": "a.example.com", "annotations": {ANNOTATION: sha["a.example.com"]}}},
            {"metadata": {"name": "b.example.com", "annotations": {ANNOTATION: "0" * 64}}},  # another text
            {"metadata": {"name": "z.example.com", "annotations": {ANNOTATION: sha["a.example.com"]}}}]
    assert argo_manifests.crds_to_apply(crds, live, ANNOTATION) == ["b.example.com", "c.example.com"]


def test_bad_manifests_fail_naming_src(tmp_path):
    with pytest.raises(argo_manifests.ManifestError, match="src: no manifest file at"):
        argo_manifests.manifest_files(str(tmp_path / "missing.yaml"))
    with pytest.raises(argo_manifests.ManifestError, match=r"src: no \*.yaml or \*.yml file in directory"):
        argo_manifests.manifest_files(str(tmp_path))
    with pytest.raises(argo_manifests.ManifestError, match="src: a manifest document is not valid YAML"):
        argo_manifests.prepare(["kind: [unclosed\n"], settings(), LABEL, ANNOTATION)
    with pytest.raises(argo_manifests.ManifestError, match="not a Kubernetes object"):
        argo_manifests.prepare(["- a\n- b\n"], settings(), LABEL, ANNOTATION)


def test_a_directory_is_read_in_name_order(tmp_path):
    for name in ("b.yml", "a.yaml", "notes.txt"):
        (tmp_path / name).write_text("kind: ConfigMap\n")
    assert [os.path.basename(p) for p in argo_manifests.manifest_files(str(tmp_path))] == ["a.yaml", "b.yml"]
