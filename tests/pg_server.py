"""A throw-away PostgreSQL cluster for the tests: ``initdb`` in a temporary folder, a server on
the loopback interface at a free port, stopped and removed at the end of the session.

The tests run as root in CI, and initdb/pg_ctl refuse root: as root the cluster belongs to the
``postgres`` system user (the Debian package creates it) and every server command runs through
``runuser -u postgres``. Password authentication (SCRAM) is on for TCP, so a wrong password is a
real refusal. ``tests/servers/ensure_postgres.sh`` (run by ``make test``) installs PostgreSQL
where it is missing; the session fails with the reason when there is still none, rather than
skipping the database tests (``DATAGEN_TEST_POSTGRES=skip`` skips them explicitly).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str
    folder: Path

    def dsn(self, dbname: str = "postgres", *, password: str | None = None, user: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{user or self.user}:{pw}@{self.host}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres", **kw):
        import psycopg

        return psycopg.connect(self.dsn(dbname), autocommit=True, **kw)

    def create_database(self, name: str) -> str:
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)


def bin_dir() -> Path | None:
    """The folder with initdb and pg_ctl: ``pg_config --bindir``, Debian's versioned folders, PATH."""
    candidates = []
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout
            candidates.append(Path(out.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)  # type: ignore[arg-type]
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    """Run as the ``postgres`` user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", SUPERUSER, "--", *cmd]


def start(*, durable: bool = False) -> PgServer:
    """Start a cluster; ``durable``: PostgreSQL's default settings (fsync, full-page writes,
    synchronous commit — what the benchmark measures against), else the tests' fast ones."""
    bindir = bin_dir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb/pg_ctl): run tests/servers/ensure_postgres.sh "
                           "(make test does), or set DATAGEN_TEST_POSTGRES=skip")
    folder = Path(tempfile.mkdtemp(prefix="datagen-pg-"))
    data, sock = folder / "data", folder / "sock"
    sock.mkdir()
    password = secrets.token_urlsafe(18)
    pwfile = folder / "pw"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SUPERUSER)
        for p in (folder, sock, pwfile):
            os.chown(p, owner.pw_uid, owner.pw_gid)
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    subprocess.run(_as_owner([str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile", str(pwfile),
                              "-A", "scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True, env=env)
    pwfile.unlink()
    port = _free_port()
    opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock}"
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
    subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                              "-t", "60", "-o", opts, "start"]), check=True, capture_output=True, env=env)
    server = PgServer("127.0.0.1", port, SUPERUSER, password, folder)
    deadline = time.monotonic() + 30
    while True:  # pg_ctl -w waited for the socket; make sure TCP with the password answers too
        try:
            with server.connect() as conn:
                conn.execute("SELECT 1")
            return server
        except Exception:
            if time.monotonic() > deadline:
                stop(server)
                raise
            time.sleep(0.2)


def stop(server: PgServer) -> None:
    bindir = bin_dir()
    if bindir is not None:
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(server.folder / "data"), "-m", "immediate",
                                  "-w", "stop"]), capture_output=True)
    shutil.rmtree(server.folder, ignore_errors=True)
