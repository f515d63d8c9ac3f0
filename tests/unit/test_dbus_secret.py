"""The launch's Secret Service client: its cipher, and every answer it must doubt.

The real gnome-keyring is tests/e2e/test_dbus_secret_gnome_keyring.py. Here a fake bus on a
unix socket answers as gnome-keyring does — built with jeepney and
cryptography, independent implementations of D-Bus and the session's
cryptography — until a test breaks one answer: then the lookup is None, in
bounded time, and no exception escapes. Broken answers are faults no real
daemon can be made to give.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jeepney import DBusAddress
from jeepney.low_level import HeaderFields, Message, Parser
from jeepney.wrappers import new_error, new_method_return, new_signal

from codex_cf import dbus_secret
from helpers.tokens import digest, fake_token

# FIPS-197 appendix C.1 (AES-128).
FIPS_KEY = bytes(range(16))
FIPS_PLAIN = bytes.fromhex("00112233445566778899aabbccddeeff")
FIPS_CIPHER = bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")

# NIST SP 800-38A F.2.2, CBC-AES128.Decrypt.
SP_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
SP_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
SP_CIPHER = bytes.fromhex(
    "7649abac8119b246cee98e9b12e9197d"
    "5086cb9b507219ee95db113a917678b2"
    "73bed6b8e3c1743b7116e69e22229516"
    "3ff1caa1681fac09120eca307586e1a7"
)
SP_PLAIN = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172a"
    "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef"
    "f69f2445df4f9b17ad2b417be66c3710"
)


def _encrypt(key: bytes, iv: bytes, plain: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def test_aes_block_matches_fips_197() -> None:
    keys = dbus_secret._decryption_keys(FIPS_KEY)
    assert dbus_secret.decrypt_block(keys, FIPS_CIPHER) == FIPS_PLAIN


def test_cbc_matches_sp_800_38a() -> None:
    # The vectors carry no padding: add one block of it, encrypted as CBC chains it.
    last = SP_CIPHER[-16:]
    pad_block = _encrypt(SP_KEY, last, b"")  # 16 bytes of 0x10 under the chain's last block
    assert dbus_secret.decrypt_cbc(SP_KEY, SP_IV, SP_CIPHER + pad_block) == SP_PLAIN


def test_cbc_agrees_with_cryptography_on_every_padding_length() -> None:
    rng = random.Random(20)
    for length in range(0, 70):
        key, iv = rng.randbytes(16), rng.randbytes(16)
        plain = rng.randbytes(length)
        assert dbus_secret.decrypt_cbc(key, iv, _encrypt(key, iv, plain)) == plain


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c[:-1],  # not whole blocks
        lambda c: b"",
        lambda c: c[:-16] + bytes(16),  # the last block garbled: padding is garbage
    ],
    ids=["partial block", "empty", "garbled padding"],
)
def test_cbc_refuses_bad_lengths_and_padding(change: Callable[[bytes], bytes]) -> None:
    key, iv = bytes(range(16)), bytes(16)
    cipher = _encrypt(key, iv, b"a secret of some length")
    assert dbus_secret.decrypt_cbc(key, iv, change(cipher)) is None
    assert dbus_secret.decrypt_cbc(key[:15], iv, cipher) is None


def test_every_wrong_padding_byte_is_refused() -> None:
    key, iv = bytes(16), bytes(16)
    for value in (0, 17, 255):
        assert dbus_secret.decrypt_cbc(key, iv, _encrypt(key, iv, bytes([value]) * 16)[:16]) is None
    # Right length byte, wrong filler: 03 03 03 must not pass as 02 03 03.
    block = bytes(13) + b"\x02\x03\x03"
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    assert dbus_secret.decrypt_cbc(key, iv, encryptor.update(block) + encryptor.finalize()) is None


def test_a_python_without_its_own_sha256_derives_the_same_key_with_hashlib() -> None:
    """Some builds (for FIPS) leave CPython's own hashes out; OpenSSL's then serve."""
    code = (
        "import sys\n"
        "sys.modules['_sha2'] = sys.modules['_sha256'] = None  # as if not built\n"
        "import hashlib\n"
        "from codex_cf import dbus_secret\n"
        "assert dbus_secret.sha256 is hashlib.sha256\n"
        "print(dbus_secret._session_key(3, 5).hex())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert dbus_secret.sha256 is not hashlib.sha256  # this Python has its own
    assert done.stdout.strip() == dbus_secret._session_key(3, 5).hex()


# --- a fake bus --------------------------------------------------------------------------

COLLECTION = "/org/freedesktop/secrets/aliases/default"
ITEM = "/org/freedesktop/secrets/collection/login/7"
SESSION = "/org/freedesktop/secrets/session/s1"
PRIME = dbus_secret._PRIME
BUS_NAME = "org.freedesktop.DBus"
# The lookup's calls, in order: Hello (the bus's own) with SearchItems, then one at a time.
LOOKUP_CALLS = ("Hello", "SearchItems", "OpenSession", "GetSecret")

# A test's change to one answer: (the call, the right reply, its bytes) -> the bytes to send.
Tamper = Callable[[Message, Message, bytes], bytes]


def _member(call: Message) -> str:
    return str(call.header.fields[HeaderFields.member])


class HangUp(Exception):
    """A tamper's way to close the connection."""


