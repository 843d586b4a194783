"""The fault tier (``make faults``): tests that kill or stop a piece of the local control plane on
purpose, then assert real state. They run after the integration tier, never beside it, since the
pieces they stop are the shared ones of the state dir. The integration fixtures apply here too."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def control_plane_state(_cluster_session):
    """The state dir of the shared cluster (to stop and restart its pieces)."""
    return _cluster_session
