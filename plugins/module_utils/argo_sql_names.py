# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names Argo pastes into SQL: ``tableName`` (node status offload) and ``clusterName``.

Argo v4.0.5's schema migration (persist/sqldb/migrate.go, run at every controller start unless
``skipMigration``) pastes the table name *unquoted* into DDL (``create table if not exists T``,
``alter table T drop constraint T_pkey``, ``create index T_i1 on T``), while its queries quote it
(upper/db: ``"T"``). It pastes the cluster name inside single quotes (``set clustername = 'C'``).
So, for the migration to succeed on a fresh database:

* PostgreSQL: T must be an unquoted identifier that folds to itself (lower case: ``Foo`` becomes
  ``foo`` in the DDL and is then not found as ``"Foo"``), not a reserved or type/function-name keyword
  (``user``, ``left``), at most 58 bytes (PostgreSQL truncates names to 63 bytes, so a longer T's
  ``T_pkey`` no longer names the key it created), and none of the relations the migration itself
  creates (``idx_name``, ``argo_archived_workflows_i1``, ...). Checked against PostgreSQL 15 with
  Argo's own migration code (tests/integration/test_persistence_oracle.py).
* MySQL: an unquoted identifier that is not a reserved word of MySQL 8.0/8.4 (its manual's "(R)"
  list), at most 62 characters (``T_i1`` must fit MySQL's 64). From the MySQL manual; there is no MySQL
  server in this project's tests.
* C: no single quote (a syntax error), for MySQL no backslash either (an escape character there).

Everything refused here is also refused for ASCII-only simplicity: non-ASCII table names are legal in
some encodings and not others. Plain Python.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# pg_get_keywords() of PostgreSQL 15, categories R (reserved) and T (type or function name): the words
# an unquoted table name cannot be. Column-name keywords (C, e.g. ``values``) and unreserved ones work.
POSTGRESQL_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation
column concurrently constraint create cross current_catalog current_date current_role current_schema
current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for
foreign freeze from full grant group having ilike in initially inner intersect into is isnull join lateral
leading left like limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps
placing primary references returning right select session_user similar some symmetric table tablesample then
to trailing true union unique user using variadic verbose when where window with
""".split())

# MySQL 8.0's reserved words (the "(R)" entries of its manual), plus the four MySQL 8.4 added.
MYSQL_RESERVED = frozenset("""
accessible add all alter analyze and as asc asensitive before between bigint binary blob both by call cascade
case change char character check collate column condition constraint continue convert create cross cube
cume_dist current_date current_time current_timestamp current_user cursor database databases day_hour
day_microsecond day_minute day_second dec decimal declare default delayed delete dense_rank desc describe
deterministic distinct distinctrow div double drop dual each else elseif empty enclosed escaped except exists
exit explain false fetch first_value float float4 float8 for force foreign from fulltext function generated get
grant group grouping groups having high_priority hour_microsecond hour_minute hour_second if ignore in index
infile inner inout insensitive insert int int1 int2 int3 int4 int8 integer intersect interval into
io_after_gtids io_before_gtids is iterate join json_table key keys kill lag last_value lateral lead leading
leave left like limit linear lines load localtime localtimestamp lock long longblob longtext loop low_priority
master_bind master_ssl_verify_server_cert match maxvalue mediumblob mediumint mediumtext middleint
minute_microsecond minute_second mod modifies natural not no_write_to_binlog nth_value ntile null numeric of on
optimize optimizer_costs option optionally or order out outer outfile over partition percent_rank precision
primary procedure purge range rank read reads read_write real recursive references regexp release rename repeat
replace require resignal restrict return revoke right rlike row rows row_number schema schemas
second_microsecond select sensitive separator set show signal smallint spatial specific sql sqlexception
sqlstate sqlwarning sql_big_result sql_calc_found_rows sql_small_result ssl starting stored straight_join system
table terminated then tinyblob tinyint tinytext to trailing trigger true undo union unique unlock unsigned update
usage use using utc_date utc_time utc_timestamp values varbinary varchar varcharacter varying virtual when where
while window with write xor year_month zerofill manual parallel qualify tablesample
""".split())

# Relations Argo's migration creates (or renames) in the same schema; a table of that name breaks it.
ARGO_RELATIONS = frozenset("""
schema_history schema_history_pkey argo_workflow_history argo_workflow_history_pkey argo_archived_workflows
argo_archived_workflows_pkey argo_archived_workflows_labels idx_name argo_archived_workflows_i1
argo_archived_workflows_i2 argo_archived_workflows_i3 argo_archived_workflows_i4 argo_archived_workflows_i5
argo_archived_workflows_labels_i1
""".split())

POSTGRESQL_MAX_TABLE, MYSQL_MAX_TABLE = 58, 62
CLUSTER_NAME_MAX = 64  # clustername varchar(64): longer fails the migration and every archive write
_POSTGRESQL_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
_MYSQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def table_name_problem(database, name):
    """Why Argo's migration fails on ``database`` (postgresql or mysql) with this table name, or None."""
    if database == "postgresql":
        if not _POSTGRESQL_NAME.fullmatch(name):
            return ("must be a plain lower-case SQL identifier (a-z, 0-9, _ or $, not starting with a digit or $): "
                    "Argo's migration uses it unquoted, where PostgreSQL folds capitals, and its queries quoted")
        if name in POSTGRESQL_RESERVED:
            return "is a reserved word in PostgreSQL (Argo's migration uses it unquoted: a syntax error)"
        if len(name) > POSTGRESQL_MAX_TABLE:
            return ("is longer than %d characters: PostgreSQL cuts names at 63 bytes, so the migration's "
                    "'%s_pkey' would not name the primary key it created" % (POSTGRESQL_MAX_TABLE, name))
    else:
        if not _MYSQL_NAME.fullmatch(name):
            return ("must be a plain SQL identifier (letters, digits, _ or $, not starting with a digit or $): "
                    "Argo's migration uses it unquoted")
        if name.lower() in MYSQL_RESERVED:
            return "is a reserved word in MySQL (Argo's migration uses it unquoted: a syntax error)"
        if len(name) > MYSQL_MAX_TABLE:
            return ("is longer than %d characters: the migration's index '%s_i1' would exceed MySQL's 64"
                    % (MYSQL_MAX_TABLE, name))
    if name.lower() in ARGO_RELATIONS:
        return "is the name of a table or index Argo's own migration creates"
    return None


def cluster_name_problem(database, name, migrating):
    """Why the archive fails with this cluster name (pasted into migration SQL when ``migrating``), or None."""
    if "\x00" in name:
        return "contains a NUL character, which the database cannot store"
    if len(name) > CLUSTER_NAME_MAX:
        return ("is longer than %d characters: the archive's clustername column holds %d, so the migration and "
                "every archive write fail" % (CLUSTER_NAME_MAX, CLUSTER_NAME_MAX))
    if migrating and "'" in name:
        return "contains a single quote: Argo's migration pastes it into SQL inside quotes (a syntax error)"
    if migrating and database == "mysql" and "\\" in name:
        return "contains a backslash: Argo's migration pastes it into a MySQL string, where it escapes"
    return None
