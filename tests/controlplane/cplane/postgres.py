"""A private PostgreSQL 15 server from the machine's binaries: own data directory, a free loopback
port, a superuser with a generated password (scram-sha-256 password auth, also on the socket).

It serves TLS as well as plain connections (clients choose with sslmode): its certificate comes from
a CA of its own in ``<root>/tls`` (``PostgresInfo.ca_cert``) and names ``TLS_HOST_NAME`` and
127.0.0.1 only — so ``verify-full`` to ``localhost`` is the wrong-host-name case the tests need.

PostgreSQL refuses to run as root, so when we are root the server runs as the ``postgres`` system
user (the data directory is handed to it); everything else stays ours.
"""
from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import time
import urllib.parse
from dataclasses import dataclass

from . import paths, pki, procs

PG_BIN = os.environ.get("ARGOOPS_PG_BIN", "/usr/lib/postgresql/15/bin")
SUPERUSER = "argoops"
RUN_AS = "postgres"  # only when we are root
# world-searchable home for the data directory when the state directory is not (see _root_for)
FALLBACK_PARENT = "/var/tmp/argoops-workflows"
TLS_HOST_NAME = "postgres.argoops.test"  # in the certificate beside 127.0.0.1 (what clients connect to)


@dataclass(frozen=True)
class PostgresInfo:
    """How to reach the test server; the shape the integration fixtures promise."""
    host: str
    port: int
    user: str
    password: str
    dbname: str = "postgres"
    ca_cert: str = ""  # the CA that signed the server's certificate (PEM file, world-readable)

    def dsn(self, dbname: str | None = None) -> str:
        """A libpq conninfo string (psycopg, psql)."""
        def quote(value) -> str:
            return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
        parts = {"host": self.host, "port": self.port, "user": self.user, "password": self.password,
                 "dbname": dbname or self.dbname, "sslmode": "disable"}
        return " ".join(f"{key}={quote(value)}" for key, value in parts.items())

    def url(self, dbname: str | None = None) -> str:
        """A postgres:// URL (Argo's hack/db --dsn)."""
        user = urllib.parse.quote(self.user, safe="")
        password = urllib.parse.quote(self.password, safe="")
        return f"postgres://{user}:{password}@{self.host}:{self.port}/{dbname or self.dbname}?sslmode=disable"

    def connect_params(self, dbname: str | None = None) -> dict:
        """Module arguments in community.postgresql's spelling."""
        return {"login_host": self.host, "login_port": self.port, "login_user": self.user,
                "login_password": self.password, "login_db": dbname or self.dbname}

    def env(self) -> dict:
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user,
                "PGPASSWORD": self.password, "PGDATABASE": self.dbname}

    def as_dict(self) -> dict:
        return {"host": self.host, "port": self.port, "user": self.user, "password": self.password,
                "dbname": self.dbname, "ca_cert": self.ca_cert}


