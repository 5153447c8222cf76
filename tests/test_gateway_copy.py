"""A store moved to another backend keeps its channels and deliveries: the token still opens its
channel, the outbox goes on where it was, and new channels and deliveries get fresh ids."""

from __future__ import annotations

from cs_tui.data.copy import copy_store
from cs_tui.data.store import Store

WEBHOOK = "https://shop.example/hooks/cs"


def test_copy_keeps_channels_and_the_outbox(tmp_path, store_url, clock):
    source = str(tmp_path / "source.db")
    with Store.open(source, clock=clock) as s:
        alice = s.ensure_agent("alice")
        shop = s.add_channel(None, "api", "shop", webhook_url=WEBHOOK)
        s.ingest_from_channel(
            shop.channel.id,
            [
                {
                    "message_id": f"in-{n}",
                    "conversation_id": f"C{n}",
                    "customer": f"wx-{n}",
                    "author": "customer",
                    "text": "在吗",
                    "sent_at": "2026-11-11T08:59:00Z",
                }
                for n in range(2)
            ],
        )
        for n in range(2):
            cid = s.conversation_id(f"C{n}")
            s.claim(alice, cid)
            s.post_reply(alice, cid, "在的")
        [job] = s.claim_deliveries("w1", 1, 30)
        s.delivery_failed(job.delivery_id, "w1", "HTTP 404", 404)
    report = copy_store(source, store_url)
    assert report.ok
    assert report.counts["gateway_channel"] == (1, 1) and report.counts["delivery"] == (2, 2)
    with Store.open(store_url, clock=clock) as t:
        alice = t.get_agent("alice")
        auth = t.channel_by_token(shop.token)
        assert auth is not None and auth.secret == shop.secret
        assert sorted(d.status for d in t.deliveries(alice)) == ["failed", "queued"]
        assert t.queue(alice)[0].undelivered is True
        # new rows after the copied ones: the id sequences were moved on
        other = t.add_channel(None, "api", "other", webhook_url=WEBHOOK)
        assert other.channel.id > auth.id
        [left] = t.claim_deliveries("w2", 10, 30)
        t.ingest_from_channel(
            auth.id,
            [
                {
                    "message_id": "in-9",
                    "conversation_id": "C0",
                    "customer": "wx-0",
                    "author": "customer",
                    "text": "还在吗",
                    "sent_at": "2026-11-11T09:01:00Z",
                }
            ],
        )
        cid = t.conversation_id("C0")
        t.post_reply(alice, cid, "在的,马上处理")
        ids = [d.delivery_id for d in t.deliveries(alice)]
        assert len(ids) == len(set(ids)) == 3 and left.delivery_id in ids
