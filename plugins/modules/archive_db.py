#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: archive_db
short_description: Prepare and inspect the PostgreSQL database of Argo's workflow archive
version_added: 0.1.0
description:
  - Ensures the database Argo's workflow-controller archives into, and a dedicated login role for the
    controller with exactly the privileges Argo needs, CONNECT on the database and USAGE and CREATE on schema
    C(public) (PostgreSQL 15 and later no longer grant CREATE there by default). The role is never a
    superuser and gets neither CREATEDB nor CREATEROLE; other database privileges granted to it directly
    (CREATE, TEMPORARY) are revoked.
  - Decides what to change by reading the catalogs (C(pg_database), C(pg_roles), C(pg_authid), the access
    control lists), so a second run reports no change.
  - Returns preflight facts on every run, in check mode too, the server version, whether the role has the
    needed privileges, the archive schema status (C(schema_history) version, archive tables) and the
    archived rows per cluster name and instance id.
  - Fails on PostgreSQL older than 9.4 and on CockroachDB, which Argo's migrations do not support.
author:
  - argoops maintainers (@argoops)
options:
  name:
    description:
      - Name of the archive database (C(persistence.postgresql.database) in the controller's configuration).
      - Any characters (the name is always quoted), but not empty, no NUL, at most 63 bytes in UTF-8
        (PostgreSQL would silently truncate a longer name).
    type: str
    required: true
  user:
    description:
      - The role the workflow-controller logs in as. Leave it out to manage or inspect only the database.
      - Must not be O(login_user), and must not be an existing superuser.
      - The same name rules as O(name); PostgreSQL also reserves V(public), V(none) and names starting with V(pg_).
    type: str
  password:
    description:
      - Password of O(user). Required when the role does not exist yet.
      - Sent to the server already hashed (SCRAM-SHA-256 or MD5, per the server's C(password_encryption)),
        so it never appears in statements or server logs.
    type: str
  update_password:
    description:
      - V(always) sets O(password) when the stored one differs. A superuser O(login_user) compares it with
        the verifier in C(pg_authid); otherwise the module logs in as O(user) with O(password) (and with a
        wrong one, to make sure the server checks passwords). When that cannot tell, the password is set
        and the module warns.
      - V(on_create) only sets the password when the role is created.
    type: str
    default: always
    choices: [always, on_create]
  state:
    description:
      - V(present) ensures the database, the role and the privileges.
      - V(absent) drops what O(drop_database) and O(drop_role) ask for, and nothing else.
    type: str
    default: present
    choices: [present, absent]
  drop_database:
    description:
      - With O(state=absent), drop the database and every archived workflow in it.
    type: bool
    default: false
  drop_role:
    description:
      - With O(state=absent), drop the role O(user). Its privileges on the database are revoked first;
        it cannot be dropped while it still owns Argo's tables, so drop the database too or reassign them.
    type: bool
    default: false
extends_documentation_fragment:
  - argoops.workflows.postgres
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Compares the catalogs with the wanted state and reports what would change, writing nothing.
  diff_mode:
    support: full
    details: Shows database, role attributes and privileges before and after; passwords are masked.
  platform:
    platforms: posix
notes:
  - O(login_user) needs CREATEDB and CREATEROLE (or to be a superuser) and connects to O(login_db) (the
    maintenance database, V(postgres) by default) to create the database; the module also connects to
    O(name) to grant the schema privileges and to read the archive status.
  - Argo's controller creates and migrates the archive tables itself on start-up; this module does not.
seealso:
  - module: argoops.workflows.archive_info
  - module: argoops.workflows.archive_prune
  - module: community.postgresql.postgresql_db
'''

EXAMPLES = r'''
- name: Database and least-privilege role for Argo's archive
  argoops.workflows.archive_db:
    login_host: db.example.com
    login_user: admin
    login_password: "{{ db_admin_password }}"
    ssl_mode: verify-full
    ca_cert: /etc/ssl/certs/db-ca.pem
    name: argo
    user: argo
    password: "{{ argo_db_password }}"
  register: archive

- name: Stop if the role could not create Argo's tables
  ansible.builtin.assert:
    that: archive.privileges.sufficient
    fail_msg: "{{ archive.privileges }}"

- name: Only report (server version, schema version, rows per cluster)
  argoops.workflows.archive_db:
    login_user: admin
    login_password: "{{ db_admin_password }}"
    name: argo
  check_mode: true
  register: facts

- name: Remove the archive database and the controller's role
  argoops.workflows.archive_db:
    login_user: admin
    login_password: "{{ db_admin_password }}"
    name: argo
    user: argo
    state: absent
    drop_database: true
    drop_role: true
'''

RETURN = r'''
actions:
  description: What was changed (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create_database, create_role, grant_connect, grant_schema]
server:
  description: The PostgreSQL server.
  returned: always
  type: dict
  sample: {version: PostgreSQL 15.18 (Debian 15.18-0+deb12u1), version_num: 150018, cockroachdb: false}
database:
  description: The archive database as found after the run (before it, in check mode).
  returned: always
  type: dict
  sample: {name: argo, exists: true, owner: admin}
role:
  description: Attributes of O(user) (null when O(user) is not given).
  returned: always
  type: dict
  sample: {name: argo, exists: true, login: true, superuser: false, createdb: false, createrole: false}
privileges:
  description:
    - What O(user) can actually do (granted directly, through PUBLIC or through role membership);
      C(sufficient) is true when Argo's controller can run its migrations.
    - Null when the role or the database does not exist.
  returned: always
  type: dict
  sample: {connect: true, usage: true, create: false, sufficient: false}
schema:
  description:
    - Status of Argo's schema in the database (null when the database does not exist).
    - C(schema_version) is the last migration step Argo applied (null before the first controller start).
  returned: always
  type: dict
  sample: {schema_version: 68, archive_ready: true,
           tables: {schema_history: true, argo_archived_workflows: true, argo_archived_workflows_labels: true}}
archived_workflows:
  description: Archived rows per cluster name and instance id (empty until the archive tables exist).
  returned: always
  type: list
  elements: dict
  sample: [{cluster_name: default, instance_id: '', count: 1250}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.argoops.workflows.plugins.module_utils import pg
from ansible_collections.argoops.workflows.plugins.module_utils.archive_runs import run_archive_db
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def main():
    argument_spec = pg.connection_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        user=dict(type="str"),
        password=dict(type="str", no_log=True),
        update_password=dict(type="str", default="always", choices=["always", "on_create"], no_log=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        drop_database=dict(type="bool", default=False),
        drop_role=dict(type="bool", default=False))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[("drop_role", True, ["user"])])
    run_module(module, run_archive_db)


if __name__ == "__main__":
    main()
