"""Store errors carry a code and parameters; the workstation words them by code, in its language.

The messages the command line prints stay exactly what they were; what changed is that the
workstation no longer recognises a refusal by its English text, so a message with a name or a
number in it (a limit, a conversation number, an agent) reaches a Chinese-speaking agent in
Chinese too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cs_tui
from cs_tui import i18n
from cs_tui.data.errors import MESSAGES, InvalidInput, NotAllowed, NotFound, StoreError
from cs_tui.widgets.store_messages import store_message


@pytest.fixture
def zh():
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


@pytest.fixture
def chat(store):
    store.ensure_agent("boss", "Boss", role="supervisor")
    alice = store.ensure_agent("alice", "Alice")
    cid = store.create_conversation(
        external_id="A", customer_handle="cust-a", customer_name="A", channel="chat"
    )
    store.post_customer_message(cid, "你好")
    store.claim(alice, cid)
    return alice, cid


def test_a_refusal_carries_its_code_and_reads_as_before(store, chat):
    alice, cid = chat
    with pytest.raises(InvalidInput) as caught:
        store.tag_conversation(alice, cid, "x" * 40)
    assert caught.value.code == "tag_too_long"
    assert caught.value.params == {"limit": 32}
    assert str(caught.value) == "a tag has at most 32 characters"
    with pytest.raises(NotFound) as caught:
        store.resolve(alice, 999_999)
    assert (caught.value.code, str(caught.value)) == ("no_conversation", "no conversation #999999")


def test_the_workstation_words_refusals_with_their_numbers_in_chinese(store, chat, zh):
    alice, cid = chat
    with pytest.raises(InvalidInput) as too_long:
        store.tag_conversation(alice, cid, "x" * 40)
    with pytest.raises(NotFound) as gone:
        store.resolve(alice, 999_999)
    with pytest.raises(NotFound) as nobody:
        store.assign(alice, cid, "carol")
    assert store_message(too_long.value) == "标签最多 32 个字符"
    assert store_message(gone.value) == "找不到会话 #999999"
    assert store_message(nobody.value) == "找不到客服 'carol'"


def test_fixed_refusals_keep_their_translation(store, chat, zh):
    _alice, cid = chat
    bob = store.ensure_agent("bob", "Bob")
    with pytest.raises(NotAllowed) as caught:
        store.escalate(bob, cid, "需要主管")
    assert caught.value.code == "belongs_to_another"
    assert store_message(caught.value) == i18n._("this conversation belongs to another agent")
    assert "another agent" not in store_message(caught.value)


def test_an_error_raised_with_its_own_words_is_shown_as_it_is(zh):
    """A path or a server's message is not a catalog entry, even when it happens to read like
    one: only the code decides."""
    error = StoreError("an empty message is not sent")
    assert error.code == "store"
    assert store_message(error) == "an empty message is not sent"
    assert store_message(InvalidInput(code="empty_message")) != "an empty message is not sent"


_ERRORS = {"StoreError", "NotAllowed", "NotFound", "InvalidInput", "StoreUnavailable"}


def _codes_raised(root: Path):
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in _ERRORS:
                for kw in node.keywords:
                    if kw.arg == "code" and isinstance(kw.value, ast.Constant):
                        yield f"{path.name}:{node.lineno}", kw.value.value


def test_every_code_the_package_raises_has_a_message():
    """A misspelt code would fail only when that refusal happens, as a KeyError in front of the
    user; here it fails at once."""
    raised = list(_codes_raised(Path(cs_tui.__file__).parent))
    assert len(raised) > 40  # the scan sees the store's refusals
    assert [(where, code) for where, code in raised if code not in MESSAGES] == []