class FakeSecretService:
    """A session bus and gnome-keyring in one, on a unix socket; one connection at a time."""

    def __init__(self, path: Path, secret: bytes, *, item_locked: bool = False) -> None:
        self.path = path
        self.secret = secret
        self.item_locked = item_locked
        self.tamper: Tamper | None = None
        self.auth_reply = b"OK 0123456789abcdef0123456789abcdef\r\n"
        self.calls: list[str] = []
        self.failures: list[Exception] = []
        self.most_in_flight = 0  # calls to the Secret Service received before one was answered
        # How long to wait, before answering a call, for the client to send another early.
        self.linger = 0.0
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(4)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"unix:path={self.path},guid=0123456789abcdef0123456789abcdef"

    def close(self) -> None:
        self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection:
                try:
                    self._converse(connection)
                except (HangUp, OSError):  # the test's hang-up, or the client gave up
                    pass
                except Exception as exc:  # the fake itself is wrong: the test must say so
                    self.failures.append(exc)

    def _converse(self, connection: socket.socket) -> None:
        data = b""
        while b"\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                return
            data += chunk
        assert data.startswith(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode())
        connection.sendall(self.auth_reply)
        while b"BEGIN\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                return
            data += chunk
        parser = Parser()
        parser.add_data(data.split(b"BEGIN\r\n", 1)[1])
        serial = 1000
        while True:
            in_flight = 0
            while (call := parser.get_next_message()) is not None:
                self.calls.append(_member(call))
                if _member(call) != "Hello":  # the bus's own: it may go out with the first call
                    in_flight += 1
                    self.most_in_flight = max(self.most_in_flight, in_flight)
                    parser.add_data(self._sent_meanwhile(connection))
                serial += 1
                reply = self._answer(call)
                data = reply.serialise(serial)
                if self.tamper is not None:
                    data = self.tamper(call, reply, data)
                connection.sendall(data)
                if _member(call) == "Hello":  # the bus then signals the name it gave
                    signal = new_signal(
                        DBusAddress(
                            "/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus"
                        ),
                        "NameAcquired",
                        "s",
                        (":1.7",),
                    )
                    serial += 1
                    connection.sendall(signal.serialise(serial))
            chunk = connection.recv(65536)
            if not chunk:
                return
            parser.add_data(chunk)

    def _sent_meanwhile(self, connection: socket.socket) -> bytes:
        """What the client sends within `linger` of a call, before that call is answered."""
        if not self.linger:
            return b""
        connection.settimeout(self.linger)
        try:
            return connection.recv(65536)
        except TimeoutError:
            return b""
        finally:
            connection.settimeout(None)

    def _answer(self, call: Message) -> Message:
        member = _member(call)
        if member == "Hello":
            return new_method_return(call, "s", (":1.7",))
        if member == "SearchItems" and call.header.fields[HeaderFields.path] == COLLECTION:
            (attributes,) = call.body
            found = [ITEM] if attributes == {"username": "me", "service": "codex-cf"} else []
            return new_method_return(call, "ao", (found,))
        if member == "OpenSession":
            algorithm, (signature, client_public) = call.body
            assert (algorithm, signature) == ("dh-ietf1024-sha256-aes128-cbc-pkcs7", "ay")
            private = int.from_bytes(os.urandom(128), "big")
            shared = pow(int.from_bytes(client_public, "big"), private, PRIME).to_bytes(128, "big")
            self.key = HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=b"").derive(
                shared
            )
            public = pow(2, private, PRIME).to_bytes(128, "big")
            return new_method_return(call, "vo", (("ay", public), SESSION))
        if member == "GetSecret":
            assert call.body == (SESSION,)
            if self.item_locked:  # gnome-keyring's answer, whether or not the item was searched
                return new_error(call, "org.freedesktop.Secret.Error.IsLocked", "s", ("locked",))
            iv = os.urandom(16)
            value = _encrypt(self.key, iv, self.secret)
            return new_method_return(call, "(oayays)", ((SESSION, iv, value, "text/plain"),))
        return new_error(call, "org.freedesktop.DBus.Error.UnknownMethod", "s", ("no",))


@pytest.fixture
def fake_bus(tmp_path: Path) -> Iterator[FakeSecretService]:
    bus = FakeSecretService(tmp_path / "bus", fake_token().encode())
    yield bus
    bus.close()
    assert bus.failures == []


