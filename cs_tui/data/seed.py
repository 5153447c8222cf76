"""Demo and synthetic data.

The demo store tells the stories of STANDARDS.md (late parcel, damaged item, refund not received,
7-day return dispute, pre-sale advice, invoice fix, complaint about an agent ...) in Chinese and
English, with times relative to the moment it is created so every SLA state is on screen. The
synthetic generator feeds the benchmarks: up to a million conversations written with Core
executemany, never the ORM.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from cs_tui.data.actions import apply_message, new_conversation_row
from cs_tui.data.bulk import insert_rows
from cs_tui.data.coltypes import FAR_FUTURE, UTCDateTime
from cs_tui.data.db import reset_sequences
from cs_tui.data.ingest import write_messages
from cs_tui.data.slarow import sla_columns
from cs_tui.data.tables import AGENT, CONV, CONV_TAG, CUST, CUST_TAG, META, METADATA, MSG
from cs_tui.kb import sample_articles
from cs_tui.sla import CATEGORIES, CHANNELS, SlaPolicy

if TYPE_CHECKING:
    from cs_tui.data.demo_lease import DemoLease
    from cs_tui.data.store import Store


@dataclass(frozen=True)
class Story:
    """One demo conversation as written: its turns, tags and priority."""

    key: str
    lang: str
    category: str
    turns: tuple[tuple[str, str], ...]  # (author, text); author customer | agent
    tags: tuple[str, ...] = ()
    priority: str = "normal"


ZH = "zh"
EN = "en"

STORIES: tuple[Story, ...] = (
    Story(
        "late_parcel",
        ZH,
        "logistics",
        (
            ("customer", "你好,我的快递已经三天没动了,订单号 {order}。"),
            ("agent", "您好,{name},我理解您着急的心情,我马上帮您联系物流核实,请稍等。"),
            ("customer", "都等了3天了!到底什么时候能到?"),
        ),
        ("物流延迟",),
    ),
    Story(
        "late_parcel_en",
        EN,
        "logistics",
        (
            ("customer", "Hi, my parcel hasn't moved for three days. Order {order}."),
            (
                "agent",
                "Hello {name}, I understand how frustrating that is. Let me check with the courier for you.",
            ),
            ("customer", "It's been 3 days already!! When will it arrive?"),
        ),
        ("delay",),
    ),
    Story(
        "damaged",
        ZH,
        "after_sales",
        (
            ("customer", "收到的杯子碎了,盒子也压扁了,怎么处理?"),
            ("customer", "[图片] 这是照片"),
        ),
        ("破损",),
        "high",
    ),
    Story(
        "damaged_en",
        EN,
        "after_sales",
        (("customer", "The lamp arrived broken, the box was crushed. What now?"),),
        ("damaged",),
        "high",
    ),
    Story(
        "refund_missing",
        ZH,
        "payment",
        (
            ("customer", "退款显示成功了,可是钱一直没到账,已经5天了。"),
            ("agent", "您好,您的退款已经成功,我帮您查一下到账进度,请稍等。"),
            ("customer", "麻烦快一点,我很着急"),
        ),
        ("退款",),
    ),
    Story(
        "refund_missing_en",
        EN,
        "payment",
        (("customer", "My refund says completed but the money never arrived. Order {order}."),),
        ("refund",),
    ),
    Story(
        "return_activated",
        ZH,
        "after_sales",
        (
            ("customer", "耳机我拆开用了一次,不喜欢,能七天无理由退货吗?"),
            ("agent", "您好,您的意思是耳机已经激活使用过,现在想退货,对吗?"),
            ("customer", "对,凭什么不能退?我不满意!"),
        ),
        ("退货",),
    ),
    Story(
        "return_window_en",
        EN,
        "after_sales",
        (("customer", "I received the jacket 9 days ago, can I still return it?"),),
        ("return",),
    ),
    Story(
        "presale_laptop",
        ZH,
        "pre_sale",
        (("customer", "想买个笔记本,办公用,偶尔玩游戏,推荐哪款?"),),
        ("潜在客户",),
        "low",
    ),
    Story(
        "presale_laptop_en",
        EN,
        "pre_sale",
        (
            ("customer", "Which laptop would you suggest for office work and some light gaming?"),
            ("agent", "Happy to help! Is it for yourself or a gift, and what's your budget?"),
            ("customer", "For myself, around 6000."),
        ),
        ("prospect",),
        "low",
    ),
    Story(
        "invoice",
        ZH,
        "order",
        (("customer", "发票抬头开错了,能帮我重新开一张吗?公司名称是 {company}。"),),
        ("发票",),
    ),
    Story(
        "invoice_en",
        EN,
        "order",
        (("customer", "The invoice has the wrong company name, can you reissue it?"),),
        ("invoice",),
    ),
    Story(
        "rude_agent",
        ZH,
        "complaint",
        (("customer", "我要投诉!昨天那个客服态度太差了,说'规则就是这样',根本不听我说。"),),
        ("投诉用户",),
        "high",
    ),
    Story(
        "rude_agent_en",
        EN,
        "complaint",
        (
            (
                "customer",
                "I want to file a complaint. Your agent told me 'that's not our problem' and hung up.",
            ),
        ),
        ("complaint",),
        "high",
    ),
    Story(
        "out_of_stock",
        ZH,
        "order",
        (
            ("customer", "我已经付款了,现在告诉我没货?"),
            ("agent", "非常抱歉给您带来不便,我来帮您看看可以怎么处理。"),
            ("customer", "那什么时候能发货?"),
        ),
        ("缺货",),
    ),
    Story(
        "compensation",
        ZH,
        "complaint",
        (("customer", "快递晚了一周,你们必须赔我200块,不然我就差评!"),),
        ("投诉用户",),
        "urgent",
    ),
    Story(
        "compensation_en",
        EN,
        "complaint",
        (
            (
                "customer",
                "Your delay cost me a birthday gift. I want $100 compensation or I'll leave a 1-star review!!!",
            ),
        ),
        ("complaint",),
        "urgent",
    ),
    Story(
        "order_lookup",
        ZH,
        "order",
        (
            ("customer", "我找不到订单号在哪里看"),
            ("agent", "您好,打开APP-我的-订单-查看详情,就能看到订单号哦。"),
            ("customer", "找到了,谢谢!"),
        ),
        (),
    ),
    Story(
        "payment_failed_en",
        EN,
        "payment",
        (("customer", "Payment keeps failing at checkout, card is fine. Error code 4012."),),
        (),
    ),
    Story(
        "outage",
        ZH,
        "payment",
        (("customer", "支付页面一直转圈,是不是系统出问题了?"),),
        ("故障",),
        "high",
    ),
    Story(
        "abusive",
        ZH,
        "complaint",
        (("customer", "你们全是骗子!!!再不退钱我就去找你们麻烦!!!"),),
        ("投诉用户",),
        "urgent",
    ),
    Story(
        "thanks_en",
        EN,
        "order",
        (("customer", "Got the package today, thank you so much for the help!"),),
        (),
    ),
    Story(
        "markup_test",
        EN,
        "product",
        (
            (
                "customer",
                "Does the [bold]Pro[/bold] model fit? My old one says [@click=app.quit]q[/] on the label \x1b[31mred\x1b[0m",
            ),
        ),
        (),
    ),
)

ZH_NAMES = (
    "王小明",
    "李娜",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄婷",
    "周杰",
    "吴敏",
    "徐丽",
    "孙浩",
    "马超",
    "朱琳",
    "胡军",
    "郭芳",
    "何雪",
    "林峰",
    "罗佳",
    "高远",
)
EN_NAMES = (
    "Alice Chen",
    "Ben Carter",
    "Chloe Park",
    "Daniel Ruiz",
    "Emma Wilson",
    "Farid Khan",
    "Grace Lee",
    "Henry Brooks",
    "Isla Murphy",
    "Jack Turner",
    "Kate Nguyen",
    "Liam Scott",
)
COMPANIES = ("杭州云帆科技有限公司", "上海青禾贸易有限公司", "深圳星河电子有限公司")
DEMO_AGENTS = (
    ("alice", "Alice 王", "agent"),
    ("bob", "Bob 李", "agent"),
    ("carol", "Carol 张", "agent"),
    ("sam", "Sam 周", "supervisor"),
    ("tina", "Tina 陈", "trainer"),
)
CUSTOMER_TAGS_ZH = ("老客户", "VIP", "投诉用户", "潜在客户")
CUSTOMER_TAGS_EN = ("returning", "VIP", "complained", "prospect")


ZH_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
ZH_GIVEN = (
    "小明",
    "娜",
    "伟",
    "洋",
    "静",
    "帆",
    "磊",
    "婷",
    "杰",
    "敏",
    "丽",
    "浩",
    "超",
    "琳",
    "军",
    "芳",
    "雪",
    "峰",
    "佳",
    "远",
)
EN_FIRST = (
    "Alice",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Farid",
    "Grace",
    "Henry",
    "Isla",
    "Jack",
    "Kate",
    "Liam",
    "Maya",
    "Noah",
)
EN_LAST = (
    "Chen",
    "Carter",
    "Park",
    "Ruiz",
    "Wilson",
    "Khan",
    "Lee",
    "Brooks",
    "Murphy",
    "Turner",
    "Nguyen",
    "Scott",
)
IM_CHANNELS = ("chat", "chat", "chat", "social", "phone")
TICKET_CHANNELS = ("ticket", "email")


def _demo_names(rng: random.Random) -> tuple[list[str], list[str]]:
    """Distinct, shuffled customer names: no two demo customers share one."""
    zh = [a + b for a in ZH_SURNAMES for b in ZH_GIVEN]
    en = [f"{a} {b}" for a in EN_FIRST for b in EN_LAST]
    rng.shuffle(zh)
    rng.shuffle(en)
    return zh, en


# What each slot of twenty holds, so a fresh demo opens with a few breaches on top, a few
# warnings below them, and mostly work that is still on time, plus history and paused work.
_PLAN = {
    0: "im_breached",
    1: "im_warning",
    2: "im_fresh",
    3: "im_fresh",
    4: "ticket_new",
    5: "ticket_new",
    6: "ticket_warning",
    7: "ticket_assigned",
    8: "answered",
    9: "answered",
    10: "pending",
    11: "pending",
    12: "resolved",
    13: "resolved",
    14: "resolved",
    15: "follow_up",
    16: "escalated",
    17: "snoozed",
    18: "im_waiting",
    19: "resolved",
}


def _say(
    msgs: list[dict],
    row: dict,
    author: str,
    agent_id: int | None,
    body: str,
    at: datetime,
    now: datetime,
) -> None:
    """One demo message, numbered in the order said, applied to its conversation's row."""
    mid = len(msgs) + 1
    msgs.append(
        {
            "id": mid,
            "conversation_id": row["id"],
            "author_kind": author,
            "author_agent_id": agent_id if author == "agent" else None,
            "body": body,
            "sent_at": at,
            "stored_at": now,
            "external_id": f"demo-m{mid}",
        }
    )
    apply_message(row, author, at, body)


