"""The launch's own Secret Service client against the real gnome-keyring.

It must return exactly what keyring's SecretService backend returns for the
same item, and None wherever keyring would have to decide (a miss, a locked
collection, the item only in another collection).
"""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path

import pytest
from keyring.backends.SecretService import Keyring

from codex_cf import dbus_secret
from codex_cf.constants import KEYRING_SERVICE
from helpers.secret_service import SecretServiceSession
from helpers.tokens import digest, fake_token


def _attributes(username: str) -> dict[str, str]:
    return {"username": username, "service": KEYRING_SERVICE}


def _lookup(username: str, address: str | None = None) -> str | None:
    env = {"DBUS_SESSION_BUS_ADDRESS": address or os.environ["DBUS_SESSION_BUS_ADDRESS"]}
    return dbus_secret.lookup(_attributes(username), env, 10)


@pytest.mark.parametrize(
    "value",
    [
        fake_token(),
        "x",
        "a" * 15,  # padding lengths around the AES block
        "b" * 16,
        "c" * 17,
        "d" * 200,
        "tëst-ünïcode-✓-" + fake_token("utf8"),
    ],
    ids=["token", "1", "15", "16", "17", "200", "utf-8"],
)
def test_returns_exactly_what_keyring_stored(real_keyring, value: str) -> None:
    backend = Keyring()
    backend.set_password(KEYRING_SERVICE, "dbus-client", value)
    try:
        expected = backend.get_password(KEYRING_SERVICE, "dbus-client")
        assert digest(expected) == digest(value)
        assert digest(_lookup("dbus-client")) == digest(expected)
    finally:
        backend.delete_password(KEYRING_SERVICE, "dbus-client")


def test_a_miss_is_none(real_keyring) -> None:
    real_keyring.store("dbus-present", fake_token())
    try:
        assert _lookup("dbus-present") is not None  # the control: the same call finds a hit
        assert _lookup("dbus-absent") is None
        assert (
            dbus_secret.lookup(
                {"username": "dbus-present", "service": "another-service"},
                {"DBUS_SESSION_BUS_ADDRESS": real_keyring.address},
                10,
            )
            is None
        )
    finally:
        real_keyring.clear("dbus-present")


def test_an_abstract_socket_address_is_followed(real_keyring, tmp_path: Path) -> None:
    """unix:abstract= reaches the same bus (a relay on an abstract socket name)."""
    import socket
    import threading

    relay = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    name = f"codex-cf-test-{os.getpid()}-{tmp_path.name}"
    relay.bind("\0" + name)
    relay.listen(1)

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with source, sink:
            while chunk := source.recv(65536):
                sink.sendall(chunk)

    def serve() -> None:
        client, _ = relay.accept()
        path = real_keyring.address.split("path=", 1)[1].split(",", 1)[0]
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(path)
        threading.Thread(target=pump, args=(upstream, client.dup()), daemon=True).start()
        pump(client, upstream.dup())

    threading.Thread(target=serve, daemon=True).start()
    token = fake_token()
    real_keyring.store("dbus-abstract", token)
    try:
        assert digest(_lookup("dbus-abstract", f"unix:abstract={name},guid=00")) == digest(token)
    finally:
        relay.close()
        real_keyring.clear("dbus-abstract")


def test_a_locked_collection_and_another_collection_are_none(tmp_path: Path) -> None:
    """On a bus of its own: locking it must not disturb the other tests."""
    import secretstorage

    session = SecretServiceSession(tmp_path / "own-bus").start()
    previous = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = session.address
    try:
        # gnome-keyring's in-memory "session" collection holds an item keyring would not read.
        with closing(secretstorage.dbus_init()) as connection:
            other = secretstorage.Collection(
                connection, secretstorage.collection.SESSION_COLLECTION
            )
            other.create_item("elsewhere", _attributes("dbus-elsewhere"), b"not-the-default")
        assert session.lookup("dbus-elsewhere") is not None  # libsecret searches every collection
        assert Keyring().get_password(KEYRING_SERVICE, "dbus-elsewhere") is None
        assert _lookup("dbus-elsewhere", session.address) is None

        session.store("dbus-locked", fake_token())
        assert _lookup("dbus-locked", session.address) is not None  # the control
        session.lock()
        assert _lookup("dbus-locked", session.address) is None
    finally:
        if previous is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous
        session.stop()
