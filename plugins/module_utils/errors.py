# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one error base, and the one way every module of it runs and fails.

Each module's ``main`` builds its AnsibleModule and hands it to ``run_module`` with its run function,
``run_<module>(module, result)``, which lives in module_utils beside the logic it uses and fills ``result``.
An ``ArgoopsError`` becomes ``fail_json`` with the error's message, what ``result`` held when it was raised
(so a failure still says what the run had done) and the error's own details; anything else is a bug and ends
in Ansible's traceback.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ArgoopsError(Exception):
    """An error phrased for the person running the play: it names the option or the object and says what
    to do. Messages never carry a secret, so they are shown even where a role hides values with
    ``no_log``; ``details`` are further result fields (None values left out)."""

    def __init__(self, msg, **details):
        super(ArgoopsError, self).__init__(msg)
        self.details = dict((key, value) for key, value in details.items() if value is not None)


def run_module(module, run):
    """Run ``run(module, result)`` and exit with ``result``; turn an ArgoopsError into fail_json.

    ``fail_json`` and ``exit_json`` remove every value AnsibleModule knows as secret (no_log options and
    what a run added to ``module.no_log_values``, such as a k3d token) from everything they report.
    """
    result = {}
    try:
        run(module, result)
    except ArgoopsError as err:
        module.fail_json(msg=str(err), **dict(result, **err.details))
    module.exit_json(**result)
