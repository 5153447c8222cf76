"""`cs-tui serve` as a real process: what an integration gets back, and what the store keeps.

One server per backend for the whole module (starting one costs about a second); each test
speaks for a channel of its own, so the per-token rate limit of one never touches another.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_tui.data.errors import NotFound
from cs_tui.data.watch import ChangeWatcher
from tests.server.conftest import Gateway, message, start_gateway

pytestmark = pytest.mark.slow

CHANNELS = {
    "shop": True,
    "batch": True,
    "bodies": True,
    "flood": True,
    "receipts": True,
    "other": True,
    "rotating": True,
    "off": False,
}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, backend):
    tmp = tmp_path_factory.mktemp(f"serve-{backend}")
    # A low rate so the flood test reaches it quickly; the others stay far below it.
    yield from start_gateway(
        tmp,
        backend,
        CHANNELS,
        *("--rate", "10/s", "--burst", "20", "--body-timeout", "2s", "--no-deliver"),
    )


def post(gw: Gateway, channel: str, body: object, **kw: object) -> httpx.Response:
    with gw.client() as client:
        return client.post(
            "/api/v1/messages",
            content=json.dumps(body),
            headers={**JSON, **gw.auth(channel)},
            **kw,  # type: ignore[arg-type]
        )


def test_healthz_says_the_store_is_reachable(gateway):
    with gateway.client() as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "store": "reachable"}


def test_a_message_is_stored_once_and_workstations_see_it(gateway):
    watcher = ChangeWatcher(gateway.store, listen=False)
    try:
        first = post(gateway, "shop", message(1, conversation="shop-1"))
        assert first.status_code == 201
        assert first.json() == {
            "status": "stored",
            "message_id": "m-1",
            "conversation_id": "shop-1",
        }
        conversation_id = gateway.store.conversation_id("shop-1")
        seen: list[int | None] = []
        deadline = time.monotonic() + 10
        while conversation_id not in seen and time.monotonic() < deadline:
            watcher.wait(0.5)
            seen += [event.conversation_id for event in watcher.poll()]
        assert conversation_id in seen  # the workstation's change feed carries it
    finally:
        watcher.close()
    again = post(gateway, "shop", message(1, conversation="shop-1"))
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    view = gateway.store.conversation(conversation_id)
    assert [m.body for m in view.messages] == ["where is my parcel 1?"]
    assert view.row.channel == "chat"  # the channel's type, since the message named none


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer cst_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"],
)
def test_missing_and_wrong_tokens_get_the_same_answer(gateway, authorization):
    headers = dict(JSON)
    if authorization is not None:
        headers["Authorization"] = authorization
    with gateway.client() as client:
        answer = client.post("/api/v1/messages", content=json.dumps(message(2)), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {
        "error": "unauthorized",
        "message": "a valid channel token is required: Authorization: Bearer TOKEN",
    }


def test_a_disabled_channel_is_refused_and_stores_nothing(gateway):
    answer = post(gateway, "off", message(3, conversation="off-1"))
    assert answer.status_code == 403
    assert answer.json()["error"] == "channel_disabled"
    with pytest.raises(Exception, match="off-1"):
        gateway.store.conversation_id("off-1")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "not_json"),
        (b"\xff\xfe\x00garbage", "not_json"),
        ('{"message_id": "m-1"}'.encode("utf-16"), "not_json"),
        (b'{"a": NaN}', "not_json"),
        # Named: its 200,000-character id would go into PYTEST_CURRENT_TEST, too long for the
        # environment of the server this module starts should this test be the first to need it.
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not_json", id="nested-100000-deep"),
        (b"[1, 2]", "not_object"),
        (b'"text"', "not_object"),
        (b'{"messages": {"a": 1}}', "bad_batch"),
        (b'{"messages": []}', "empty_batch"),
    ],
)
def test_bodies_that_are_not_a_message_object_get_400(gateway, body, code):
    with gateway.client() as client:
        answer = client.post(
            "/api/v1/messages", content=body, headers={**JSON, **gateway.auth("bodies")}
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == code
    assert "Traceback" not in gateway.server.log()


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_declared_json_gets_415(gateway, content_type):
    headers = dict(gateway.auth("bodies"))
    if content_type:
        headers["Content-Type"] = content_type
    with gateway.client() as client:
        answer = client.post("/api/v1/messages", content=json.dumps(message(4)), headers=headers)
    assert answer.status_code == 415
    assert answer.json()["error"] == "unsupported_media_type"


def test_bodies_above_one_mebibyte_get_413_whether_declared_or_streamed(gateway):
    big = json.dumps(message(5, text="x" * (1024 * 1024))).encode()
    with gateway.client() as client:
        declared = client.post(
            "/api/v1/messages", content=big, headers={**JSON, **gateway.auth("bodies")}
        )

        def chunks():  # no Content-Length: only counting the bytes can catch it
            for start in range(0, len(big), 64 * 1024):
                yield big[start : start + 64 * 1024]

        streamed = client.post(
            "/api/v1/messages", content=chunks(), headers={**JSON, **gateway.auth("bodies")}
        )
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "too_large"
    with gateway.client() as client:  # and the server goes on answering
        assert client.get("/healthz").status_code == 200


def test_a_body_that_stops_arriving_gets_408(gateway):
    body = json.dumps(message(10, conversation="slow")).encode()

    def stalls():
        yield body[:10]
        time.sleep(4)  # the server waits 2 s for the rest
        yield body[10:]

    with gateway.client() as client:
        answer = client.post(
            "/api/v1/messages", content=stalls(), headers={**JSON, **gateway.auth("bodies")}
        )
    assert answer.status_code == 408
    assert answer.json()["error"] == "timeout"
    with pytest.raises(Exception, match="slow"):
        gateway.store.conversation_id("slow")


def test_endless_headers_are_cut_off_and_the_server_goes_on(gateway):
    url = httpx.URL(gateway.server.url)
    with socket.create_connection((url.host, url.port), timeout=10) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        with contextlib.suppress(ConnectionError):  # the server may hang up mid-way
            for i in range(1000):  # 1 MB of headers, where 16 KiB is the most kept
                conn.sendall(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000))
        try:
            answer = conn.recv(100)  # a server still buffering would time out here
        except ConnectionResetError:
            answer = b""
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4")
    with gateway.client() as client:
        assert client.get("/healthz").status_code == 200


def test_a_client_leaving_mid_body_stores_nothing_and_breaks_nothing(gateway):
    url = httpx.URL(gateway.server.url)
    body = json.dumps(message(11, conversation="left")).encode()
    head = (
        "POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {gateway.tokens['bodies']}\r\n"
        f"Content-Length: {len(body) + 100}\r\n\r\n"
    ).encode()
    with socket.create_connection((url.host, url.port), timeout=10) as conn:
        conn.sendall(head + body)  # 100 bytes short, then gone
    with gateway.client() as client:
        assert client.get("/healthz").status_code == 200
    with pytest.raises(Exception, match="left"):
        gateway.store.conversation_id("left")


def test_a_batch_stores_the_good_items_and_names_the_bad_ones(gateway):
    items = [
        message("b1", conversation="batch-1"),
        {"conversation_id": "batch-1", "text": "no id"},
        message("b2", conversation="batch-1", author="agent", agent="ann"),
        message("b3", conversation="batch-1", channel="email"),
        "not an object",
        message("b4", conversation="batch-2", customer="li.lei"),
    ]
    answer = post(gateway, "batch", {"messages": items})
    assert answer.status_code == 201
    body = answer.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (2, 0, 4)
    statuses = [(r["index"], r["status"]) for r in body["results"]]
    assert statuses == [
        (0, "stored"),
        (1, "rejected"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "rejected"),
        (5, "stored"),
    ]
    assert "message_id" in body["results"][1]["reason"]
    assert body["results"][2]["reason"]  # an integration does not speak for agents
    batch_1 = gateway.store.conversation(gateway.store.conversation_id("batch-1"))
    assert [m.external_id for m in batch_1.messages] == ["m-b1"]

    again = post(gateway, "batch", {"messages": [items[0], items[5]]})
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]

    refused = post(gateway, "batch", {"messages": [items[1], items[4]]})
    assert refused.status_code == 422
    assert refused.json()["rejected"] == 2


def test_a_batch_above_500_is_refused_naming_the_limit(gateway):
    items = [message(f"big-{i}", conversation="batch-big") for i in range(501)]
    answer = post(gateway, "batch", {"messages": items})
    assert answer.status_code == 400
    assert answer.json()["error"] == "batch_too_large"
    assert "500" in answer.json()["message"]
    with pytest.raises(Exception, match="batch-big"):
        gateway.store.conversation_id("batch-big")


def test_a_single_refused_message_gets_422_with_its_reason(gateway):
    answer = post(gateway, "shop", message(6, conversation="shop-2", sent_at="yesterday"))
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_message"
    assert "sent_at" in answer.json()["message"]


def test_a_conversation_of_another_channel_is_not_written_to(gateway):
    assert post(gateway, "other", message(7, conversation="theirs")).status_code == 201
    answer = post(gateway, "shop", message(8, conversation="theirs"))
    assert answer.status_code == 422
    view = gateway.store.conversation(gateway.store.conversation_id("theirs"))
    assert [m.external_id for m in view.messages] == ["m-7"]


def test_above_the_rate_a_token_gets_429_with_retry_after(gateway):
    statuses = []
    limited = None
    with gateway.client() as client:
        for _ in range(500):  # burst 20 + 10/s: these come faster than that, however slow
            answer = client.post(
                "/api/v1/messages", content=b"{}", headers={**gateway.auth("flood")}
            )
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                limited = answer
                break
    assert limited is not None
    assert set(statuses) == {415, 429}  # the gate refuses the type only once admitted
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"] == "rate_limited"
    # Another channel's token has its own bucket.
    assert post(gateway, "shop", message(9, conversation="shop-3")).status_code == 201


def test_receipts_update_this_channels_deliveries_only(gateway):
    store = gateway.store
    assert post(gateway, "receipts", message("r1", conversation="rc-1")).status_code == 201
    conversation_id = store.conversation_id("rc-1")
    agent = store.sign_in("ann")
    assert store.claim(agent, conversation_id)
    reply = store.post_reply(agent, conversation_id, "您好,我帮您查一下物流")
    deliveries = store.deliveries(agent, conversation_id=conversation_id)
    assert [d.status for d in deliveries] == ["queued"]  # this server does not deliver
    public_id = deliveries[0].public_message_id
    assert public_id == (reply.external_id or f"cs-{reply.id}")
    headers = {**JSON, **gateway.auth("receipts")}
    with gateway.client() as client:
        bad = client.patch(
            f"/api/v1/messages/{public_id}", json={"status": "lost"}, headers=headers
        )
        theirs = client.patch(
            f"/api/v1/messages/{public_id}",
            json={"status": "read"},
            headers={**JSON, **gateway.auth("other")},
        )
        unknown = client.patch(
            "/api/v1/messages/cs-999999", json={"status": "read"}, headers=headers
        )
        listed = client.patch(f"/api/v1/messages/{public_id}", content=b"[1]", headers=headers)
        anonymous = client.patch(f"/api/v1/messages/{public_id}", json={"status": "read"})
        good = client.patch(
            f"/api/v1/messages/{public_id}", json={"status": "delivered"}, headers=headers
        )
    assert bad.status_code == 400 and bad.json()["error"] == "bad_status"
    assert listed.status_code == 400 and listed.json()["error"] == "not_object"
    assert anonymous.status_code == 401
    assert theirs.status_code == 404
    assert unknown.status_code == 404
    assert good.status_code == 200
    assert good.json()["status"] == "delivered"
    assert store.delivery(deliveries[0].delivery_id).status == "delivered"


def test_a_receipt_reason_no_store_can_keep_gets_400_not_a_crash(gateway):
    store = gateway.store
    assert post(gateway, "receipts", message("r2", conversation="rc-2")).status_code == 201
    conversation_id = store.conversation_id("rc-2")
    agent = store.sign_in("ann")
    assert store.claim(agent, conversation_id)
    store.post_reply(agent, conversation_id, "好的")
    [delivery] = store.deliveries(agent, conversation_id=conversation_id)
    headers = {**JSON, **gateway.auth("receipts")}
    with gateway.client() as client:
        answers = [
            client.patch(
                f"/api/v1/messages/{delivery.public_message_id}",
                content=json.dumps({"status": "failed", "error": bad}),
                headers=headers,
            )
            for bad in ("x\ud800y", "nul\x00here")
        ]
        odd_id = client.patch("/api/v1/messages/cs-1%00", json={"status": "read"}, headers=headers)
    assert [a.status_code for a in answers] == [400, 400]
    assert all(a.json()["error"] == "bad_error" for a in answers)
    assert odd_id.status_code == 404
    assert store.delivery(delivery.delivery_id).status == "queued"


def test_a_web_channel_holding_an_old_token_cannot_post_through_the_api(gateway):
    """Web and e-mail channels get no API token; one made before that rule may still hold a
    token hash, and it must open nothing."""
    import hashlib

    store = gateway.store
    made = store.add_channel(None, "web", "oldweb", settings={"origins": ["https://x.example"]})
    token = "cst_" + "o" * 43
    with store._write() as conn:
        conn.exec_driver_sql(
            "UPDATE gateway_channel SET token_hash = ? WHERE id = ?"
            if store.dialect == "sqlite"
            else "UPDATE gateway_channel SET token_hash = %s WHERE id = %s",
            (hashlib.sha256(token.encode()).hexdigest(), made.channel.id),
        )
    with gateway.client() as client:
        answer = client.post(
            "/api/v1/messages",
            content=json.dumps(message("w1", conversation="web-1")),
            headers={**JSON, "Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 401
    with pytest.raises(NotFound):
        store.conversation_id("web-1")


def test_disabling_or_rotating_a_channel_takes_effect_within_a_second(gateway):
    store = gateway.store
    assert post(gateway, "rotating", message("t1", conversation="rot-1")).status_code == 201
    store.set_channel_active(None, "rotating", False)
    time.sleep(1.2)  # the server remembers a token's channel for at most one second
    assert post(gateway, "rotating", message("t2", conversation="rot-1")).status_code == 403
    store.set_channel_active(None, "rotating", True)
    old = gateway.tokens["rotating"]
    gateway.tokens["rotating"] = store.rotate_channel(None, "rotating").token
    time.sleep(1.2)
    assert post(gateway, "rotating", message("t3", conversation="rot-1")).status_code == 201
    gateway.tokens["old"] = old
    assert post(gateway, "old", message("t4", conversation="rot-1")).status_code == 401


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    [
        "message_id",
        "conversation_id",
        "customer",
        "author",
        "text",
        "sent_at",
        "channel",
        "messages",
        "tags",
        "csat",
        "agent",
    ]
)
MESSAGE_LIKE = st.dictionaries(FIELDS, JSON_VALUES, max_size=8)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    MESSAGE_LIKE.map(lambda v: json.dumps(v).encode()),
    st.lists(MESSAGE_LIKE, max_size=5).map(lambda v: json.dumps({"messages": v}).encode()),
)


def test_any_body_gets_a_json_answer_and_never_an_error_of_the_server(gateway):
    """Whatever the body, the answer is a JSON 2xx/4xx: never a 500, never a traceback."""
    tokens = [
        gateway.store.add_channel(None, "api", f"fuzz-{i}", webhook_url=None).token
        for i in range(8)
    ]
    calls = iter(range(10**9))
    with gateway.client() as client:

        @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=BODIES)
        def check(body: bytes) -> None:
            token = tokens[next(calls) % len(tokens)]  # 8 buckets: far below their rate
            answer = client.post(
                "/api/v1/messages",
                content=body,
                headers={**JSON, "Authorization": f"Bearer {token}"},
            )
            assert answer.status_code in (200, 201, 400, 422), answer.text
            assert isinstance(answer.json(), dict)

        check()


def test_no_request_ended_in_a_crash_report(gateway):
    assert not (gateway.server.home / "data" / "crash-reports").exists()
    assert "a request failed" not in gateway.server.log()


LINE = re.compile(r"^\S+ (GET|POST|PATCH|PUT|DELETE) /\S* \d{3} \d+\.\dms \d+B$")


def test_the_access_log_has_one_line_per_request_and_no_text(gateway):
    with gateway.client() as client:
        client.get("/healthz?token=query-secret")
    log = gateway.server.log().splitlines()
    lines = [line for line in log if not line.startswith("cs-tui serve:")]
    assert lines and all(LINE.match(line) for line in lines), lines[:5]
    text = "\n".join(log)
    for token in gateway.tokens.values():
        assert token not in text
    for secret in ("parcel", "query-secret", "您好", "Bearer", "wang.fang"):
        assert secret not in text
    assert any(line.split()[2] == "/healthz" for line in lines)