def _lookup(address: str, timeout: float = 10) -> str | None:
    env = {"DBUS_SESSION_BUS_ADDRESS": address}
    return dbus_secret.lookup({"username": "me", "service": "codex-cf"}, env, timeout)


def test_the_fake_bus_answers_like_gnome_keyring(fake_bus: FakeSecretService) -> None:
    """The control for the faults below: untouched, the fake's secret comes back."""
    # One call at a time, even while the client computes between its calls: gnome-keyring
    # 42 mishandles several at once. The fake waits before each answer to see another.
    fake_bus.linger = 0.05
    assert digest(_lookup(fake_bus.address)) == digest(fake_bus.secret)
    assert fake_bus.most_in_flight == 1
    assert fake_bus.calls == list(LOOKUP_CALLS)


def test_a_search_refused_once_is_asked_again(fake_bus: FakeSecretService) -> None:
    """gnome-keyring may refuse a new client's first call before it has recorded the client."""
    refused = []

    def refuse_first_search(call: Message, reply: Message, data: bytes) -> bytes:
        if _member(call) != "SearchItems" or refused:
            return data
        refused.append(call)
        return new_error(call, "org.freedesktop.DBus.Error.UnknownMethod", "s", ("no",)).serialise(
            1
        )

    fake_bus.tamper = refuse_first_search
    fake_bus.linger = 0.05
    assert digest(_lookup(fake_bus.address)) == digest(fake_bus.secret)
    assert fake_bus.most_in_flight == 1
    assert fake_bus.calls == ["Hello", "SearchItems", *LOOKUP_CALLS[1:]]


def test_replies_are_matched_to_their_calls_in_any_order(fake_bus: FakeSecretService) -> None:
    """The bus may deliver SearchItems' reply before the one to Hello, sent with it."""
    held = []

    def hello_last(call: Message, reply: Message, data: bytes) -> bytes:
        if _member(call) == "Hello":
            held.append(data)
            return b""
        if _member(call) == "SearchItems":
            return data + held.pop()
        return data

    fake_bus.tamper = hello_last
    assert digest(_lookup(fake_bus.address)) == digest(fake_bus.secret)


def test_a_locked_item_is_none(tmp_path: Path) -> None:
    """GetSecret's IsLocked error: the lookup asks no Locked before it."""
    bus = FakeSecretService(tmp_path / "bus", b"unused", item_locked=True)
    try:
        assert _lookup(bus.address) is None
        assert bus.calls == list(LOOKUP_CALLS)
    finally:
        bus.close()


def test_a_percent_escaped_path_is_followed(tmp_path: Path) -> None:
    folder = tmp_path / "a dir,with=odd;chars"
    folder.mkdir()
    bus = FakeSecretService(folder / "bus", b"found")
    try:
        escaped = str(folder / "bus").replace("%", "%25").replace(" ", "%20")
        escaped = escaped.replace(",", "%2c").replace("=", "%3d").replace(";", "%3b")
        assert _lookup(f"unix:path={escaped}") == "found"
    finally:
        bus.close()


@pytest.mark.parametrize(
    "address",
    [
        "",
        "tcp:host=127.0.0.1,port=9",
        "nonce-tcp:host=127.0.0.1,port=9,noncefile=/tmp/x",
        "unix:tmpdir=/tmp",
        "unix:runtime=yes",
        "unix:dir=/tmp",
        "launchd:env=DBUS_LAUNCHD_SESSION_BUS_SOCKET",
        "autolaunch:",
        "unix:path",
        "unix:path=/nonexistent/codex-cf-test-bus",
        "unix:path=%zz",
    ],
)
def test_addresses_it_does_not_speak_are_none(address: str) -> None:
    assert _lookup(address) is None


def test_a_missing_bus_address_is_none() -> None:
    assert dbus_secret.lookup({"username": "me"}, {}, 10) is None


