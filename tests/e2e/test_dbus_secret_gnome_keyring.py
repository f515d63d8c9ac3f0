"""The launch's own Secret Service client against the real gnome-keyring.

It must return exactly what keyring's SecretService backend returns for the
same item, and None wherever keyring would have to decide (a miss, a locked
collection, no default collection, the item only in another collection).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, HeaderFields, Message, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from keyring.backends.SecretService import Keyring

from codex_cf import dbus_secret
from codex_cf.constants import KEYRING_SERVICE
from helpers.secret_service import SecretServiceSession
from helpers.tokens import digest, fake_token

DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login"
SERVICE = "/org/freedesktop/secrets"
TIMEOUT = 10  # the lookup's deadline here; a None well before it is the daemon's answer


def _attributes(username: str) -> dict[str, str]:
    return {"username": username, "service": KEYRING_SERVICE}


def _lookup(username: str, address: str | None = None) -> str | None:
    env = {"DBUS_SESSION_BUS_ADDRESS": address or os.environ["DBUS_SESSION_BUS_ADDRESS"]}
    return dbus_secret.lookup(_attributes(username), env, TIMEOUT)


def _answered_none(username: str, address: str) -> bool:
    """The lookup is None, and sooner than its deadline: the daemon said so."""
    started = time.monotonic()
    found = _lookup(username, address)
    return found is None and time.monotonic() - started < TIMEOUT / 2


def _call(
    connection: DBusConnection, path: str, interface: str, member: str, signature: str, *body: Any
) -> Message:
    """One call as the daemon answers it, error replies included (a hang fails the test)."""
    address = DBusAddress(path, "org.freedesktop.secrets", f"org.freedesktop.Secret.{interface}")
    return connection.send_and_get_reply(
        new_method_call(address, member, signature, body), timeout=TIMEOUT
    )


def _error_name(reply: Message) -> str | None:
    if reply.header.message_type != MessageType.error:
        return None
    return str(reply.header.fields[HeaderFields.error_name])


@pytest.fixture
def own_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretServiceSession]:
    """A Secret Service of the test's own: locking it or deleting its collection disturbs no
    other test. secretstorage reads its address from the environment."""
    session = SecretServiceSession(tmp_path / "own-bus").start()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
    try:
        yield session
    finally:
        session.stop()


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


def test_an_item_in_another_collection_is_none(own_bus: SecretServiceSession) -> None:
    import secretstorage

    # gnome-keyring's in-memory "session" collection holds an item keyring would not read.
    with closing(secretstorage.dbus_init()) as connection:
        other = secretstorage.Collection(connection, secretstorage.collection.SESSION_COLLECTION)
        other.create_item("elsewhere", _attributes("dbus-elsewhere"), b"not-the-default")
    assert own_bus.lookup("dbus-elsewhere") is not None  # libsecret searches every collection
    assert Keyring().get_password(KEYRING_SERVICE, "dbus-elsewhere") is None
    assert _answered_none("dbus-elsewhere", own_bus.address)


def test_a_locked_collection_is_none_from_get_secret(own_bus: SecretServiceSession) -> None:
    """Why the lookup asks no Locked first: gnome-keyring still lists a locked collection's
    items, and answers their GetSecret at once with IsLocked, leaving it locked (no prompt)."""
    own_bus.store("dbus-locked", fake_token())
    assert _lookup("dbus-locked", own_bus.address) is not None  # the control
    own_bus.lock()
    with closing(open_dbus_connection(bus=own_bus.address)) as connection:
        attributes = _attributes("dbus-locked")
        found = _call(
            connection, DEFAULT_COLLECTION, "Collection", "SearchItems", "a{ss}", attributes
        )
        (items,) = found.body
        assert len(items) == 1
        opened = _call(connection, SERVICE, "Service", "OpenSession", "sv", "plain", ("s", ""))
        refused = _call(connection, items[0], "Item", "GetSecret", "o", opened.body[1])
    assert _error_name(refused) == "org.freedesktop.Secret.Error.IsLocked"
    assert not own_bus.unlocked()
    assert _answered_none("dbus-locked", own_bus.address)
    assert not own_bus.unlocked()


def test_no_default_collection_is_none_from_search_items(own_bus: SecretServiceSession) -> None:
    """Without a collection behind the default alias, SearchItems there is an error reply.

    Unsetting the alias is not enough: gnome-keyring points it back at its login
    collection whenever a client connects. So the login collection goes.
    """
    token = fake_token()
    own_bus.store("dbus-no-default", token)
    assert digest(_lookup("dbus-no-default", own_bus.address)) == digest(token)  # the control
    with closing(open_dbus_connection(bus=own_bus.address)) as connection:
        deleted = _call(connection, LOGIN_COLLECTION, "Collection", "Delete", "")
        assert _error_name(deleted) is None
    # A new client, as the lookup is: its arrival has gnome-keyring choose the default anew.
    with closing(open_dbus_connection(bus=own_bus.address)) as connection:
        attributes = _attributes("dbus-no-default")
        found = _call(
            connection, DEFAULT_COLLECTION, "Collection", "SearchItems", "a{ss}", attributes
        )
    assert _error_name(found) is not None
    assert _answered_none("dbus-no-default", own_bus.address)
