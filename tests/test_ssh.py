"""A real SSH session: OpenSSH's sshd on 127.0.0.1, an agent key whose authorized_keys line forces
`cs-tui --db STORE --agent alice --locked`, and `ssh -tt` inside tmux to type and read the screen.

This is the setup docs/team-mode.md describes. The test checks what an agent and a supervisor
would notice: whatever the client asks to run, the workstation opens as alice; her claim and
reply land in the store under her name; another agent's change shows on her screen without a key
press; leaving the app ends the session (no shell behind it).

Needs sshd, ssh, ssh-keygen and tmux. Locally the test skips when they are missing; with
CS_TUI_REQUIRE_SSH=1 (CI) a missing tool is a failure (.ci/install-system-deps installs them).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cs_tui.data.store import Store
from cs_tui.data.views import IngestRecord

pytestmark = pytest.mark.slow

WAIT_S = 30.0  # how long to wait for the screen or the store before calling it a hang


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found is None and Path(f"/usr/sbin/{name}").exists():
        found = f"/usr/sbin/{name}"
    return found


def _require_tools() -> dict[str, str]:
    tools = {name: _tool(name) for name in ("sshd", "ssh", "ssh-keygen", "tmux")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        reason = f"needs {', '.join(missing)} (run .ci/install-system-deps)"
        if os.environ.get("CS_TUI_REQUIRE_SSH") == "1":
            pytest.fail(f"CS_TUI_REQUIRE_SSH=1 but this machine {reason}")
        pytest.skip(reason)
    return tools  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cs_tui_exe() -> str:
    exe = Path(sys.executable).with_name("cs-tui")
    if not exe.exists():
        pytest.skip("the cs-tui script is not installed next to this Python")
    return str(exe)


@dataclass
class Team:
    """A throwaway sshd that lets alice's key in only to her locked workstation."""

    dir: Path
    store_url: str
    port: int
    key: Path
    user: str
    tools: dict[str, str]
    sshd: subprocess.Popen

    def ssh_argv(self, *extra: str) -> list[str]:
        return [
            self.tools["ssh"],
            "-F", "/dev/null",
            "-p", str(self.port),
            "-i", str(self.key),
            "-e", "none",
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR",
            *extra,
            f"{self.user}@127.0.0.1",
        ]  # fmt: skip


def _wait(what: str, check, limit: float = WAIT_S):
    end = time.monotonic() + limit
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