def test_a_bus_that_never_answers_is_none_in_bounded_time(tmp_path: Path) -> None:
    """It accepts the connection (the kernel's backlog does) and never says a word."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "mute"))
    listener.listen(1)
    try:
        started = time.monotonic()
        assert _lookup(f"unix:path={tmp_path / 'mute'}", timeout=0.5) is None
        assert time.monotonic() - started < 10  # the deadline, with room for a loaded machine
    finally:
        listener.close()


def test_a_refused_authentication_is_none(fake_bus: FakeSecretService) -> None:
    fake_bus.auth_reply = b"REJECTED EXTERNAL\r\n"
    assert _lookup(fake_bus.address) is None


def _error(member: str) -> Tamper:
    def tamper(call: Message, reply: Message, data: bytes) -> bytes:
        if _member(call) != member:
            return data
        error = new_error(call, "org.freedesktop.DBus.Error.Failed", "s", ("no",))
        return error.serialise(1)

    return tamper


def _bytes(member: str, change: Callable[[bytes], bytes]) -> Tamper:
    return lambda call, reply, data: change(data) if _member(call) == member else data


def _reply(member: str, signature: str, body: tuple[object, ...]) -> Tamper:
    def tamper(call: Message, reply: Message, data: bytes) -> bytes:
        if _member(call) != member:
            return data
        return new_method_return(call, signature, body).serialise(1)

    return tamper


def _with_length(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + struct.pack("<I", value) + data[at + 4 :]


def _other_key(call: Message, reply: Message, data: bytes) -> bytes:
    if _member(call) != "GetSecret":
        return data
    session, iv, _value, kind = reply.body[0]
    wrong = _encrypt(bytes(16), iv, b"encrypted under another key")
    return new_method_return(call, "(oayays)", ((session, iv, wrong, kind),)).serialise(1)


def _other_session(call: Message, reply: Message, data: bytes) -> bytes:
    if _member(call) != "GetSecret":
        return data
    _session, iv, value, kind = reply.body[0]
    return new_method_return(call, "(oayays)", (("/other", iv, value, kind),)).serialise(1)


def _replied_to_another_call(call: Message, reply: Message, data: bytes) -> bytes:
    reply.header.fields[HeaderFields.reply_serial] = call.header.serial + 100
    return reply.serialise(1)


FAULTS: dict[str, Tamper] = {
    **{f"error for {m}": _error(m) for m in LOOKUP_CALLS},
    "random bytes": _bytes("Hello", lambda d: random.Random(7).randbytes(len(d))),
    "truncated": _bytes("SearchItems", lambda d: d[:-3]),
    "unknown byte order": _bytes("Hello", lambda d: b"X" + d[1:]),
    "protocol version 2": _bytes("Hello", lambda d: d[:3] + b"\x02" + d[3 + 1 :]),
    "huge body length": _bytes("Hello", lambda d: _with_length(d, 4, 0x7FFFFFFF)),
    "huge header length": _bytes("Hello", lambda d: _with_length(d, 12, 0x7FFFFFF0)),
    "unterminated string": _bytes("Hello", lambda d: d[:-1] + b"x"),
    "bytes after the reply": _bytes("SearchItems", lambda d: d + bytes(8)),
    "array length overruns": _bytes(
        "SearchItems", lambda d: _with_length(d, len(d) - len(ITEM) - 9, 999)
    ),
    "two replies to one call": _bytes("Hello", lambda d: d + d),
    "search answers a string": _reply("SearchItems", "s", (ITEM,)),
    "search answers booleans": _reply("SearchItems", "ab", ([True],)),
    "public key as a string": _reply("OpenSession", "vo", (("s", "key"), SESSION)),
    "public key of 1": _reply("OpenSession", "vo", (("ay", b"\x01"), SESSION)),
    "public key too long": _reply("OpenSession", "vo", (("ay", bytes(129)), SESSION)),
    "plain session offered": _reply("OpenSession", "vo", (("s", ""), SESSION)),
    "secret of another session": _other_session,
    "secret not in blocks": _reply(
        "GetSecret", "(oayays)", ((SESSION, bytes(16), bytes(15), "text/plain"),)
    ),
    "secret under another key": _other_key,
    "replies to other calls only": _replied_to_another_call,
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_every_broken_answer_is_none(fake_bus: FakeSecretService, fault: str) -> None:
    fake_bus.tamper = FAULTS[fault]
    started = time.monotonic()
    assert _lookup(fake_bus.address, timeout=2) is None
    assert time.monotonic() - started < 20


def test_a_secret_that_is_not_utf_8_is_none(tmp_path: Path) -> None:
    bus = FakeSecretService(tmp_path / "bus", b"\xff\xfe not text")
    try:
        assert _lookup(bus.address) is None
    finally:
        bus.close()


def test_the_connection_closing_midway_is_none(fake_bus: FakeSecretService) -> None:
    def close_after_hello(call: Message, reply: Message, data: bytes) -> bytes:
        if _member(call) == "OpenSession":
            raise HangUp
        return data

    fake_bus.tamper = close_after_hello
    assert _lookup(fake_bus.address) is None


def test_random_answers_never_raise(fake_bus: FakeSecretService) -> None:
    rng = random.Random(2026)

    def scramble(call: Message, reply: Message, data: bytes) -> bytes:
        cut = rng.randrange(len(data))
        return data[:cut] + rng.randbytes(rng.randrange(1, 24)) + data[cut + 1 :]

    fake_bus.tamper = scramble
    for _ in range(40):
        # A scramble that leaves a valid answer (a letter of the content type) may read the
        # secret, never another value.
        found = _lookup(fake_bus.address, timeout=1)
        assert found is None or digest(found) == digest(fake_bus.secret)
