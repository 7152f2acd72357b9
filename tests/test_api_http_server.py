"""Slow clients, proxies and error bodies against the real `creditbot api` server (bot/api/server.py):
half-sent requests never crowd out ordinary ones, heads and bodies have deadlines, forwarded headers
are believed only from the configured proxy (the server is started with an open-file limit of 1,024
it cannot raise), and every error each route sends is the one its OpenAPI document
describes, body schema included."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import resource
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from db.session import Database
from tests.api_server import ApiServer, Keys, seed, start_server

HALF_SENT = 1100
PROXY = "127.0.0.2"  # the loopback network is all local: a second address stands for the reverse proxy
LIMITS = {"request_head_seconds": 2, "request_body_seconds": 2, "verify_per_minute": 6,
          "forwarded_allow_ips": PROXY}


def _open_files(soft: int, hard: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

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
    # No room to raise the open-file limit (soft = hard = 1,024): the connection limit must do.
    running = start_server(url, workdir, "limits", api=LIMITS, preexec=_open_files(1024, 1024))
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
    # The oldest made room for the newer ones at once; the rest are dropped when their head is overdue.
    assert await _closed_by_server(conns, within=15) == HALF_SENT


def test_the_open_file_limit_is_raised_and_bounds_the_connections() -> None:
    from bot.api.server import RESERVED_FILES, connection_limit, raise_open_files_limit
    from services.settings import ApiSettings

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # a service's usual start
        assert connection_limit(ApiSettings()) == 1024 - RESERVED_FILES
        raised = raise_open_files_limit()
        assert raised == (hard if hard != resource.RLIM_INFINITY else 1 << 20) and raised > 1024
        assert connection_limit(ApiSettings()) == min(2000, raised - RESERVED_FILES)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_an_overdue_head_is_dropped_an_oversized_one_is_431_and_a_slow_body_408(server: ApiServer) -> None:
    assert await _closed_by_server(await _half_sent(server, 1), within=15) == 1  # request_head_seconds = 2
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


async def test_a_request_the_parser_cannot_read_is_a_chinese_problem(server: ApiServer) -> None:
    """curl with unencoded Chinese in the URL: uvicorn's plain-English 400 became problem+json."""
    host, port = _address(server)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write("GET /v1/lookup?q=恒达建材 HTTP/1.1\r\nHost: creditbot\r\n\r\n".encode())
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"application/problem+json" in head, answer
    problem = json.loads(body)
    assert problem["status"] == 400 and "百分号编码" in problem["detail"] and b"Invalid HTTP" not in answer


async def test_the_rest_of_a_body_refused_early_is_not_taken_for_a_head(server: ApiServer) -> None:
    """A chunked body over api.max_body_mb is answered 413 as soon as it passes the limit; the bytes
    still arriving belong to that request, never to a next request's head (no 431, no reset)."""
    host, port = _address(server)
    reader, writer = await asyncio.open_connection(host, port)
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(40)) + b"0\r\n\r\n"  # 2.5 MB
    writer.write(b"POST /v1/records/penalty HTTP/1.1\r\nHost: creditbot\r\ncontent-type: application/json\r\n"
                 b"transfer-encoding: chunked\r\n\r\n" + body)
    sending = asyncio.ensure_future(writer.drain())
    answer = await asyncio.wait_for(reader.read(65536), 20)
    await asyncio.wait_for(sending, 20)
    rest = await asyncio.wait_for(reader.read(65536), 20)  # the server closes or keeps the connection idle
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413 ") and b"431" not in answer + rest


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


# -- every error body the port sends is the one its OpenAPI document describes ----------------------------

DOCUMENTED_LIMITS = {"limit_concurrency": 16, "request_body_seconds": 3, "rate_per_minute": 6, "burst": 60,
                     "verify_per_minute": 6, "idempotency_wait_seconds": 1}
UNTRIGGERABLE = {500}  # no honest request makes the port fail; the 500 body is the same ProblemOut


@dataclass
class Operation:
    method: str
    template: str  # as in the OpenAPI document
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, object] | None = None
    keyed: bool = True
    key: str | None = None  # the key its successful calls use; None: the full key


async def _raw(server: ApiServer, method: str, path: str, headers: dict[str, str], body: bytes = b"",
               ) -> tuple[int, dict[str, str], bytes, asyncio.StreamWriter]:
    """One request over a plain socket (a declared length the body never reaches, a body never finished)."""
    host, port = _address(server)
    reader, writer = await asyncio.open_connection(host, port)
    head = f"{method} {path} HTTP/1.1\r\nHost: creditbot\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(head.encode() + b"\r\n" + body)
    status_line = await asyncio.wait_for(reader.readline(), 20)
    fields: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        fields[name.strip().lower()] = value.strip()
    content = await reader.readexactly(int(fields.get("content-length", "0")))
    return int(status_line.split()[1]), fields, content, writer


