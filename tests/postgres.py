"""A real PostgreSQL server on 127.0.0.1 for tests, run from Debian's binaries (`make postgres` installs them).

    server = PostgresServer().start()     # initdb in a fresh temp dir, pg_ctl start on a free port
    server.url                            # postgresql+psycopg://postgres@127.0.0.1:PORT/assistant (trust)
    server.create_database()              # URL of a new, empty database (unique name)
    server.create_user("ana", "geheim")   # a role that must give its password (scram-sha-256) ...
    server.create_database(owner="ana")   # ... and a database it owns: postgresql+psycopg://ana:geheim@...
    server.stop(); server.start()         # or server.restart(): same port, same data
    server.close()                        # stop and remove the directory

The fixtures `postgres` (one server per session) and `postgres_url` (a fresh database per test, the server
started again if an earlier test left it stopped) are defined here. Use them from a test directory by binding
them in its conftest.py (ruff's F811 fires when a test parameter shadows an imported fixture):

    from tests import postgres as _postgres

    postgres = _postgres.postgres
    postgres_url = _postgres.postgres_url

Each conftest that binds `postgres` starts its own server; bind them in tests/conftest.py to share one across
directories. PostgreSQL refuses to run as root: as root the binaries run as the `postgres` user (`runuser`), in
a directory under /tmp that user owns. Libpq's sockets do not go through Python, so the loopback-only network
guard of tests/conftest.py does not see them; this server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

_PASSWORD_GROUP = "password_users"  # members log in over TCP with a password; everyone else is trusted
_MISSING = "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; run `make postgres`"


def find_bin_dir() -> Path | None:
    """Debian's newest PostgreSQL binaries folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temp dir, listening on 127.0.0.1:`port`."""

    def __init__(self, bin_dir: Path | None = None, port: int | None = None) -> None:
        bin_dir = bin_dir or find_bin_dir()
        if bin_dir is None:
            raise RuntimeError(_MISSING)
        self.bin_dir = bin_dir
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.running = False
        self._as_postgres = os.geteuid() == 0
        # Not under /tmp/pytest-of-root: that folder is 0700, so the postgres user could not enter it.
        self.dir = Path(tempfile.mkdtemp(prefix="pa-pg-", dir="/tmp"))
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._initialised = False
        self._passwords: dict[str, str] = {}
        atexit.register(self.close)  # no stray server when a session is interrupted

    @property
    def url(self) -> str:
        """The database `assistant`, as the superuser (trusted, no password)."""
        return self.url_for("assistant")

    def url_for(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        login = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{login}@{self.host}:{self.port}/{database}"

    def start(self) -> PostgresServer:
        """Start the server (initialising the cluster the first time) and wait until it accepts connections."""
        if self.running:
            return self
        if not self._initialised:
            self._init()
        options = (
            f"-c listen_addresses={self.host} -p {self.port} -k {self.dir} "
            "-c fsync=off -c max_connections=300"  # fsync: tests never outlive a power cut
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start")
        self.running = True
        if not self._initialised:
            self._initialised = True
            self._sql(f"CREATE ROLE {_PASSWORD_GROUP} NOLOGIN", "CREATE DATABASE assistant")
        return self

    def stop(self) -> None:
        """Stop the server; connected clients are disconnected (a fast shutdown, as a restart does)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
            self.running = False

    def restart(self) -> None:
        """Stop and start again: same port, same data."""
        self.stop()
        self.start()

    def create_database(self, owner: str | None = None) -> str:
        """A new, empty database with a unique name; its URL (with the owner's password, if it has one)."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        self._sql(f'CREATE DATABASE {name} OWNER "{owner or "postgres"}"')
        if owner and owner in self._passwords:
            return self.url_for(name, owner, self._passwords[owner])
        return self.url_for(name, owner or "postgres")

    def create_user(self, name: str, password: str) -> None:
        """A role that logs in over TCP only with `password` (scram-sha-256)."""
        self._sql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}' IN ROLE {_PASSWORD_GROUP}")
        self._passwords[name] = password

    def close(self) -> None:
        """Stop the server and remove its directory."""
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals

    def _init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--no-locale", "-A", "trust")
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all +{_PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
        )

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self._as_postgres:
            command = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.dir, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    def _sql(self, *statements: str) -> None:
        with psycopg.connect(
            host=self.host, port=self.port, user="postgres", dbname="postgres", autocommit=True, connect_timeout=10
        ) as connection:
            for statement in statements:
                connection.execute(statement.encode())


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session; skipped only when the binaries are not installed."""
    if find_bin_dir() is None:
        pytest.skip(_MISSING)
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's server, so tests never see each other's rows."""
    postgres.start()  # an earlier test may have stopped it and failed before starting it again
    return postgres.create_database()