def demo_rows(now: datetime, *, count: int = 300, seed: int = 11) -> dict[str, list[dict]]:
    """Rows for the demo store, all times relative to `now`."""
    rng = random.Random(seed)
    agents: list[dict[str, Any]] = [
        {
            "id": i + 1,
            "handle": h,
            "display_name": n,
            "role": r,
            "active": True,
            "created_at": now - timedelta(days=90),
        }
        for i, (h, n, r) in enumerate(DEMO_AGENTS)
    ]
    serving: list[int] = [a["id"] for a in agents if a["role"] == "agent"]
    customers, cust_tags = [], []
    zh_names, en_names = _demo_names(rng)
    for i in range(count // 3):
        zh = i % 3 != 2
        tier = "vip" if i % 11 == 0 else "standard"
        customers.append(
            {
                "id": i + 1,
                "handle": f"{'wx' if zh else 'web'}-{1000 + i}",
                "name": zh_names[i] if zh else en_names[i],
                "tier": tier,
                "created_at": now - timedelta(days=rng.randint(5, 400)),
                "_lang": ZH if zh else EN,
            }
        )
        tags = CUSTOMER_TAGS_ZH if zh else CUSTOMER_TAGS_EN
        if tier == "vip":
            cust_tags.append({"customer_id": i + 1, "tag": "VIP"})
        if i % 4 == 0:
            cust_tags.append({"customer_id": i + 1, "tag": tags[0]})
        if i % 9 == 4:
            cust_tags.append({"customer_id": i + 1, "tag": tags[2]})
        if i % 7 == 3:
            cust_tags.append({"customer_id": i + 1, "tag": tags[3]})
    convs: list[dict[str, Any]] = []
    msgs: list[dict[str, Any]] = []
    conv_tags: list[dict[str, Any]] = []
    for n in range(count):
        # Customers and stories are spread so neither lines up with the time slots below.
        cust = customers[(n * 37 + n // len(customers)) % len(customers)]
        stories = [st for st in STORIES if st.lang == cust["_lang"]]
        story = stories[rng.randrange(len(stories))]
        kind = _PLAN[n % 20]
        if kind == "im_breached" and n % 40 >= 20:
            kind = "im_fresh"  # keep the breaches to a handful
        channel = rng.choice(TICKET_CHANNELS if kind.startswith("ticket") else IM_CHANNELS)
        category = story.category
        assignee: int | None = None
        status = "new"
        turns = list(story.turns)
        first_target = 600 if category == "complaint" else (10 if channel == "phone" else 30)
        # Age of the conversation's last customer message, chosen so its clock is where we want it.
        if kind == "im_breached":
            age = rng.uniform(first_target + 20, first_target + 600)
        elif kind == "im_warning":
            age = first_target * rng.uniform(0.78, 0.9)
        elif kind == "im_fresh":
            age = rng.uniform(0, first_target * 0.4)
        elif kind == "im_waiting":
            age = rng.uniform(3, 25)
        elif kind == "ticket_new":
            age = rng.uniform(600, 12 * 3600)
        elif kind == "ticket_warning":
            age = rng.uniform(19 * 3600, 22 * 3600)
        elif kind == "ticket_assigned":
            age = rng.uniform(3600, 30 * 3600)
        elif kind in ("answered", "pending", "escalated", "snoozed"):
            age = rng.uniform(300, 4 * 3600)
        elif kind == "follow_up":
            age = rng.uniform(20 * 3600, 23 * 3600)
        else:
            age = rng.uniform(2 * 86400, 30 * 86400)
        if (
            kind.startswith("im_")
            and kind != "im_waiting"
            or kind in ("ticket_new", "ticket_warning")
        ):
            turns = [t for t in turns if t[0] == "customer"][:1]
        else:
            assignee = rng.choice(serving)
            status = "open"
            if not any(a == "agent" for a, _ in turns):
                turns.insert(
                    1,
                    (
                        "agent",
                        "您好,我来帮您处理,请稍等。"
                        if cust["_lang"] == ZH
                        else "Hello, I'm on it, one moment please.",
                    ),
                )
            if kind == "im_waiting" and turns[-1][0] != "customer":
                turns.append(
                    ("customer", "还在吗?" if cust["_lang"] == ZH else "Are you still there?")
                )
            if (
                kind in ("answered", "pending", "escalated", "snoozed")
                and turns[-1][0] == "customer"
            ):
                turns = (
                    turns[:-1]
                    if len(turns) > 2
                    else turns
                    + [
                        (
                            "agent",
                            "好的,我马上为您核实。"
                            if cust["_lang"] == ZH
                            else "Sure, let me check that for you.",
                        )
                    ]
                )
        # Lay the messages out so the last one is `age` seconds old, 20-90 s apart.
        gaps = [rng.uniform(20, 90) for _ in turns]
        t = now - timedelta(seconds=age + sum(gaps[1:]))
        start = t
        cid = n + 1
        row = new_conversation_row(
            id=cid,
            external_id=f"DEMO-{cid:04d}",
            customer_id=cust["id"],
            channel=channel,
            category=category,
            priority="high"
            if cust["tier"] == "vip" and story.priority == "normal"
            else story.priority,
            status=status,
            assignee_id=assignee,
            assigned_at=start + timedelta(seconds=5) if assignee else None,
            created_at=start,
            updated_at=now,
        )
        order = f"{rng.randint(10**15, 10**16 - 1)}"
        for index, (author, text) in enumerate(turns):
            if index:
                t += timedelta(seconds=gaps[index])
            body = text.format(order=order, name=cust["name"], company=rng.choice(COMPANIES))
            _say(msgs, row, author, assignee, body, t, now)
        if kind in ("resolved", "follow_up"):
            close = (
                "感谢您的耐心,问题已为您处理好,祝您生活愉快!"
                if cust["_lang"] == ZH
                else "Glad that's sorted. Thanks for your patience, have a great day!"
            )
            t += timedelta(seconds=30)
            _say(msgs, row, "agent", assignee, close, t, now)
            row["status"] = "resolved"
            row["resolved_at"] = t + timedelta(seconds=5)
            row["csat"] = rng.choice((5, 5, 5, 4, 4, 3, 2))
            if kind == "resolved":
                row["followed_up_at"] = row["resolved_at"] + timedelta(hours=3)
        elif kind == "escalated":
            row["status"] = "escalated"
            row["escalated_at"] = now - timedelta(minutes=rng.uniform(2, 26))
            row["escalation_reason"] = (
                "客户要求超出政策的赔偿,需要主管确认"
                if cust["_lang"] == ZH
                else "Customer asks for compensation beyond policy"
            )
        elif kind == "pending":
            row["status"] = "pending"
            row["pauses"] = [[(now - timedelta(minutes=rng.uniform(1, 30))).isoformat(), None]]
        elif kind == "snoozed":
            if turns[-1][0] != "customer":
                ask = "请问什么时候可以收到?" if cust["_lang"] == ZH else "When will it arrive?"
                t += timedelta(seconds=20)
                _say(msgs, row, "customer", None, ask, t, now)
            row["status"] = "snoozed"
            row["snooze_until"] = now + timedelta(minutes=rng.uniform(5, 40))
            row["pauses"] = [[t.isoformat(), None]]
        row.update(sla_columns(_policy(), row))
        convs.append(row)
        for tag in story.tags:
            conv_tags.append({"conversation_id": cid, "tag": tag})
    for c in customers:
        c.pop("_lang")
    return {
        "agent": agents,
        "customer": customers,
        "customer_tag": cust_tags,
        "conversation": convs,
        "message": msgs,
        "conversation_tag": conv_tags,
    }


_POLICY: SlaPolicy | None = None


def _policy() -> SlaPolicy:
    global _POLICY
    if _POLICY is None:
        from cs_tui.sla import default_policy

        _POLICY = default_policy()
    return _POLICY


DEMO_ANCHOR = "demo_anchor"


def write_demo(store: Store, *, count: int = 300, lease: DemoLease | None = None) -> None:
    """Fill an empty store with the demo. On later opens the demo's times move forward by the
    time that has passed since it was last used, so it opens with the same mix of breaches,
    warnings and fresh work (and whatever the user did in it) instead of everything days
    overdue; but only when no other process is showing it (`lease`, and no recent heartbeat,
    see demo_lease), which would otherwise see its own work rewritten under it."""
    from cs_tui.data.demo_lease import last_used, someone_online

    global _POLICY
    _POLICY = store.policy
    with store._read() as conn:
        has_rows = conn.execute(sa.select(CONV.c.id).limit(1)).first() is not None
        anchor = conn.execute(sa.select(META.c.value).where(META.c.key == DEMO_ANCHOR)).scalar()
    now = store.clock.now()
    if has_rows:
        alone = lease is None or lease.alone
        if anchor is not None and alone and not someone_online(store):
            rebase(store, now - last_used(store, datetime.fromisoformat(anchor)))
        return
    rows = demo_rows(now, count=count)
    _bulk_write(store, rows)
    with store._write() as conn:
        conn.execute(sa.insert(META).values(key=DEMO_ANCHOR, value=now.isoformat()))
    store.upsert_articles(sample_articles())  # the shipped sample knowledge base


def rebase(store: Store, delta: timedelta) -> None:
    """Shift every stored time by `delta` (the demo's way of standing still while time passes).

    Meant for the demo's few hundred conversations: it rewrites every row that holds a time,
    except when agents were last seen: presence is a fact about real time, and shifted it made
    agents who had not opened the demo for days look online (and at work) on the dashboard.
    """
    if delta.total_seconds() < 1:
        return

    def shift(value: datetime | None) -> datetime | None:
        return value if value is None or value >= FAR_FUTURE else value + delta

    def shift_text(value: str | None) -> str | None:
        return None if value is None else (datetime.fromisoformat(value) + delta).isoformat()

    with store._write() as conn:
        for table in METADATA.sorted_tables:
            times = [
                c
                for c in table.columns
                if isinstance(c.type, UTCDateTime) and c is not AGENT.c.last_seen_at
            ]
            if not times:
                continue
            pk = list(table.primary_key.columns)
            pauses = [c for c in table.columns if c.name == "pauses"]
            updates = []
            for row in conn.execute(sa.select(*pk, *times, *pauses)).mappings():
                change = {f"pk_{c.name}": row[c.name] for c in pk}
                change.update({c.name: shift(row[c.name]) for c in times})
                for c in pauses:
                    change[c.name] = [
                        [shift_text(a), shift_text(b)] for a, b in (row[c.name] or [])
                    ]
                updates.append(change)
            if updates:
                conn.execute(
                    sa.update(table)
                    .where(*[c == sa.bindparam(f"pk_{c.name}") for c in pk])
                    .values({c.name: sa.bindparam(c.name) for c in (*times, *pauses)}),
                    updates,
                )
        conn.execute(
            sa.update(META)
            .where(META.c.key == DEMO_ANCHOR)
            .values(value=store.clock.now().isoformat())
        )


def _bulk_write(store: Store, rows: dict[str, list[dict]]) -> None:
    tables = {
        "agent": AGENT,
        "customer": CUST,
        "customer_tag": CUST_TAG,
        "conversation": CONV,
        "message": MSG,
        "conversation_tag": CONV_TAG,
    }
    with store._write() as conn:
        for name in (
            "agent",
            "customer",
            "customer_tag",
            "conversation",
            "message",
            "conversation_tag",
        ):
            data = rows.get(name)
            if data:
                conn.execute(sa.insert(tables[name]), data)
        reset_sequences(conn, store.dialect, ("agent", "customer", "conversation", "message"))
        store._event(
            conn, None, "seeded", None, {"conversations": len(rows.get("conversation", []))}
        )


# -- synthetic data for benchmarks ------------------------------------------------------

ZH_LINES = (
    "你好,我的订单{o}还没发货",
    "快递三天没更新了",
    "退款什么时候到账?",
    "收到的商品有破损",
    "可以开发票吗?",
    "这个尺码偏大吗?",
    "我想退货,包装还在",
    "优惠券用不了",
    "物流显示已签收但我没收到",
    "都等了3天了!",
    "请问有现货吗",
    "客服态度太差了我要投诉",
)
EN_LINES = (
    "Where is my order {o}?",
    "The parcel is late",
    "When will my refund arrive?",
    "Item arrived damaged",
    "Can I get an invoice?",
    "Does this run small?",
    "I want to return it, box unopened",
    "Coupon doesn't work",
    "Tracking says delivered but nothing here",
    "Still waiting!!!",
)
AGENT_LINES_ZH = (
    "您好,请稍等,我帮您核实一下",
    "我理解您的心情,马上为您处理",
    "退款会在24小时内到账",
    "感谢您的耐心",
)
AGENT_LINES_EN = (
    "Hello, one moment while I check that for you",
    "I understand, let me sort this out",
    "Your refund will arrive within 24 hours",
    "Thanks for your patience",
)


def synthetic(
    store: Store,
    *,
    conversations: int,
    messages_per: int = 10,
    seed: int = 7,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    agents: int = 20,
) -> None:
    """Append `conversations` generated conversations with about `messages_per` messages each."""
    rng = random.Random(seed)
    policy = store.policy
    now = store.clock.now()
    with store._write() as conn:
        start_conv = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(CONV.c.id), 0))
        ).scalar_one()
        start_msg = conn.execute(sa.select(sa.func.coalesce(sa.func.max(MSG.c.id), 0))).scalar_one()
        start_cust = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(CUST.c.id), 0))
        ).scalar_one()
        agent_ids = list(
            conn.execute(sa.select(AGENT.c.id).where(AGENT.c.role == "agent")).scalars()
        )
        if len(agent_ids) < agents:
            first = conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(AGENT.c.id), 0))
            ).scalar_one()
            new = [
                {
                    "id": first + i + 1,
                    "handle": f"agent{first + i + 1:03d}",
                    "display_name": f"Agent {first + i + 1}",
                    "role": "agent",
                    "active": True,
                    "created_at": now,
                }
                for i in range(agents - len(agent_ids))
            ]
            conn.execute(sa.insert(AGENT), new)
            agent_ids += [a["id"] for a in new]
    n_customers = max(1, conversations // 3)
    cust_offset = start_cust
    done = 0
    msg_id = start_msg
    customer_written = 0
    while done < conversations:
        size = min(batch, conversations - done)
        customers, convs, msgs, tags = [], [], [], []
        # customers belonging to this slice
        want_customers = min(n_customers, (done + size) // 3 + 1)
        for k in range(customer_written, want_customers):
            zh = k % 3 != 2
            customers.append(
                {
                    "id": cust_offset + k + 1,
                    "handle": f"syn-{seed}-{cust_offset + k + 1}",
                    "name": (ZH_NAMES if zh else EN_NAMES)[
                        k % (len(ZH_NAMES) if zh else len(EN_NAMES))
                    ],
                    "tier": "vip" if k % 20 == 0 else "standard",
                    "created_at": now,
                }
            )
        customer_written = max(customer_written, want_customers)
        for j in range(size):
            n = done + j
            cid = start_conv + n + 1
            cust = cust_offset + (n // 3) % max(1, customer_written) + 1
            zh = (n // 3) % 3 != 2
            channel = CHANNELS[rng.randrange(len(CHANNELS))]
            category = CATEGORIES[rng.randrange(len(CATEGORIES))]
            age = rng.choice((rng.uniform(0, 90), rng.uniform(0, 7200), rng.uniform(0, 5 * 86400)))
            created = now - timedelta(seconds=age)
            assignee = agent_ids[rng.randrange(len(agent_ids))] if rng.random() < 0.5 else None
            row = new_conversation_row(
                id=cid,
                external_id=f"SYN-{seed}-{cid}",
                customer_id=cust,
                channel=channel,
                category=category,
                priority=("low", "normal", "normal", "high", "urgent")[rng.randrange(5)],
                status="open" if assignee else "new",
                assignee_id=assignee,
                assigned_at=created if assignee else None,
                created_at=created,
                updated_at=now,
                urgency_at=FAR_FUTURE,
            )
            count = (
                max(1, int(rng.gauss(messages_per, messages_per / 4))) if messages_per > 1 else 1
            )
            step = age / (count + 1)
            for m in range(count):
                author = "customer" if (m % 2 == 0 or not assignee) else "agent"
                if m == count - 1 and rng.random() < 0.7:
                    author = "customer"
                lines = (
                    (ZH_LINES if zh else EN_LINES)
                    if author == "customer"
                    else (AGENT_LINES_ZH if zh else AGENT_LINES_EN)
                )
                body = lines[rng.randrange(len(lines))].format(o=cid * 7919 % 10**8)
                sent = created + timedelta(seconds=step * (m + 1))
                msg_id += 1
                msgs.append(
                    (
                        cid,
                        author,
                        assignee if author == "agent" else None,
                        body,
                        sent,
                        f"syn-{seed}-m{msg_id}",
                    )
                )
                apply_message(row, author, sent, body)
            row.update(sla_columns(policy, row))
            convs.append(row)
            if n % 5 == 0:
                tags.append(
                    {
                        "conversation_id": cid,
                        "tag": ("物流延迟", "退款", "VIP", "complaint", "refund")[n % 25 // 5],
                    }
                )
        with store._write() as conn:
            if customers:
                conn.execute(sa.insert(CUST), customers)
            insert_rows(conn, store.dialect, CONV, convs, [c.name for c in CONV.columns])
            write_messages(conn, store.dialect, msgs, stored_at=now)
            if tags:
                conn.execute(sa.insert(CONV_TAG), tags)
        done += size
        if progress:
            progress(size)
    with store._write() as conn:
        reset_sequences(conn, store.dialect, ("customer", "conversation", "agent"))
        store._event(
            conn,
            None,
            "seeded",
            None,
            {"conversations": conversations, "messages_per": messages_per},
        )
