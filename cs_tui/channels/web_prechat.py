"""The web chat's optional pre-chat form: a name and an order number asked before the first
message, when the channel has it switched on (`channels add web ... --pre-chat`, settings
`{"pre_chat": true}`).

Both come from a browser, so both are untrusted: the name is one line of printable text (no
control, format or bidi characters, spaces folded) of at most 80 characters; the order number is
letters, digits, '-' and '_' (at most 26, so its tag fits the 32-character tag limit). The name
becomes the customer's name when the first message creates the customer; the order number
becomes the conversation's tag `order:NUMBER`, which the side panel shows and the queue's
filter finds. Anything else is refused with a code the page turns into a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_NAME = 80
MAX_ORDER = 26
ORDER_TAG = "order:"
_ORDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")


def pre_chat_on(settings: Mapping[str, Any]) -> bool:
    return settings.get("pre_chat") is True


@dataclass(frozen=True)
class PreChat:
    name: str | None = None
    order: str | None = None

    def line_fields(self) -> dict[str, object]:
        """The import-line fields they become on the conversation's first message."""
        fields: dict[str, object] = {}
        if self.name:
            fields["customer_name"] = self.name
        if self.order:
            fields["tags"] = [ORDER_TAG + self.order]
        return fields


def read_pre_chat(name: object, order: object) -> PreChat | str:
    """The checked form, or the refusal code (`bad_name`, `bad_order`). Empty or absent fields
    are left out: the form is a courtesy, the message is what matters."""
    clean_name: str | None = None
    if name is not None and name != "":
        if not isinstance(name, str) or len(name) > MAX_NAME * 4:
            return "bad_name"
        clean_name = " ".join(name.split())
        if len(clean_name) > MAX_NAME or not clean_name.isprintable():
            return "bad_name"
        clean_name = clean_name or None
    clean_order: str | None = None
    if order is not None and order != "":
        if not isinstance(order, str):
            return "bad_order"
        clean_order = order.strip()
        if len(clean_order) > MAX_ORDER or not _ORDER.match(clean_order):
            return "bad_order"
    return PreChat(clean_name, clean_order)
