"""Real mail servers for the e-mail tests: Dovecot (IMAP) as a process, aiosmtpd in this one.

Dovecot runs unprivileged where it can: its configuration, sockets, logs and mailboxes all live
in one temporary directory, it listens only on 127.0.0.1 at a port the system chose, and users
come from a plain password file. Mails are put into a mailbox with IMAP APPEND, as a customer's
mail client (or the delivery agent) would.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT) and os.path.exists("/usr/lib/dovecot/imap")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key): the tests trust it through
    SSL_CERT_FILE, as a shop's admin would add a private CA."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    os.chmod(key, 0o644)
    return cert, key


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    users: dict[str, str]
    imaps_port: int = 0

    def url(self, user: str, scheme: str = "imap") -> str:
        return f"{scheme}://{user}@127.0.0.1:{self.port}"

    def client(self, user: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(user, self.users[user])
        return imap

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        imap = self.client(user)
        try:
            status, _ = imap.append(folder, "", None, raw)  # type: ignore[arg-type]
            assert status == "OK"
        finally:
            imap.logout()

    def flags(self, user: str, folder: str = "INBOX") -> list[bytes]:
        imap = self.client(user)
        try:
            imap.select(folder, readonly=True)
            _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            return [d for d in data if isinstance(d, bytes)]
        finally:
            imap.logout()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(users: dict[str, str], *, tls: bool = False) -> Dovecot:
    """A Dovecot of our own in a new temporary directory, listening on 127.0.0.1 at a free
    port. (Not under pytest's tmp_path: run as root, Dovecot's helper processes switch to its
    own users, who must be able to reach the password file and the mailboxes.)"""
    root = Path(tempfile.mkdtemp(prefix="cs-tui-dovecot-"))
    os.chmod(root, 0o755)
    me = pwd.getpwuid(os.getuid())
    if os.getuid() == 0:
        # Dovecot will not run mail processes as root: mail belongs to its own user.
        mail_user = pwd.getpwnam("dovecot")
        login_user, internal_user = "dovenull", "dovecot"
    else:
        mail_user = me
        login_user = internal_user = me.pw_name
    group = grp.getgrgid(mail_user.pw_gid).gr_name
    (root / "mail").mkdir(exist_ok=True)
    os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
    passwd = root / "passwd"
    passwd.write_text(
        "".join(f"{u}:{{PLAIN}}{p}:::::\n" for u, p in users.items()), encoding="utf-8"
    )
    port = free_port()
    imaps_port = free_port() if tls else 0
    if tls:
        cert, key = make_cert(root / "tls")
        ssl = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"
    else:
        ssl = "ssl = no"
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {group}
first_valid_uid = {min(mail_user.pw_uid, 500) or 1}
mail_location = maildir:{root}/mail/%u
mail_uid = {mail_user.pw_uid}
mail_gid = {mail_user.pw_gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(root / "stderr.log", "wb"),  # noqa: SIM115 - kept open for the process
    )
    server = Dovecot(root, port, process, dict(users), imaps_port)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError("dovecot did not start:\n" + _logs(root))
        try:
            imap = imaplib.IMAP4("127.0.0.1", port, timeout=2)
            imap.logout()
            return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError("dovecot did not answer:\n" + _logs(root)) from None
            time.sleep(0.05)


def _logs(root: Path) -> str:
    parts = []
    for name in ("stderr.log", "dovecot.log"):
        path = root / name
        if path.exists():
            parts.append(path.read_text(errors="replace")[-4000:])
    return "\n".join(parts)


@dataclass
class SmtpSink:
    """aiosmtpd in a thread of the test process: keeps every mail it accepts, or refuses
    with the reply a test sets (`reply`: for example "451 4.3.0 try later"). `rcpt_delay_s`
    and `data_delay_s` make it slow to answer RCPT TO, or the end of a mail's DATA (then it
    has kept the mail before it answers, as a server that queued it and whose answer is
    slow or lost: the case where a client cannot know whether it was taken)."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    reply: str | None = None
    users: dict[str, str] = field(default_factory=dict)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    rcpt_delay_s: float = 0.0
    data_delay_s: float = 0.0

    def messages(self) -> list[Message]:
        return [message_from_bytes(raw, policy=default_policy) for _, _, raw in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Message]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        return self.messages()


@contextlib.contextmanager
def smtp_sink(
    users: dict[str, str], *, tls: tuple[Path, Path] | None = None, smtputf8: bool = True
) -> Iterator[SmtpSink]:
    """With `tls` (certificate, key): STARTTLS is offered and required before AUTH. Without
    `smtputf8`, SMTPUTF8 (RFC 6531: addresses beyond ASCII) is not offered."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    sink = SmtpSink(users=dict(users))

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            if sink.rcpt_delay_s:
                await asyncio.sleep(sink.rcpt_delay_s)
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            if sink.reply is not None:
                return sink.reply
            with sink.arrived:
                sink.received.append(
                    (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
                )
                sink.arrived.notify_all()
            if sink.data_delay_s:
                await asyncio.sleep(sink.data_delay_s)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and sink.users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=ok)

    import logging
    import warnings

    # aiosmtpd warns that AUTH without TLS is unsafe (true, and this server is local to the
    # tests) and logs a deprecation of its own internals on every login.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    port = free_port()
    context = None
    if tls is not None:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=tls is not None,
        auth_required=True,
        tls_context=context,
        require_starttls=tls is not None,
        enable_SMTPUTF8=smtputf8,
    )
    controller.start()
    sink.port = port
    try:
        yield sink
    finally:
        controller.stop()
