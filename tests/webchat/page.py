"""Reading and driving the chat page through its DOM contract (the one integrators rely on)."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.webchat.conftest import WAIT_S

MESSAGES_JS = """
return Array.from(document.querySelectorAll('[data-author]')).map(function (n) {
  var text = n.querySelector('.cs-text');
  var name = n.querySelector('.cs-name');
  return {author: n.getAttribute('data-author'), status: n.getAttribute('data-status'),
          seq: n.getAttribute('data-seq'), text: text ? text.textContent : n.textContent,
          all: n.textContent, name: name ? name.textContent : null,
          elements: n.querySelectorAll('*').length};
});
"""


class ChatPage:
    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def open(self, url: str) -> ChatPage:
        self.driver.get(url)
        return self

    def wait(self, condition: Any, what: str) -> Any:
        return WebDriverWait(self.driver, WAIT_S, poll_frequency=0.05).until(
            lambda _d: condition(), message=what
        )

    def connection(self) -> str:
        node = self.driver.find_element(By.CSS_SELECTOR, "[data-connection]")
        return str(node.get_attribute("data-connection"))

    def wait_online(self) -> None:
        self.wait(lambda: self.connection() == "online", "the page never came online")

    def messages(self) -> list[dict[str, Any]]:
        return list(self.driver.execute_script(MESSAGES_JS))

    def texts(self, author: str | None = None) -> list[str]:
        return [m["text"] for m in self.messages() if author is None or m["author"] == author]

    def send(self, text: str) -> None:
        box = self.driver.find_element(By.CSS_SELECTOR, "textarea[name=message]")
        # Set the value by script: send_keys cannot type every character (controls, emoji).
        self.driver.execute_script("arguments[0].value = arguments[1];", box, text)
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    def wait_message(self, author: str, text: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for m in self.messages():
                if m["author"] == author and m["text"] == text:
                    return m
            return None

        result: dict[str, Any] = self.wait(found, f"no {author} message {text[:40]!r}")
        return result

    def wait_sent(self, text: str) -> dict[str, Any]:
        def sent() -> dict[str, Any] | None:
            for m in self.messages():
                if m["author"] == "customer" and m["text"] == text and m["status"] == "sent":
                    return m
            return None

        result: dict[str, Any] = self.wait(sent, f"{text[:40]!r} never read as sent")
        return result