class PostgresServer:
    """The server living in ``<base>/postgres``; start() and stop() are idempotent."""

    def __init__(self, base: str):
        self.root = self._root_for(base)
        self.data = os.path.join(self.root, "data")
        self.run_dir = os.path.join(self.root, "run")
        self.log_path = os.path.join(self.root, "postgres.log")
        self.info_path = os.path.join(self.root, "connection.json")  # mode 0600: holds the password
        self.tls = pki.Pki(os.path.join(self.root, "tls"))

    # -- helpers
    @staticmethod
    def _run_user() -> str | None:
        return RUN_AS if os.geteuid() == 0 else None

    @classmethod
    def _root_for(cls, base: str) -> str:
        """``<base>/postgres``, unless the server's user cannot traverse ``base`` (a checkout under
        /root, say): then a directory of its own under /var/tmp, named after ``base``."""
        root = os.path.join(os.path.abspath(base), "postgres")
        user = cls._run_user()
        existing = os.path.dirname(root)
        while not os.path.isdir(existing):  # directories we create later get mode 0755
            existing = os.path.dirname(existing)
        if not user or cls._reachable(user, existing):
            return root
        digest = hashlib.sha256(root.encode()).hexdigest()[:12]
        return os.path.join(FALLBACK_PARENT, f"postgres-{digest}")

    @staticmethod
    def _reachable(user: str, path: str) -> bool:
        probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", path], check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return probe.returncode == 0

    def _cmd(self, tool: str, *args: str) -> list:
        argv = [os.path.join(PG_BIN, tool), *args]
        user = self._run_user()
        return ["runuser", "-u", user, "--"] + argv if user else argv

    def _hand_over(self, path: str) -> None:
        user = self._run_user()
        if user:
            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _check_reachable(self) -> None:
        """The postgres user must be able to traverse every parent of the data directory."""
        parent = os.path.dirname(self.root)
        os.makedirs(parent, exist_ok=True)
        if self._run_user() and not self._reachable(RUN_AS, parent):
            raise RuntimeError(f"{self.root}: PostgreSQL runs as user '{RUN_AS}' (we are root) and cannot "
                               "reach this directory; use a state directory whose parents are world-searchable")

    def info(self) -> PostgresInfo | None:
        try:
            with open(self.info_path, encoding="utf-8") as handle:
                return PostgresInfo(**json.load(handle))
        except (OSError, ValueError, TypeError):
            return None

    def pid(self) -> int | None:
        try:
            with open(os.path.join(self.data, "postmaster.pid"), encoding="utf-8") as handle:
                return int(handle.readline().strip())
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        info = self.info()
        pid = self.pid()
        if not info or not procs.alive(pid, "postgres"):
            return False
        probe = subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", info.host, "-p", str(info.port)],
                               check=False)
        return probe.returncode == 0

    # -- lifecycle
    def _initdb(self, log) -> None:
        self._check_reachable()
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.run_dir)
        os.chmod(self.root, 0o755)
        password = secrets.token_urlsafe(24)
        pwfile = os.path.join(self.root, "pwfile")
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
            handle.write(password + "\n")
        for path in (self.root, self.run_dir, pwfile):
            self._hand_over(path)
        log(f"postgres: initdb {self.data}")
        result = subprocess.run(self._cmd("initdb", "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile,
                                          "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"),
                                capture_output=True, text=True, check=False)
        os.remove(pwfile)
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}{result.stderr}")
        hba = os.path.join(self.data, "pg_hba.conf")
        with open(hba, "w", encoding="utf-8") as handle:  # loopback and socket only, always a password
            handle.write("local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n")
        self._write_info(PostgresInfo("127.0.0.1", 0, SUPERUSER, password))

    def _write_info(self, info: PostgresInfo) -> None:
        fd = os.open(self.info_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as handle:
            json.dump(info.as_dict(), handle)

    def _ensure_tls(self) -> None:
        """The CA and serving certificate (kept across restarts), copied into the data directory where
        the server, running as its own user, reads them (the key must be its own, mode 0600)."""
        self.tls.create_serving("server", "argoops-postgres", names=(TLS_HOST_NAME,), ips=("127.0.0.1",))
        os.chmod(self.tls.dir, 0o755)
        for name, mode in (("server.crt", 0o644), ("server.key", 0o600)):
            target = os.path.join(self.data, name)
            shutil.copyfile(self.tls.path(name), target)
            os.chmod(target, mode)
            self._hand_over(target)

    def _configure(self, port: int) -> None:
        self._ensure_tls()
        settings = {
            "ssl": "on", "ssl_cert_file": "'server.crt'", "ssl_key_file": "'server.key'",
            "listen_addresses": "'127.0.0.1'", "port": str(port),
            "unix_socket_directories": f"'{self.run_dir}'",
            # a throw-away test server: durability traded for speed
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "max_connections": "300", "logging_collector": "off",
        }
        path = os.path.join(self.data, "postgresql.auto.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("# written by tests/controlplane (argoops)\n")
            handle.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._hand_over(path)

    def start(self, log=print) -> PostgresInfo:
        if self.running():
            return self.info()
        if self.info() is None or not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self._initdb(log)
        info = self.info()
        port = info.port if info.port and not paths.port_open(info.port) else paths.free_port()
        self._configure(port)
        start = time.monotonic()
        result = subprocess.run(self._cmd("pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "90",
                                          "start"), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{result.stdout}{result.stderr}\n{procs.tail(self.log_path)}")
        info = PostgresInfo(info.host, port, info.user, info.password, info.dbname, self.tls.path("ca.crt"))
        self._write_info(info)
        log(f"postgres: running on 127.0.0.1:{port} (pid {self.pid()}, {time.monotonic() - start:.1f}s)")
        return info

    def stop(self) -> None:
        pid = self.pid()
        if procs.alive(pid, "postgres"):
            subprocess.run(self._cmd("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop"),
                           capture_output=True, check=False)
            procs.stop(pid, "postgres")

    def remove(self) -> None:
        """Delete the data directory (stop() first)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def rss_kib(self) -> int:
        """The postmaster and all its backends."""
        pid = self.pid()
        if not pid:
            return 0
        total = procs.rss_kib(pid)
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                        if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                            total += procs.rss_kib(int(entry))
                except (OSError, ValueError, IndexError):
                    continue
        return total
