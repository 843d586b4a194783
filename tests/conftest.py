"""Make ``ansible_collections.argoops.workflows`` importable for pytest.

`make layout` links this checkout into .build/collections/ansible_collections/argoops/workflows;
``ansible_collections`` is a namespace package, so that tree merges with the collections shipped in
the ``ansible`` package (kubernetes.core, community.postgresql) that the venv already provides.
"""
import os
import sys

COLLECTIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".build", "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
