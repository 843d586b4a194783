#!/bin/sh
# STAND-IN entrypoint of the test control plane's localhost/postgres image (cplane/images.py): our own
# script around Debian's REAL PostgreSQL 15 server, following the documented contract of the official
# postgres image's docker-entrypoint.sh, as far as the roles and tests use it:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (default
#   postgres), POSTGRES_DB (default: POSTGRES_USER), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD
#   (default scram-sha-256), the *_FILE variants, PGDATA (default /var/lib/postgresql/data);
#   on an empty PGDATA: initdb, then /docker-entrypoint-initdb.d/* in name order (*.sh executed when
#   executable, else sourced; *.sql run by psql; *.sql.gz by gunzip | psql) against a server that
#   listens only on its Unix socket; then the server itself, listening on all addresses.
#   Started as root it prepares PGDATA and runs the server as postgres (uid 999); started as any
#   other user (runAsUser) it runs as that user.
# Not supported (no test needs them): POSTGRES_INITDB_WALDIR, *.sql.xz/*.sql.zst init files.
set -eu

file_env() {  # VAR [default]: VAR, or the contents of the file named by VAR_FILE
	var="$1"; file_var="${var}_FILE"
	eval "val=\${$var:-}"; eval "file_val=\${$file_var:-}"
	if [ -n "$val" ] && [ -n "$file_val" ]; then
		echo "error: both $var and $file_var are set (but are exclusive)" >&2; exit 1
	fi
	if [ -n "$file_val" ]; then val="$(cat "$file_val")"; fi
	[ -n "$val" ] || val="${2:-}"
	export "$var=$val"
	unset "$file_var"
}

if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA"
	chown postgres:postgres "$PGDATA"
	chmod 700 "$PGDATA"
	# shellcheck disable=SC2016  # $0 and $@ are for the shell su starts
	exec su -s /bin/sh postgres -c 'exec "$0" "$@"' "$0" "$@"
fi

if [ "$1" != postgres ]; then exec "$@"; fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"

mkdir -p "$PGDATA" 2>/dev/null || true
chmod 700 "$PGDATA" 2>/dev/null || true

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'EOM'
		Error: Database is uninitialized and superuser password is not specified.
		       You must specify POSTGRES_PASSWORD to a non-empty value for the
		       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
		EOM
		exit 1
	fi
	pwfile="$(mktemp)"
	printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
	# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of arguments, as in the official image
	initdb --username="$POSTGRES_USER" --pwfile="$pwfile" $POSTGRES_INITDB_ARGS >/dev/null
	rm -f "$pwfile"
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"

	socket_dir=/var/run/postgresql
	[ -w "$socket_dir" ] || socket_dir="$(mktemp -d)"
	pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$socket_dir" start >/dev/null
	export PGHOST="$socket_dir" PGPASSWORD="$POSTGRES_PASSWORD"
	psql_init() { psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"; }
	if [ "$POSTGRES_DB" != postgres ]; then
		psql_init --dbname postgres --set db="$POSTGRES_DB" <<-'SQL'
		CREATE DATABASE :"db";
		SQL
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then echo "running $f"; "$f"
				else echo "sourcing $f"; . "$f"; fi ;;
			*.sql) echo "running $f"; psql_init --dbname "$POSTGRES_DB" -f "$f" ;;
			*.sql.gz) echo "running $f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB" ;;
			*) echo "ignoring $f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	unset PGHOST PGPASSWORD
	echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@" -c listen_addresses='*'
