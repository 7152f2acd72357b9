"""Slow clients and proxies against the real `creditbot api` server (bot/api/server.py): half-sent
requests never crowd out ordinary ones, heads and bodies have deadlines, and forwarded headers are
believed only from the configured proxy. The server is started the way a service often is: with an
open-file limit of 1,024."""

from __future__ import annotations

import asyncio
import resource
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from db.session import Database
from tests.api_server import ApiServer, Keys, seed, start_server

HALF_SENT = 1100
PROXY = "127.0.0.2"  # the loopback network is all local: a second address stands for the reverse proxy
LIMITS = {"request_head_seconds": 2, "request_body_seconds": 2, "verify_per_minute": 6,
          "forwarded_allow_ips": PROXY}


def _open_files(soft: int, hard: int | None = None) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard or resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    return apply


@pytest.fixture(scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, Path, Keys]]:
    workdir = tmp_path_factory.mktemp("http-server")
    url = f"sqlite+aiosqlite:///{workdir / 'api.sqlite3'}"
    db = Database(url)
    keys = await seed(db, subjects=40)
    await db.dispose()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # this process holds the clients' sockets
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    yield url, workdir, keys


@pytest.fixture(scope="module")
async def server(seeded: tuple[str, Path, Keys]) -> AsyncIterator[ApiServer]:
    url, workdir, _keys = seeded
    running = start_server(url, workdir, "limits", api=LIMITS, preexec=_open_files(1024))
    try:
        yield running
    finally:
        running.stop()
        assert "Traceback" not in running.log()


def _address(server: ApiServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


async def _half_sent(server: ApiServer, n: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """`n` connections that each sent part of a request head and then nothing more."""
    host, port = _address(server)
    out = []
    for _ in range(n):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST /v1/checks HTTP/1.1\r\nHost: creditbot\r\nContent-Le")
        out.append((reader, writer))
    return out


async def _ordinary_requests_succeed(server: ApiServer, key: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=15, headers={"X-API-Key": key}) as c:
        health = [await c.get("/healthz") for _ in range(10)]
        lookup = await c.get("/v1/lookup", params={"q": "鑫源矿业"})
    assert [r.status_code for r in health] == [200] * 10 and lookup.status_code == 200


async def _closed_by_server(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]], within: float) -> int:
    async def eof(reader: asyncio.StreamReader) -> bool:
        try:
            return await asyncio.wait_for(reader.read(), within) == b""
        except (TimeoutError, ConnectionError):
            return False

    closed = sum(await asyncio.gather(*(eof(r) for r, _w in conns)))
    for _r, w in conns:
        w.close()
    return closed


async def test_half_sent_requests_do_not_make_ordinary_requests_fail(
    server: ApiServer, seeded: tuple[str, Path, Keys]
) -> None:
    conns = await _half_sent(server, HALF_SENT)
    await _ordinary_requests_succeed(server, seeded[2].full)
    # ... and each half-sent request is dropped once its head is overdue (request_head_seconds = 2).
    assert await _closed_by_server(conns, within=15) == HALF_SENT


async def test_without_room_for_more_files_the_longest_waiting_half_sent_requests_make_room(
    seeded: tuple[str, Path, Keys],
) -> None:
    url, workdir, keys = seeded
    tight = start_server(url, workdir, "tight", api={**LIMITS, "request_head_seconds": 600},
                         preexec=_open_files(1024, 1024))
    try:
        conns = await _half_sent(tight, HALF_SENT)
        await _ordinary_requests_succeed(tight, keys.full)
        closed = await _closed_by_server(conns[:100], within=10)
        assert closed == 100, "the oldest half-sent requests were closed to make room"
    finally:
        tight.stop()
    assert "Traceback" not in tight.log()


async def test_an_oversized_head_is_431_and_a_body_sent_too_slowly_is_408(server: ApiServer) -> None:
    host, port = _address(server)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: creditbot\r\n" + b"X-Filler: " + b"a" * 70_000 + b"\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), 10)).startswith(b"HTTP/1.1 431 ")
    writer.close()

    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"POST /v1/checks HTTP/1.1\r\nHost: creditbot\r\ncontent-type: application/json\r\n"
                 b"content-length: 100\r\n\r\n{\"subject\":")
    answer = await asyncio.wait_for(reader.read(4096), 15)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ") and b"application/problem+json" in answer


async def test_forwarded_addresses_are_believed_only_from_the_configured_proxy(server: ApiServer) -> None:
    """/verify is limited per client address (verify_per_minute = 6, bursts of 10)."""
    params = {"number": "安信报〔2099〕1号", "code": "ABCD-EFGH-JKLM"}

    async def statuses(local: str, forwarded: Callable[[int], str]) -> list[int]:
        transport = httpx.AsyncHTTPTransport(local_address=local)
        async with httpx.AsyncClient(base_url=server.url, transport=transport, timeout=15) as c:
            return [(await c.get("/verify", params=params, headers={"X-Forwarded-For": forwarded(i)})).status_code
                    for i in range(14)]

    rotating = await statuses("127.0.0.1", lambda i: f"10.1.0.{i}")
    assert 429 in rotating, "a client may not choose its own address"
    behind_proxy = await statuses(PROXY, lambda i: f"10.2.0.{i}")
    assert behind_proxy == [200] * 14, "each client the proxy names has its own allowance"
    one_client = await statuses(PROXY, lambda i: "10.3.0.1")
    assert 429 in one_client
