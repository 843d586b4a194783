# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options mirroring Argo's ``persistence`` and ``retentionPolicy`` (argo_config.argument_spec())."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  archive:
    description:
      - Write every completed workflow to the archive (Argo C(archive)).
      - Turning it off stops archiving; rows already archived stay.
    type: bool
  archive_ttl:
    description:
      - How long archived workflows are kept (Argo C(archiveTTL)); the controller's archive GC deletes older rows.
      - Exactly one whole number and one unit of C(d), C(h), C(m) or C(s) (C(7d), C(48h), C(30m), C(90s)),
        or an empty string / C(0) to keep rows forever. C(1h30m), C(1.5d), C(500ms) and bare numbers are rejected,
        because the controller exits on them.
      - Refused on purpose although Argo parses them - negative values (its archive GC would then delete rows that
        finished before a time in the future, i.e. fresh ones) and values beyond about 292 years (Go's arithmetic
        wraps them to another value).
    type: str
  archive_label_selector:
    description:
      - Archive only workflows whose labels match (Argo C(archiveLabelSelector), a Kubernetes label selector).
      - Checked with Kubernetes' rules even with I(archive=false), although Argo reads it only when archiving - it
        would exit as soon as archiving is turned on.
      - "A mapping with I(match_labels) and/or I(match_expressions). A selector string such as C(app=etl) is refused,
        with a message saying so (write C({match_labels: {app: etl}}))."
    type: raw
    suboptions:
      match_labels:
        description: Label key/value pairs that must all be present. Keys and values follow Kubernetes label syntax.
        type: dict
      match_expressions:
        description: Set-based requirements, all of which must match.
        type: list
        elements: dict
        suboptions:
          key:
            description: Label key (optional DNS subdomain prefix and C(/), then a name of at most 63 characters).
            type: str
            required: true
          operator:
            description: C(In) and C(NotIn) need at least one value; C(Exists) and C(DoesNotExist) take none.
            type: str
            required: true
            choices: [In, NotIn, Exists, DoesNotExist]
          values:
            description: Label values (each empty or at most 63 characters).
            type: list
            elements: str
  cluster_name:
    description:
      - Name of this cluster in the archive (Argo C(clusterName), default C(default)); at most 64 characters (the
        archive's column), no NUL character.
      - Argo's schema migration pastes it into SQL inside quotes, so unless I(skip_migration=true) it may not
        contain a single quote (nor, for I(mysql), a backslash).
      - Every archive row and query is scoped by it, so changing it hides rows archived under the old name.
    type: str
  skip_migration:
    description: Do not run Argo's schema migration at controller start (Argo C(skipMigration)).
    type: bool
  node_status_offload:
    description:
      - Store large workflow node status in the database table I(table_name) instead of etcd
        (Argo C(nodeStatusOffLoad)).
    type: bool
  connection_pool:
    description: Database connection pool of the controller (Argo C(connectionPool)).
    type: dict
    suboptions:
      max_idle_conns:
        description: Maximum idle connections (C(maxIdleConns)); C(0) or less keeps none idle (Go's database/sql).
        type: int
      max_open_conns:
        description: Maximum open connections (C(maxOpenConns)); C(0) or less means unlimited.
        type: int
      conn_max_lifetime:
        description:
          - Maximum age of a connection (C(connMaxLifetime)), in I(archive_ttl)'s grammar; C(0s) or a negative value
            means connections are reused forever.
        type: str
  connection_timeout_seconds:
    description:
      - Timeout for establishing a database connection (Argo C(connectionTimeoutSeconds); Argo v4.1 or later).
      - Never written for an older controller. When the controller version is unknown it is left out, with a warning.
    type: int
  reconnection:
    description:
      - Database reconnection behaviour (Argo C(reconnectionConfig); Argo v4.1 or later, handled like
        I(connection_timeout_seconds)). No value may be negative.
    type: dict
    suboptions:
      max_retries:
        description: Reconnection attempts before giving up.
        type: int
      base_delay_seconds:
        description: First delay between attempts.
        type: int
      max_delay_seconds:
        description: Upper limit of the delay.
        type: int
      retry_multiple:
        description: Growth factor of the delay.
        type: float
  postgresql:
    description:
      - The PostgreSQL archive database (Argo C(postgresql)). Exactly one of I(postgresql) and I(mysql) is required
        with I(state=present); both at once are refused on purpose (Argo silently uses I(postgresql) and ignores
        I(mysql)).
      - The controller reads the Secrets from its own namespace; argo-server reads them from its namespace.
    type: dict
    suboptions:
      host: &database_host
        description: Database host name as the controller reaches it.
        type: str
        required: true
      port:
        description: Database port; C(0) or unset means the driver default (5432).
        type: int
      database: &database_name
        description: Database name.
        type: str
      table_name: &database_table_name
        description:
          - Table for offloaded node status (Argo C(tableName), required by Argo). The archive tables have fixed names.
          - Argo's schema migration writes it unquoted into SQL (and its queries quoted), so unless
            I(skip_migration=true) it must be a plain identifier that is not a reserved word and not the name of a
            table or index Argo creates itself. PostgreSQL - lower-case letters, digits, C(_) and C($), at most 58
            characters (PostgreSQL cuts names at 63 bytes, which breaks the migration's C(<table>_pkey)). MySQL -
            letters, digits, C(_) and C($), at most 62 characters, not a MySQL 8.0/8.4 reserved word.
        type: str
        default: argo_workflows
      username_secret:
        description: Secret key holding the database user name (Argo C(userNameSecret)).
        type: dict
        suboptions: &secret_key_selector
          name:
            description: Secret name, in the controller's namespace.
            type: str
            required: true
          key:
            description: Key within the Secret.
            type: str
            required: true
          optional:
            description:
              - Written as given (Kubernetes' C(SecretKeySelector) field). Argo reads the Secret at start-up whatever
                it says, so a missing Secret still makes the controller exit.
            type: bool
      password_secret:
        description:
          - Secret key holding the database password (Argo C(passwordSecret)). Required unless a token mode is enabled.
        type: dict
        suboptions: *secret_key_selector
      ssl:
        description:
          - Connect with TLS. Without it Argo uses C(sslmode=disable) (v4.1 or later) or C(prefer) (older).
        type: bool
      ssl_mode:
        description:
          - libpq SSL mode, used only with I(ssl=true). Setting it without I(ssl=true) is an error here, because
            Argo silently ignores it and the connection would not be what you asked for.
        type: str
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      azure_token:
        description: Authenticate with an Azure AD token instead of the password (Argo C(azureToken), v4.1 or later).
        type: dict
        suboptions:
          enabled:
            description: Use the token.
            type: bool
          scope:
            description: Token scope (Argo's default when unset).
            type: str
      aws_rds_token:
        description:
          - Authenticate with an AWS RDS IAM token (Argo C(awsRDSToken), v4.1 or later); needs I(ssl=true) and cannot
            be combined with I(azure_token).
        type: dict
        suboptions:
          enabled:
            description: Use the token.
            type: bool
          region:
            description: AWS region of the database (detected when unset).
            type: str
  mysql:
    description: The MySQL archive database (Argo C(mysql)); same keys as I(postgresql) without SSL and tokens.
    type: dict
    suboptions:
      host: *database_host
      port:
        description: Database port; C(0) or unset means the driver default.
        type: int
      database: *database_name
      table_name: *database_table_name
      username_secret:
        description: Secret key holding the database user name.
        type: dict
        suboptions: *secret_key_selector
      password_secret:
        description: Secret key holding the database password.
        type: dict
        suboptions: *secret_key_selector
      options:
        description: Extra MySQL DSN parameters, passed through as strings (the only free-form mapping).
        type: dict
  retention_policy:
    description:
      - How many finished workflows of each phase stay in Kubernetes (Argo C(retentionPolicy), a top-level key).
        It deletes Workflow objects, never archive rows.
      - A phase left out counts as C(0) for Argo, so every workflow of that phase is deleted as soon as it finishes
        (the module warns about it). Leave the whole option out to keep the ConfigMap's current policy.
      - Negative counts are refused on purpose - Argo parses them, then its workflow GC crashes the controller when
        the first workflow finishes.
    type: dict
    suboptions:
      completed:
        description: Succeeded workflows to keep.
        type: int
      failed:
        description: Failed workflows to keep.
        type: int
      errored:
        description: Errored workflows to keep.
        type: int
"""
