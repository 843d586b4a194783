"""The local control plane used by the integration tier: real PostgreSQL 15, etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok and Argo's workflow-controller as local processes.

Shared by the command-line entry points (``cluster.py``, ``argo_controller.py``) and the pytest
fixtures in ``tests/integration/conftest.py``.
"""
