# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What stands for a secret wherever one would be shown: results, error messages, diffs."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

MASK = "********"
