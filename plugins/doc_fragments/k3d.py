# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The k3d executable, shared by every module that runs k3d.
    DOCUMENTATION = r"""
options:
  k3d_binary:
    description:
      - Path of the C(k3d) executable to run.
      - When not set, C(k3d) is looked up in E(PATH).
      - k3d v5.5 or newer is required (for C(k3d version -o json) and C(k3d.io/v1alpha5) configs).
    type: path
requirements:
  - k3d v5.5 or newer (tested with v5.9) and a Docker engine it can reach, on the managed host.
notes:
  - All state is read from C(k3d cluster list -o json). When that fails (Docker down, permission denied)
    the module fails with k3d's message; it never concludes that a cluster is absent from a failing command.
  - k3d is run with E(LOG_COLORS=false) so its messages are readable in errors.
  - Cluster tokens (C(K3S_TOKEN) in node environments, the C(k3d.cluster.token) label, C(clusterToken)) are
    masked in every result and error.
"""
