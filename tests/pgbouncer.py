"""A real PgBouncer (the Debian package) for tests: transaction pooling in front of the test
PostgreSQL, on 127.0.0.1 and a free port, with TLS required of its clients (a self-signed
certificate made here), so URLs with `sslmode=require` / `verify-ca` / `verify-full` are tested
against a server that really speaks TLS (the test PostgreSQL does not)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api_server import free_port

SERVER_NAME = "db.creditbot.test"  # the only name in the certificate: 127.0.0.1 fails verify-full


@dataclass
class PgBouncer:
    host: str
    port: int
    ca_file: Path  # the self-signed certificate, for sslrootcert
    process: subprocess.Popen[bytes]
    log_path: Path
    workdir: Path

    def url(self, database: str, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://postgres@{self.host}:{self.port}/{database}" + (f"?{query}" if query else "")

    def log(self) -> str:
        return "".join(p.read_text(encoding="utf-8", errors="replace")
                       for p in (self.workdir / "stderr.txt", self.log_path) if p.exists())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung pooler
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _certificate(workdir: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = workdir / "server.crt", workdir / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def start_pgbouncer(backend_dsn: str, pool_size: int = 3) -> PgBouncer:
    """PgBouncer in transaction mode in front of the PostgreSQL of `backend_dsn`, its files in a
    directory of its own (`stop` removes it). A missing pgbouncer binary fails the test (`make test`
    installs it), never skips it."""
    binary = shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if Path(p).exists()), None)
    if binary is None:
        pytest.fail("PgBouncer is required for the pooler tests (Debian package pgbouncer; `make test` installs it)",
                    pytrace=False)
    backend = urlsplit(backend_dsn)
    port = free_port()
    # Not under pytest's private temporary directory: as root, PgBouncer runs as nobody and must reach it.
    workdir = Path(tempfile.mkdtemp(prefix="creditbot-pgbouncer-"))
    cert_file, key_file = _certificate(workdir)
    (workdir / "users.txt").write_text('"postgres" ""\n', encoding="utf-8")
    ini = workdir / "pgbouncer.ini"
    log_path = workdir / "pgbouncer.log"
    ini.write_text(f"""[databases]
* = host={backend.hostname or "127.0.0.1"} port={backend.port or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_reset_query_always = 1
server_reset_query = DEALLOCATE ALL
client_tls_sslmode = require
client_tls_cert_file = {cert_file}
client_tls_key_file = {key_file}
logfile = {log_path}
""", encoding="utf-8")
    as_root = os.geteuid() == 0  # PgBouncer refuses to run as root: it switches to nobody
    if as_root:
        os.chmod(workdir, 0o755)
        for path in (ini, cert_file, key_file, workdir / "users.txt"):
            os.chmod(path, 0o644)
        log_path.touch()
        shutil.chown(log_path, user="nobody")
    command = [binary, *(["-u", "nobody"] if as_root else []), str(ini)]
    with (workdir / "stderr.txt").open("wb") as err:
        process = subprocess.Popen(command, stdout=err, stderr=subprocess.STDOUT)
    bouncer = PgBouncer("127.0.0.1", port, cert_file, process, log_path, workdir)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"PgBouncer exited: {bouncer.log()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return bouncer
        time.sleep(0.1)
    bouncer.stop()
    raise RuntimeError(f"PgBouncer did not start: {bouncer.log()[-2000:]}")
