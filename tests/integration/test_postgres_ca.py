"""Issue 13, TLS end to end: argo_persistence gives the controller and argo-server the database's CA.

test_tls.py proves Argo's real controller reaches the TLS PostgreSQL with verify-full when PGSSLROOTCERT
names the test CA (and fails with another CA). Here the role provides exactly that to the Deployments, as
a user with a private CA or Amazon RDS' bundle needs: run as Ansible runs it, against the real
kube-apiserver, it writes the CA into a ConfigMap, mounts it with PGSSLROOTCERT into both Deployments, does
nothing on a re-run, keeps the mount when argo_install re-applies the Deployments with its own field
manager (server-side apply), and rolls the pods out when the certificate changes.
"""
from __future__ import annotations

import hashlib

import pytest

from persistence_support import api, ns  # noqa: F401  pylint: disable=unused-import
from test_startup_settings import DEPLOYMENTS, create_deployment, run_playbook
from test_startup_settings import apps  # noqa: F401  pylint: disable=unused-import

CA_TASK = "Mount the CA certificate into workflow-controller and argo-server"
MOUNT = "/etc/argoops/postgres-ca"
ANNOTATION = "workflows.argoops.io/postgres-ca-sha256"


def ca_state(apps, namespace, name):  # pylint: disable=redefined-outer-name
    """(CA annotation, PGSSLROOTCERT, mount path, ConfigMap of the volume, generation) of a Deployment."""
    deployment = apps.read_namespaced_deployment(name, namespace)
    pod = deployment.spec.template
    container = next(c for c in pod.spec.containers if c.name == name)
    env = {e.name: e.value for e in container.env or []}
    mounts = {m.name: m.mount_path for m in container.volume_mounts or []}
    volumes = {v.name: v.config_map.name for v in pod.spec.volumes or [] if v.config_map}
    return ((pod.metadata.annotations or {}).get(ANNOTATION), env.get("PGSSLROOTCERT"),
            mounts.get("argoops-postgres-ca"), volumes.get("argoops-postgres-ca"), deployment.metadata.generation)


def apply_as_argo_install(apps, namespace, name):  # pylint: disable=redefined-outer-name
    """What argo_install's server-side apply of the release's Deployment sends (its own fields only)."""
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": f"quay.io/argoproj/{name}:v4.0.5"}]}}}}
    apps.patch_namespaced_deployment(name, namespace, body, field_manager="argoops.workflows", force=True,
                                     _content_type="application/apply-patch+yaml")


@pytest.fixture
def ca_pem(control_plane):
    with open(control_plane.postgres.ca_cert, encoding="utf-8") as handle:
        return handle.read()


def test_ca_is_mounted_kept_and_rolled_out_on_change(control_plane, api, ns, apps, tmp_path, ca_pem):
    kubeconfig, postgres = control_plane.kubeconfig, control_plane.postgres
    for name in DEPLOYMENTS:
        create_deployment(apps, ns, name)
        apply_as_argo_install(apps, ns, name)
    tls = dict(argo_persistence_postgresql_ssl_mode="verify-full", argo_persistence_postgresql_ca_cert=ca_pem)
    role = "argoops.workflows.argo_persistence"

    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, role, **tls)
    assert stats["failures"] == 0 and tasks[CA_TASK]["changed"] is True, output
    assert api.read_namespaced_config_map("argo-postgres-ca", ns).data == {"ca.crt": ca_pem}
    sha = hashlib.sha256(ca_pem.encode()).hexdigest()
    first = {name: ca_state(apps, ns, name) for name in DEPLOYMENTS}
    for name in DEPLOYMENTS:
        assert first[name][:4] == (sha, MOUNT + "/ca.crt", MOUNT, "argo-postgres-ca"), first[name]

    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, role, **tls)
    assert stats["failures"] == 0 and stats["changed"] == 0, output
    assert {name: ca_state(apps, ns, name) for name in DEPLOYMENTS} == first

    for name in DEPLOYMENTS:  # argo_install runs again (e.g. an upgrade): the mount stays
        apply_as_argo_install(apps, ns, name)
    assert {name: ca_state(apps, ns, name) for name in DEPLOYMENTS} == first

    other = ca_pem.replace("-----END CERTIFICATE-----", "-----END CERTIFICATE-----\n# rotated bundle")
    rotated_tls = dict(tls)
    rotated_tls["argo_persistence_postgresql_ca_cert"] = other
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, role, **rotated_tls)
    assert stats["failures"] == 0 and tasks[CA_TASK]["changed"] is True, output
    rotated = {name: ca_state(apps, ns, name) for name in DEPLOYMENTS}
    for name in DEPLOYMENTS:
        assert rotated[name][0] == hashlib.sha256(other.encode()).hexdigest()
        assert rotated[name][4] == first[name][4] + 1  # a new pod template: the pods roll out with the new CA
    assert api.read_namespaced_config_map("argo-postgres-ca", ns).data == {"ca.crt": other}


def test_without_a_ca_nothing_is_mounted(control_plane, api, ns, apps, tmp_path):
    for name in DEPLOYMENTS:
        create_deployment(apps, ns, name)
    stats, tasks, output = run_playbook(tmp_path, control_plane.kubeconfig, ns, control_plane.postgres,
                                        "argoops.workflows.argo_persistence")
    assert stats["failures"] == 0 and tasks[CA_TASK].get("skipped") is True, output
    assert all(ca_state(apps, ns, name)[:4] == (None, None, None, None) for name in DEPLOYMENTS)


@pytest.mark.parametrize("with_ca", [False, True])
def test_archive_check_names_the_tls_setup_when_no_controller_archives(
        control_plane, argo_crds, api, ns, apps, tmp_path, ca_pem, with_ca):
    """No controller runs here (kwok), so the check workflow never finishes: the explanation must show the
    TLS settings and say what to check for them (the CA missing, or the CA mounted being wrong)."""
    kubeconfig, postgres = control_plane.kubeconfig, control_plane.postgres
    for name in DEPLOYMENTS:
        create_deployment(apps, ns, name)
    tls = dict(argo_persistence_postgresql_ssl_mode="verify-full")
    if with_ca:
        tls["argo_persistence_postgresql_ca_cert"] = ca_pem
    stats, _tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.argo_persistence",
                                         **tls)
    assert stats["failures"] == 0, output
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.archive_check",
                                        archive_check_workflow="podless", archive_check_server=False,
                                        archive_check_timeout=3)
    assert stats["failures"] == 1, output
    explanation = tasks["Explain the failure with the evidence found"]["msg"]
    if with_ca:
        assert f"TLS to the database: sslMode=verify-full, controller's CA file (PGSSLROOTCERT): {MOUNT}/ca.crt" \
            in explanation, explanation
        assert "a wrong CA or a host name the certificate does not list" in explanation
    else:
        assert "controller's CA file (PGSSLROOTCERT): none mounted" in explanation, explanation
        assert "no CA is mounted into it (PGSSLROOTCERT unset)" in explanation
