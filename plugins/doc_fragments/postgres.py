# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # PostgreSQL connection options of archive_db, archive_info and archive_prune
    # (plugins/module_utils/pg.py connection_argument_spec). Names follow community.postgresql.
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host running the database.
      - Empty means the libpq default (E(PGHOST) or the local Unix socket).
    type: str
    default: ''
  login_port:
    description:
      - Database port to connect to.
    type: int
    default: 5432
  login_user:
    description:
      - The role this module logs in as.
    type: str
    default: postgres
  login_password:
    description:
      - The password of O(login_user).
      - Empty means the libpq default (E(PGPASSWORD) or C(~/.pgpass)). Never shown in output or errors.
    type: str
    default: ''
  login_db:
    description:
      - The database to connect to.
    type: str
    default: postgres
  ssl_mode:
    description:
      - Whether and how strictly TLS is negotiated with the server (libpq C(sslmode)).
      - See U(https://www.postgresql.org/docs/current/libpq-ssl.html) for the modes.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description:
      - File with the certificate authority certificate(s) the server certificate must be signed by
        (libpq C(sslrootcert)); used with O(ssl_mode=verify-ca) or O(ssl_mode=verify-full).
    type: path
    aliases: [ssl_rootcert]
  ssl_cert:
    description:
      - Client certificate file (libpq C(sslcert)).
    type: path
  ssl_key:
    description:
      - Private key file of the client certificate (libpq C(sslkey)).
    type: path
  connect_timeout:
    description:
      - Seconds to wait for the server to answer before failing (libpq C(connect_timeout)); V(0) waits forever.
    type: int
    default: 10
  connect_params:
    description:
      - Further libpq connection parameters, for example C(target_session_attrs) or C(options).
      - They take precedence over the options above.
    type: dict
    default: {}
notes:
  - Connection failures (unreachable server, bad credentials, missing database) name the user, host, port
    and database, never the password.
  - All modules of the C(argoops.workflows.postgresql) action group take these options, so they can be set
    once with C(module_defaults).
requirements:
  - psycopg >= 3.1 (C(pip install "psycopg[binary]")) on the host that runs the module
'''
