"""A real PostgreSQL primary and its streaming hot standby for tests and benches.

`initdb` makes a throw-away primary on a free port, `pg_basebackup -R` copies it into a standby
(which then streams the primary's WAL and refuses every write), and both are started with `pg_ctl`
and stopped by the PID in their `postmaster.pid`. The binaries are found on PATH or through
`pg_config --bindir`; PostgreSQL refuses to run as root, so under root the clusters run as the
`postgres` account the server packages create.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.api_server import free_port


def bindir() -> Path | None:
    """Where initdb, pg_ctl and pg_basebackup live, or None when PostgreSQL's server binaries are absent."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_basebackup") and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    config = shutil.which("pg_config")
    if config:
        out = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    return None


@dataclass
class Cluster:
    name: str
    datadir: Path
    port: int

    def url(self, database: str = "creditbot") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def pid(self) -> int | None:
        pidfile = self.datadir / "postmaster.pid"
        try:
            return int(pidfile.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None


@dataclass
class Replication:
    primary: Cluster
    standby: Cluster
    workdir: Path


def _run(args: list[str], user: str | None, **kwargs: object) -> None:
    result = subprocess.run(args, capture_output=True, text=True, user=user, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {result.stdout[-1500:]}{result.stderr[-1500:]}")


def _stop(cluster: Cluster) -> None:
    """SIGQUIT to the postmaster by its PID (immediate shutdown: nothing here needs keeping), then
    wait for it to go."""
    pid = cluster.pid()
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGQUIT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether `pid` still runs: pg_ctl's postmaster is nobody's child here, and a zombie no one
    reaps still answers kill(pid, 0)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return "\nState:\tZ" not in status


@contextmanager
def primary_and_standby() -> Iterator[Replication]:
    """A primary with database `creditbot` and a hot standby streaming from it; both stopped and
    deleted on leaving. Raises RuntimeError when a step fails (with that tool's output)."""
    bins = bindir()
    if bins is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found")
    user = "postgres" if os.geteuid() == 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="creditbot-standby-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
    primary = Cluster("primary", workdir / "primary", free_port())
    standby = Cluster("standby", workdir / "standby", free_port())
    common = f"-c listen_addresses=127.0.0.1 -k {workdir} -c fsync=off -c full_page_writes=off -c max_connections=60"
    try:
        _run([str(bins / "initdb"), "-D", str(primary.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
              "--locale=C.UTF-8", "--no-sync", "--no-instructions"], user)
        _run([str(bins / "pg_ctl"), "-D", str(primary.datadir), "-l", str(workdir / "primary.log"), "-w",
              "-o", f"-p {primary.port} {common} -c wal_level=replica -c max_wal_senders=4", "start"], user)
        _run([str(bins / "psql"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-d", "postgres",
              "-qc", "CREATE DATABASE creditbot"], user)
        yield Replication(primary, standby, workdir)
    finally:
        _stop(standby)
        _stop(primary)
        shutil.rmtree(workdir, ignore_errors=True)


def start_standby(rep: Replication) -> None:
    """Copy the primary as it is now (schema and rows included) into the standby and start it."""
    bins = bindir()
    assert bins is not None
    user = "postgres" if os.geteuid() == 0 else None
    _run([str(bins / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(rep.primary.port), "-U", "postgres",
          "-D", str(rep.standby.datadir), "-R", "-X", "stream", "-c", "fast", "--no-sync"], user)
    run_standby(rep)


def stop_standby(rep: Replication) -> None:
    """Stop the standby at once (as a crash would); `run_standby` starts it again."""
    _stop(rep.standby)


def run_standby(rep: Replication) -> None:
    """Start the standby from its data directory and wait until it takes connections."""
    bins = bindir()
    assert bins is not None
    user = "postgres" if os.geteuid() == 0 else None
    common = f"-c listen_addresses=127.0.0.1 -k {rep.workdir} -c fsync=off -c max_connections=60"
    _run([str(bins / "pg_ctl"), "-D", str(rep.standby.datadir), "-l", str(rep.workdir / "standby.log"), "-w",
          "-o", f"-p {rep.standby.port} {common} -c hot_standby=on", "start"], user)