def _check_problem(spec: dict[str, object], op: Operation, status: int, content_type: str, body: bytes) -> None:
    import json

    import jsonschema_rs

    responses = spec["paths"][op.template][op.method]["responses"]  # type: ignore[index]
    documented = responses.get(str(status))
    assert documented is not None, f"{op.method.upper()} {op.template} sends {status}, undocumented"
    schema = documented["content"]["application/problem+json"]["schema"]
    assert content_type.startswith("application/problem+json"), (op.template, status, content_type)
    problem = json.loads(body)
    validator = jsonschema_rs.validator_for({**schema, "components": spec["components"]})
    assert validator.is_valid(problem), (op.template, status, problem)
    assert problem["status"] == status and any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"]), problem


@pytest.fixture(scope="module")
async def documented(seeded: tuple[str, Path, Keys]) -> AsyncIterator[ApiServer]:
    url, workdir, _keys = seeded
    running = start_server(url, workdir, "documented", api=DOCUMENTED_LIMITS)
    try:
        yield running
    finally:
        running.stop()
        assert "Traceback" not in running.log()


async def test_every_error_a_route_sends_is_documented_with_its_body(
    documented: ApiServer, seeded: tuple[str, Path, Keys]
) -> None:
    import json

    from sqlalchemy import select

    from db.importers.samples import ric, uscc
    from db.models import ApiIdempotency, ApiKey
    from services.api_idempotency import request_hash
    from tests.test_api_server import BLACKLISTED, PERSON, penalty_row

    url, _workdir, keys = seeded
    server = documented
    case = {"case_number": "DOC-1", "operator": "李四"}
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": keys.full}, timeout=30) as c:
        spec = (await c.get("/openapi.json")).json()
        made = await c.post("/v1/checks", json={"subject": BLACKLISTED.uscc, "matter": "tender", **case})
    check_id = made.json()["check_id"]
    ops = [
        Operation("get", "/healthz", "/healthz", keyed=False), Operation("get", "/readyz", "/readyz", keyed=False),
        Operation("get", "/v1/matters", "/v1/matters", keyed=False),
        Operation("get", "/v1/lookup", "/v1/lookup", {"q": "鑫源矿业"}),
        Operation("get", "/v1/subjects/{uscc}", f"/v1/subjects/{BLACKLISTED.uscc}"),
        Operation("post", "/v1/subjects/by-id-number", "/v1/subjects/by-id-number", body={"id_number": PERSON.id_number}),
        Operation("post", "/v1/checks", "/v1/checks", body={"subject": BLACKLISTED.uscc, "matter": "tender", **case}),
        Operation("post", "/v1/checks/{check_id}/feedback", f"/v1/checks/{check_id}/feedback", body={"outcome": "restricted"}),
        Operation("post", "/v1/checks/batch", "/v1/checks/batch",
                  body={"matter": "tender", "subjects": [BLACKLISTED.uscc], **case}),
        Operation("post", "/v1/records/{template}", "/v1/records/penalty", body={"rows": [penalty_row("安应急罚〔2026〕D1号")]}),
        Operation("get", "/verify", "/verify", {"number": "安信报〔2099〕1号", "code": "ABCD-EFGH-JKLM"}, keyed=False),
        Operation("get", "/v1/changes", "/v1/changes", key=keys.steward),
        Operation("get", "/v1/documents/{number}", "/v1/documents/" + quote("安信报〔2099〕1号"), key=keys.steward),
        Operation("get", "/v1/repair-notices/{record_id}", "/v1/repair-notices/1", key=keys.steward),
        Operation("post", "/v1/repairs", "/v1/repairs", key=keys.steward, body={
            "external_ref": "XY-1", "subject_code": BLACKLISTED.uscc, "doc_number": "安应急罚〔2026〕D3号",
            "received_on": "2026-11-30"}),
        Operation("get", "/v1/repairs/results", "/v1/repairs/results", {"since": "2026-01-01"}, key=keys.steward),
        Operation("post", "/v1/reports/special", "/v1/reports/special", key=keys.steward,
                  body={"subject": BLACKLISTED.uscc}),
        Operation("get", "/public/changes", "/public/changes", keyed=False),
        Operation("get", "/public/records", "/public/records", keyed=False),
    ]
    assert {(o.template, o.method) for o in ops} == {(p, m) for p, ms in spec["paths"].items() for m in ms}
    seen: dict[str, set[int]] = {o.template: set() for o in ops}

    def saw(op: Operation, status: int, content_type: str, body: bytes) -> None:
        _check_problem(spec, op, status, content_type, body)
        seen[op.template].add(status)

    # Server level: 408 (a body never finished), 503 (connections and requests in flight at the limit).
    host, port = _address(server)
    in_flight = DOCUMENTED_LIMITS["limit_concurrency"] - 1  # type: ignore[operator]

    async def hold(batch: list[Operation]) -> list[tuple[Operation, asyncio.StreamReader, asyncio.StreamWriter]]:
        held = []
        for op in batch:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"{op.method.upper()} {op.path} HTTP/1.1\r\nHost: creditbot\r\n"
                         "content-type: application/json\r\ncontent-length: 10\r\n\r\n{".encode())
            held.append((op, reader, writer))
        return held

    async def timed_out(held: list[tuple[Operation, asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
        for op, reader, writer in held:
            line = await asyncio.wait_for(reader.readline(), 20)
            fields = {}
            while (raw_line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = raw_line.decode().partition(":")
                fields[name.strip().lower()] = value.strip()
            content = await reader.readexactly(int(fields["content-length"]))
            writer.close()
            assert int(line.split()[1]) == 408
            saw(op, 408, fields["content-type"], content)

    held = await hold((ops * 2)[:in_flight])  # 15 in flight: a 16th connection reaches limit_concurrency
    for attempt in range(100):  # until the held requests are all in flight
        status, fields, content, writer = await _raw(server, "GET", "/healthz", {})
        writer.close()
        if status == 503:
            break
        await asyncio.sleep(0.02 * attempt)
    for op in ops:
        status, fields, content, writer = await _raw(server, op.method.upper(), op.path, {})
        writer.close()
        assert status == 503, (op.template, status)
        saw(op, status, fields["content-type"], content)
    await timed_out(held)
    await timed_out(await hold(ops[in_flight:]))  # the routes the first round could not hold
    # Middleware: 413 (declared length over api.max_body_mb), 422 (a NUL anywhere).
    for op in ops:
        for headers, query in (({"content-length": str(2 * 1024 * 1024)}, ""), ({}, "?x=%00")):
            status, fields, content, writer = await _raw(server, op.method.upper(), op.path + query, headers)
            writer.close()
            saw(op, status, fields["content-type"], content)

    # Route level, with httpx as a department system would call.
    async def call(op: Operation, key: str | None = "", **overrides: object) -> None:
        """`key` "" is the operation's own key; None sends none."""
        key = (op.key or keys.full) if key == "" else key
        headers = {"X-API-Key": key} if key else {}
        headers.update(overrides.pop("headers", {}))  # type: ignore[arg-type]
        kwargs: dict[str, object] = {"params": overrides.pop("params", op.params)}
        if "content" in overrides:
            kwargs["content"] = overrides.pop("content")
            headers["content-type"] = "application/json"
        elif op.method == "post":
            kwargs["json"] = overrides.pop("body", op.body)
        path = str(overrides.pop("path", op.path))
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            r = await c.request(op.method.upper(), path, headers=headers, **kwargs)
        assert r.status_code >= 400, (op.template, r.status_code, r.text)
        saw(op, r.status_code, r.headers["content-type"], r.content)

    by = {o.template: o for o in ops}
    no_scope = {"/v1/lookup": keys.pusher, "/v1/subjects/{uscc}": keys.check_only,
                "/v1/subjects/by-id-number": keys.query_only, "/v1/checks": keys.query_only,
                "/v1/checks/{check_id}/feedback": keys.query_only, "/v1/checks/batch": keys.query_only,
                "/v1/records/{template}": keys.check_only, "/v1/changes": keys.check_only,
                "/v1/documents/{number}": keys.idquery_only, "/v1/repair-notices/{record_id}": keys.idquery_only,
                "/v1/repairs": keys.check_only, "/v1/repairs/results": keys.check_only,
                "/v1/reports/special": keys.pusher}
    for template, key in no_scope.items():
        await call(by[template], key=None)  # 401
        await call(by[template], key=key)  # 403
    for op in ops:
        if op.method == "post":
            await call(op, content=b'{"x": "\xff"}')  # 400: not UTF-8
    await call(by["/v1/lookup"], params={})  # 422
    await call(by["/v1/subjects/{uscc}"], path="/v1/subjects/123")
    await call(by["/v1/subjects/{uscc}"], path=f"/v1/subjects/{uscc(987_654)}")  # 404
    await call(by["/v1/subjects/by-id-number"], body={"id_number": "1" * 18})
    await call(by["/v1/subjects/by-id-number"], body={"id_number": ric(987)})
    await call(by["/v1/checks"], body={"subject": BLACKLISTED.uscc})
    await call(by["/v1/checks"], body={"subject": "完全不存在的某某某公司", "matter": "tender", **case})
    await call(by["/v1/checks"], body={"subject": "恒达建材", "matter": "tender", **case})  # 409: ambiguous
    await call(by["/v1/checks/{check_id}/feedback"], body={"outcome": "maybe"})
    await call(by["/v1/checks/{check_id}/feedback"], path="/v1/checks/2147483647/feedback")
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": keys.full}) as c:
        assert (await c.post(by["/v1/checks/{check_id}/feedback"].path, json={"outcome": "restricted"})).status_code == 200
    await call(by["/v1/checks/{check_id}/feedback"], body={"outcome": "proceeded"})  # 409: another outcome
    await call(by["/v1/checks/batch"], body={"matter": "tender", "subjects": [], **case})
    await call(by["/v1/records/{template}"], body={"rows": [{**penalty_row("安应急罚〔2026〕D2号"), "处罚决定日期": "2026-13-45"}]})
    await call(by["/verify"], params={"number": "安信报〔2099〕1号"})
    await call(by["/v1/documents/{number}"])  # 404: no such document
    await call(by["/v1/repair-notices/{record_id}"], path=f"/v1/repair-notices/{2**31 - 1}")  # 404
    await call(by["/v1/repairs"])  # 404: no record under that number yet
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        pushed = await c.post("/v1/records/penalty", headers={"X-API-Key": keys.full},
                              json={"rows": [penalty_row("安应急罚〔2026〕D3号")]})
        assert pushed.status_code == 200, pushed.text
        first = await c.post("/v1/repairs", headers={"X-API-Key": keys.steward}, json=by["/v1/repairs"].body)
        assert first.status_code == 200 and first.json()["created"], first.text
    await call(by["/v1/repairs"], body={**by["/v1/repairs"].body, "external_ref": "XY-2"})  # type: ignore[dict-item]
    await call(by["/v1/reports/special"], body={"subject": uscc(987_654)})  # 404
    await call(by["/v1/reports/special"], key=keys.full)  # 403: a check key without the subject's authorisation
    # 409 of an Idempotency-Key whose first request is still in progress.
    db = Database(url)
    try:
        async with db.transaction() as s:
            key_id = await s.scalar(select(ApiKey.id).where(ApiKey.prefix == keys.prefixes["full"]))
            for template in ("/v1/checks/batch", "/v1/records/{template}"):
                raw = json.dumps(by[template].body).encode()
                s.add(ApiIdempotency(api_key_id=key_id, idem_key=f"busy-{template}", owner="f" * 32,
                                     request_hash=request_hash("POST", by[template].path, raw),
                                     lease_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)))
    finally:
        await db.dispose()
    for template in ("/v1/checks/batch", "/v1/records/{template}"):
        await call(by[template], content=json.dumps(by[template].body).encode(),
                   headers={"Idempotency-Key": f"busy-{template}"})
    # 429: a key over its rate (checked before its scope), and /verify per client address.
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": keys.limited}) as c:
        for _ in range(DOCUMENTED_LIMITS["burst"] + 1):  # type: ignore[operator]
            await c.get("/v1/lookup", params={"q": "鑫源矿业"})
    for template in no_scope:
        await call(by[template], key=keys.limited)
    async with httpx.AsyncClient(base_url=server.url) as c:
        for _ in range(11):
            last = await c.get("/verify", params=by["/verify"].params)
    saw(by["/verify"], last.status_code, last.headers["content-type"], last.content)
    async with httpx.AsyncClient(base_url=server.url) as c:  # the website's routes share one allowance
        for _ in range(21):
            last = await c.get("/public/records")
        changes_too = await c.get("/public/changes")
    saw(by["/public/records"], last.status_code, last.headers["content-type"], last.content)
    saw(by["/public/changes"], changes_too.status_code, changes_too.headers["content-type"], changes_too.content)

    for op in ops:
        documented_statuses = {int(s) for s in spec["paths"][op.template][op.method]["responses"] if s[0] in "45"}
        assert documented_statuses - UNTRIGGERABLE == seen[op.template], (op.template, documented_statuses, seen[op.template])