def _kill_leftovers(marker: str) -> None:
    """Workstations started by this test's sshd (found by the test's own store path)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline and "cs-tui" in cmdline:
            with contextlib.suppress(OSError):
                os.kill(int(proc.name), signal.SIGKILL)


@pytest.fixture
def team(tmp_path_factory):
    tools = _require_tools()
    exe = _cs_tui_exe()
    # A short path: sshd and tmux sockets dislike long ones.
    work = Path(tmp_path_factory.mktemp("ssh"))
    store_path = work / "team.db"
    with Store.open(str(store_path)) as store:
        store.ensure_agent("boss", "Boss", role="supervisor")
        store.ensure_agent("alice", "Alice")
        store.ingest(
            [
                IngestRecord(
                    message_id="m1",
                    conversation_id="C1",
                    channel="chat",
                    customer="wx-1",
                    customer_name="王女士",
                    author="customer",
                    text="我的快递三天没到",
                    sent_at=datetime.now(UTC),
                )
            ]
        )
    for name in ("host_key", "alice_key"):
        subprocess.run(
            [tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)],
            check=True,
        )
    config = work / "cs-tui.toml"
    config.write_text('color_system = "256"\nlang = "en"\n', encoding="utf-8")
    forced = f"{exe} --db {store_path} --config {config} --agent alice --locked"
    pub = (work / "alice_key.pub").read_text().strip()
    (work / "authorized_keys").write_text(f'restrict,pty,command="{forced}" {pub}\n')
    port = _free_port()
    (work / "sshd_config").write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {work / 'host_key'}",
                f"AuthorizedKeysFile {work / 'authorized_keys'}",
                "PidFile none",
                "UsePAM no",
                "StrictModes no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "PermitUserEnvironment no",
                "SetEnv LANG=C.UTF-8 CS_TUI_AGENT=boss",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    log = (work / "sshd.log").open("w")
    sshd = subprocess.Popen(
        [tools["sshd"], "-D", "-e", "-f", str(work / "sshd_config")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def listening():
        if sshd.poll() is not None:
            pytest.fail(f"sshd exited: {(work / 'sshd.log').read_text()}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    _wait("sshd to listen", listening)
    yield Team(
        work,
        str(store_path),
        port,
        work / "alice_key",
        getpass.getuser(),
        tools,
        sshd,
    )
    sshd.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        sshd.wait(timeout=5)
    if sshd.poll() is None:
        sshd.kill()
        sshd.wait()
    _kill_leftovers(str(store_path))
    log.close()


class Tmux:
    """One tmux server of our own (its own socket), one window of a fixed size."""

    def __init__(self, tmux: str, work: Path) -> None:
        self.tmux = tmux
        self.socket = str(work / f"tmux-{uuid.uuid4().hex[:6]}")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.tmux, "-S", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
        )

    def start(self, argv: list[str], width: int = 120, height: int = 40) -> None:
        command = " ".join(_quote(a) for a in argv)
        self.run("new-session", "-d", "-s", "cs", "-x", str(width), "-y", str(height), command)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "cs", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "cs", "-l", text)

    def screen(self) -> str:
        done = self.run("capture-pane", "-p", "-t", "cs", check=False)
        return done.stdout if done.returncode == 0 else ""

    def alive(self) -> bool:
        return self.run("has-session", "-t", "cs", check=False).returncode == 0

    def wait_for(self, text: str) -> str:
        return _wait(f"{text!r} on the screen", lambda: text in self.screen() and self.screen())

    def kill(self) -> None:
        self.run("kill-server", check=False)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def agent_messages(url: str) -> list[tuple[str | None, str]]:
    with Store.open(url) as store:
        detail = store.conversation(store.conversation_id("C1"))
        return [(m.author, m.body) for m in detail.messages if m.author_kind == "agent"]


def test_an_agent_works_over_ssh_as_the_key_says_and_sees_others_changes_live(team):
    tmux = Tmux(team.tools["tmux"], team.dir)
    try:
        # The client asks to be the supervisor on another store: that only lands in
        # SSH_ORIGINAL_COMMAND, which the forced command never reads.
        tmux.start(
            [*team.ssh_argv("-tt"), "cs-tui", "--agent", "boss", "--db", "/tmp/elsewhere.db"]
        )
        screen = tmux.wait_for("locked")
        status = screen.splitlines()[0]
        assert "alice" in status and "boss" not in status and "team.db" in status
        assert "王女士" in screen

        tmux.keys("c")  # claim the highlighted conversation

        def claimed():
            with Store.open(team.store_url) as store:
                return store.queue_row(store.conversation_id("C1")).assignee == "alice"

        _wait("alice's claim in the store", claimed)
        tmux.keys("Enter")  # open it
        tmux.wait_for("Customer 王女士")
        tmux.keys("r")  # into the composer: its keys show in the footer once it has focus
        tmux.wait_for("Newline")
        tmux.type("您好,我来帮您查一下物流")
        tmux.wait_for("您好,我来帮您查一下物流")
        tmux.keys("Enter")  # send
        _wait("the reply in the store", lambda: agent_messages(team.store_url))
        assert agent_messages(team.store_url) == [("alice", "您好,我来帮您查一下物流")]
        tmux.wait_for("您好,我来帮您查一下物流")

        # The customer writes again (another process stores it): it appears without a key press.
        with Store.open(team.store_url) as store:
            store.post_customer_message(store.conversation_id("C1"), "还要等多久?")
        tmux.wait_for("还要等多久?")

        # Leaving the workstation ends the SSH session: there is no shell behind it.
        tmux.keys("C-q")
        _wait("the session to end", lambda: not tmux.alive())
    finally:
        tmux.kill()

    with Store.open(team.store_url) as store:
        trail = [(e.kind, e.actor) for e in reversed(store.audit(store.get_agent("boss")))]
        assert ("claim", "alice") in trail and ("reply", "alice") in trail
        assert store.get_agent("boss").role == "supervisor"
        assert [a.handle for a in store.list_agents()] == ["alice", "boss"]


def test_a_command_sent_over_ssh_never_runs(team):
    marker = team.dir / "pwned"
    done = subprocess.run(
        [*team.ssh_argv("-T"), f"touch {marker}; echo shell-ran"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    # Without a terminal the locked workstation refuses to start; the command never runs.
    assert done.returncode != 0
    assert "--locked needs a terminal" in done.stderr
    assert not marker.exists() and "shell-ran" not in done.stdout + done.stderr
