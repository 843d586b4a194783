# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libpq's vocabulary, shared by both sides of the collection: the PostgreSQL modules' ``ssl_mode`` and the
controller's ``persistence.postgresql.sslMode`` (Argo hands it to its driver as libpq's ``sslmode``).
No imports: the Argo configuration model uses it without loading psycopg."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Weakest first, as libpq documents them.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
