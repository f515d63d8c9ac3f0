"""A Secret Service lookup in the standard library: the launch's D-Bus client.

secretstorage pulls in jeepney and cryptography, whose imports cost a warm
launch more than the rest of it. This asks the session bus for what keyring's
lookup reads (SearchItems in the default collection, by secretstorage's alias
path; the first item's GetSecret) and reads the secret through the same
encrypted session ("dh-ietf1024-sha256-aes128-cbc-pkcs7"), in three exchanges:
Hello with SearchItems, OpenSession, GetSecret.

keyring, through secretstorage, first reads the collection's and the item's
Locked (and each one's Label, to see that it exists). Those answers decide
nothing here, so they are not asked: without a default collection SearchItems
is an error reply, and a locked item's GetSecret is one too
(org.freedesktop.Secret.Error.IsLocked, at once and without a prompt;
gnome-keyring still lists a locked collection's items, KeePassXC lists none).
Each is None, as a locked answer was.

One call to the Secret Service at a time: given several at once, gnome-keyring
42 answered one with UnknownMethod on a garbled object path about once in 500
lookups, and once in some 20,000 such lookups the daemon went away (D-Bus
started a new, locked one). Hello is the bus daemon's own, so it travels with
the first call. Our arithmetic (the key pair, the session key) runs while the
calls travel.

gnome-keyring learns of a new client in an idle callback that a client's first
call can overtake; that call then finds no client record. Were it a property
Get, as secretstorage's first call is, gnome-keyring 42 aborts (SIGABRT, GDBus's
assertion on a getter's missing error; D-Bus then starts a new, locked daemon):
in a stress run, once in a few thousand lookups. SearchItems instead answers
with an error, about once in 3,000 lookups, and is asked once more.

Any doubt — an address it does not speak, an error reply, an unexpected
type, a bad padding, the deadline — is None, and keyring decides.
"""

from __future__ import annotations

# The C module under `socket`: the same socket objects, without the ~3 ms of
# `socket`'s own imports (selectors, enums of every constant).
import _socket
import os
import struct
import sys
import time

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping
    from hashlib import sha256  # typeshed describes hashlib's alone; the built-in ones are alike
    from typing import Any

    # destination, object path, interface, member, body signature, body values
    _Call = tuple[str, str, str, str, str, list[Any]]
    # A method return's body signature and values; None for an error reply.
    _Reply = tuple[str, list[Any]] | None
else:
    # CPython's own SHA-256 for the session key: hashlib loads OpenSSL's libcrypto, some
    # milliseconds of import for two short HMACs. A Python built without its own hashes
    # (a FIPS build, say) has only OpenSSL's.
    try:
        if sys.version_info >= (3, 12):
            from _sha2 import sha256
        else:
            from _sha256 import sha256
    except ImportError:
        from hashlib import sha256

_BUS = "org.freedesktop.DBus"
_SECRETS = "org.freedesktop.secrets"
_SECRET = "org.freedesktop.Secret"
_SERVICE_PATH = "/org/freedesktop/secrets"
_DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"  # secretstorage's path
_ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
_MAX_MESSAGE = 1 << 20  # far more than any answer here; a bigger one is a doubt

# RFC 2409's second Oakley group (1024-bit MODP), generator 2.
_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)

_METHOD_CALL, _METHOD_RETURN, _ERROR = 1, 2, 3

_HELLO: _Call = (_BUS, "/org/freedesktop/DBus", _BUS, "Hello", "", [])


class _Doubt(Exception):
    """Anything but the answer expected: the lookup gives None."""


def lookup(attributes: Mapping[str, str], environ: Mapping[str, str], timeout: float) -> str | None:
    """The secret of the default collection's first item with these attributes, or None."""
    deadline = time.monotonic() + timeout
    try:
        address = _socket_address(environ.get("DBUS_SESSION_BUS_ADDRESS", ""))
        if address is None:
            return None
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            bus = _Bus(sock, deadline)
            bus.connect(address)
            return _read_secret(bus, dict(attributes))
        finally:
            sock.close()
    except Exception:  # any doubt: keyring decides
        return None


def _read_secret(bus: _Bus, attributes: dict[str, str]) -> str | None:
    """The three exchanges (four for a refused search), each with one call to the Secret
    Service. The key pair is computed while the first is on its way (for a miss too: the
    wait is there anyway), the session key while the last is."""
    search = _secret_call(_DEFAULT_COLLECTION, "Collection", "SearchItems", "a{ss}", [attributes])
    first = bus.send([_HELLO, search])
    private, public = _key_pair()
    hello, found = bus.replies(first)
    _expect(hello, "s")
    if found is None:  # the race with gnome-keyring's record of a new client (above)
        found = bus.call(search)
    (items,) = _expect(found, "ao")
    if not items:
        return None
    server_public, session = _open_session(bus, public)
    asked = bus.send([_secret_call(items[0], "Item", "GetSecret", "o", [session])])
    key = _session_key(private, server_public)
    (answer,) = bus.replies(asked)
    return _decrypted(answer, session, key)


def _secret_call(path: str, interface: str, member: str, signature: str, body: list[Any]) -> _Call:
    return (_SECRETS, path, f"{_SECRET}.{interface}", member, signature, body)


def _key_pair() -> tuple[int, bytes]:
    """Our Diffie-Hellman exponent and public key.

    A 256-bit exponent: the 1024-bit group gives about 80 bits of security, and an
    exponent of twice the group's strength is the usual size (RFC 3526, section 8);
    secretstorage's 1024 bits cost the two Python pow()s here ~5 ms more.
    secrets.token_bytes is os.urandom; importing secrets costs ~10 ms (base64, re).
    """
    private = int.from_bytes(os.urandom(32), "big")
    return private, pow(2, private, _PRIME).to_bytes(128, "big")


def _open_session(bus: _Bus, public: bytes) -> tuple[int, str]:
    """The service's public key and the session's path. The key is checked here, before
    any secret is asked for under it."""
    body = [_ALGORITHM, ("ay", public)]
    opened = bus.call(_secret_call(_SERVICE_PATH, "Service", "OpenSession", "sv", body))
    output, session = _expect(opened, "vo")
    if output[0] != "ay" or len(output[1]) > 128:
        raise _Doubt("the service's public key")
    server_public = int.from_bytes(output[1], "big")
    if not 1 < server_public < _PRIME - 1:
        raise _Doubt("a degenerate public key")
    return server_public, session


def _decrypted(answer: _Reply, session: str, key: bytes) -> str | None:
    """GetSecret's answer as text, or None."""
    ((secret_session, iv, value, _content_type),) = _expect(answer, "(oayays)")
    if secret_session != session:
        raise _Doubt("a secret of another session")
    plain = decrypt_cbc(key, iv, value)
    return None if plain is None else plain.decode("utf-8")


def _expect(reply: _Reply, signature: str) -> list[Any]:
    if reply is None or reply[0] != signature:
        raise _Doubt("an error or an unexpected answer")
    return reply[1]


def _session_key(private: int, server_public: int) -> bytes:
    """secretstorage's derivation: HKDF-SHA256 (zero salt, empty info) of the shared secret."""
    shared = pow(server_public, private, _PRIME).to_bytes(128, "big")
    prk = _hmac_sha256(bytes(32), shared)
    return _hmac_sha256(prk, b"\x01")[:16]


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    """RFC 2104 for keys up to a block (64 bytes), as HKDF needs it here."""
    padded = key.ljust(64, b"\0")
    inner = sha256(bytes(b ^ 0x36 for b in padded) + message).digest()
    return sha256(bytes(b ^ 0x5C for b in padded) + inner).digest()


# --- the session bus --------------------------------------------------------------------


def _socket_address(addresses: str) -> str | bytes | None:
    """The first address of DBUS_SESSION_BUS_ADDRESS if it is a unix socket path, else None."""
    first = addresses.split(";", 1)[0]
    transport, _, options = first.partition(":")
    if transport != "unix":
        return None
    keys = {}
    for option in options.split(","):
        name, equals, value = option.partition("=")
        if not equals:
            return None
        keys[name] = _unescape(value)
    if "path" in keys:
        return keys["path"].decode("utf-8", "surrogateescape")
    if "abstract" in keys:
        return b"\0" + keys["abstract"]
    return None


def _unescape(value: str) -> bytes:
    """D-Bus address values escape bytes as %XX."""
    raw = value.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x25:  # %
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


class _Bus:
    """One connection, every socket operation bounded by the lookup's deadline."""

    def __init__(self, sock: _socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._serial = 0
        self._buffer = b""
        # Authentication goes out with BEGIN and the first calls, as sd-bus sends it: one
        # round trip fewer; the bus reads BEGIN only after its OK.
        uid = str(os.getuid()).encode().hex().encode()
        self._pending = b"\0AUTH EXTERNAL " + uid + b"\r\nBEGIN\r\n"
        self._authenticated = False

    def _bound(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise _Doubt("the deadline passed")
        self._sock.settimeout(left)

    def _recv(self) -> None:
        self._bound()
        chunk = self._sock.recv(65536)
        if not chunk:
            raise _Doubt("the bus closed the connection")
        self._buffer += chunk

    def _take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._recv()
        taken, self._buffer = self._buffer[:count], self._buffer[count:]
        return taken

    def connect(self, address: str | bytes) -> None:
        self._bound()
        self._sock.connect(address)

    def _authentication(self) -> None:
        """The bus's answer to AUTH, which comes before any message."""
        while b"\r\n" not in self._buffer:
            if len(self._buffer) > 512:
                raise _Doubt("no answer to AUTH")
            self._recv()
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        if not line.startswith(b"OK "):
            raise _Doubt("authentication refused")
        self._authenticated = True

    def call(self, call: _Call) -> _Reply:
        """One call and its reply, with nothing to do meanwhile."""
        (reply,) = self.replies(self.send([call]))
        return reply

    def send(self, calls: list[_Call]) -> list[int]:
        """Send the calls at once, without waiting for replies; their serials."""
        serials = []
        out = bytearray(self._pending)
        self._pending = b""
        for call in calls:
            self._serial += 1
            serials.append(self._serial)
            out += _method_call(self._serial, call)
        self._bound()
        self._sock.sendall(out)
        return serials

    def replies(self, serials: list[int]) -> list[_Reply]:
        """The replies to these calls (sent), in their order."""
        if not self._authenticated:
            self._authentication()
        replies: dict[int, _Reply] = {}
        while len(replies) < len(serials):
            kind, fields, body_signature, body = self._message()
            reply_to = fields.get(5)
            if kind not in (_METHOD_RETURN, _ERROR) or reply_to not in serials:
                continue  # a signal (NameAcquired) or anything not ours
            if reply_to in replies:
                raise _Doubt("two replies to one call")
            replies[reply_to] = (body_signature, body) if kind == _METHOD_RETURN else None
        return [replies[s] for s in serials]

    def _message(self) -> tuple[int, dict[int, Any], str, list[Any]]:
        fixed = self._take(16)
        order = {0x6C: "<", 0x42: ">"}.get(fixed[0])
        if order is None or fixed[3] != 1:
            raise _Doubt("not a D-Bus 1 message")
        body_length, _serial, fields_length = struct.unpack(order + "III", fixed[4:16])
        header_end = 16 + fields_length
        total = header_end + (-header_end % 8) + body_length
        if total > _MAX_MESSAGE:
            raise _Doubt("a message too large")
        data = fixed + self._take(total - 16)
        reader = _Reader(data, order)
        reader.pos = 12
        (field_list,) = reader.values("a(yv)")
        fields = {code: value for code, (_sig, value) in field_list}
        reader.align(8)
        if reader.pos != len(data) - body_length:
            raise _Doubt("a malformed header")
        signature = fields.get(8, "")
        if not isinstance(signature, str):
            raise _Doubt("a malformed signature field")
        body = reader.values(signature)
        if reader.pos != len(data):
            raise _Doubt("a body longer than its signature")
        return fixed[1], fields, signature, body


# --- marshalling: only the types these calls need -----------------------------------------

_ALIGN = {"y": 1, "u": 4, "s": 4, "o": 4, "g": 1, "v": 1, "a": 4, "(": 8, "{": 8}


def _split(signature: str) -> list[str]:
    """A signature's complete types, in order."""
    types, i = [], 0
    while i < len(signature):
        end = _type_end(signature, i)
        types.append(signature[i:end])
        i = end
    return types


def _type_end(signature: str, i: int) -> int:
    code = signature[i]
    if code == "a":
        return _type_end(signature, i + 1)
    if code in "({":
        close = ")" if code == "(" else "}"
        i += 1
        while signature[i] != close:
            i = _type_end(signature, i)
        return i + 1
    if code not in _ALIGN:
        raise _Doubt(f"a type this client does not read: {code}")
    return i + 1


class _Writer:
    def __init__(self) -> None:
        self.data = bytearray()

    def align(self, n: int) -> None:
        self.data += bytes(-len(self.data) % n)

    def value(self, kind: str, value: Any) -> None:
        code = kind[0]
        self.align(_ALIGN[code])
        if code == "y":
            self.data.append(value)
        elif code in "so":
            raw = value.encode("utf-8")
            self.data += struct.pack("<I", len(raw)) + raw + b"\0"
        elif code == "g":
            raw = value.encode("ascii")
            self.data += bytes([len(raw)]) + raw + b"\0"
        elif code == "v":
            self.value("g", value[0])
            self.value(value[0], value[1])
        elif code == "(":
            for part, item in zip(_split(kind[1:-1]), value, strict=True):
                self.value(part, item)
        elif code == "a":
            self._array(kind[1:], value)
        else:
            raise _Doubt(f"a type this client does not write: {kind}")

    def _array(self, element: str, value: Any) -> None:
        length_at = len(self.data)
        self.data += bytes(4)
        self.align(_ALIGN[element[0]])
        start = len(self.data)
        if element == "y":
            self.data += value
        elif element[0] == "{":
            key, item = _split(element[1:-1])
            for k, v in value.items():
                self.align(8)
                self.value(key, k)
                self.value(item, v)
        else:
            for item in value:
                self.value(element, item)
        self.data[length_at : length_at + 4] = struct.pack("<I", len(self.data) - start)


def _method_call(serial: int, call: _Call) -> bytes:
    destination, path, interface, member, signature, body = call
    content = _Writer()
    for kind, value in zip(_split(signature), body, strict=True):
        content.value(kind, value)
    fields = [(1, ("o", path)), (2, ("s", interface)), (3, ("s", member)), (6, ("s", destination))]
    if signature:
        fields.append((8, ("g", signature)))
    message = _Writer()
    message.data += struct.pack("<BBBBII", 0x6C, _METHOD_CALL, 0, 1, len(content.data), serial)
    message.value("a(yv)", fields)
    message.align(8)
    return bytes(message.data + content.data)


class _Reader:
    def __init__(self, data: bytes, order: str) -> None:
        self.data = data
        self.order = order
        self.pos = 0

    def align(self, n: int) -> None:
        padding = -self.pos % n
        if any(self.data[self.pos : self.pos + padding]):
            raise _Doubt("non-zero padding")
        self.pos += padding

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _Doubt("a value past the message's end")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw

    def values(self, signature: str) -> list[Any]:
        return [self.value(kind) for kind in _split(signature)]

    def value(self, kind: str) -> Any:
        code = kind[0]
        self.align(_ALIGN[code])
        if code == "y":
            return self.take(1)[0]
        if code == "u":
            (number,) = struct.unpack(self.order + "I", self.take(4))
            return number
        if code in "sog":
            size = self.take(1)[0] if code == "g" else self.value("u")
            raw = self.take(size + 1)
            if raw[-1] != 0:
                raise _Doubt("an unterminated string")
            return raw[:-1].decode("utf-8")
        if code == "v":
            inner = self.value("g")
            if len(_split(inner)) != 1:
                raise _Doubt("a variant of several types")
            return (inner, self.value(inner))
        if code == "(":
            return tuple(self.value(part) for part in _split(kind[1:-1]))
        if code == "a":
            return self._array(kind[1:])
        raise _Doubt(f"a type this client does not read: {kind}")

    def _array(self, element: str) -> Any:
        size = self.value("u")
        if size > 1 << 26:
            raise _Doubt("an array too long")
        self.align(_ALIGN[element[0]])
        end = self.pos + size
        if element == "y":
            return self.take(size)
        items: list[Any] = []
        while self.pos < end:
            if element[0] == "{":
                self.align(8)
                key, item = _split(element[1:-1])
                items.append((self.value(key), self.value(item)))
            else:
                items.append(self.value(element))
        if self.pos != end:
            raise _Doubt("an array's elements overrun its length")
        return dict(items) if element[0] == "{" else items


# --- AES-128-CBC decryption ---------------------------------------------------------------


def _aes_tables() -> tuple[list[int], list[int], list[list[int]]]:
    """FIPS-197's S-box, its inverse and the four inverse-round tables, computed once."""
    exp, log = [0] * 510, [0] * 256  # GF(2^8) by powers of its generator 3
    x = 1
    for i in range(255):
        exp[i] = exp[i + 255] = x
        log[x] = i
        x ^= ((x << 1) ^ (0x1B if x & 0x80 else 0)) & 0xFF
    sbox = [0x63] * 256
    for a in range(1, 256):
        q = exp[255 - log[a]]  # the multiplicative inverse, then the affine map
        q |= q << 8
        sbox[a] = (q ^ (q >> 4) ^ (q >> 5) ^ (q >> 6) ^ (q >> 7) ^ 0x63) & 0xFF
    inverse = [0] * 256
    for i, s in enumerate(sbox):
        inverse[s] = i
    column = [log[c] for c in (14, 9, 13, 11)]  # InvMixColumns' first column
    t0 = [0] * 256
    for i, s in enumerate(inverse):
        if s:
            a, b, c, d = (exp[log[s] + m] for m in column)
            t0[i] = (a << 24) | (b << 16) | (c << 8) | d
    rotated = [t0]
    for _ in range(3):
        rotated.append([((w >> 8) | (w << 24)) & 0xFFFFFFFF for w in rotated[-1]])
    return sbox, inverse, rotated


_SBOX, _INV_SBOX, _TD = _aes_tables()


def _decryption_keys(key: bytes) -> list[int]:
    """AES-128's round keys for the equivalent inverse cipher (FIPS-197 5.3.5)."""
    words = list(struct.unpack(">4I", key))
    rcon = 1
    for i in range(4, 44):
        word = words[i - 1]
        if i % 4 == 0:
            word = ((word << 8) | (word >> 24)) & 0xFFFFFFFF
            word = (
                (_SBOX[word >> 24] << 24)
                | (_SBOX[(word >> 16) & 0xFF] << 16)
                | (_SBOX[(word >> 8) & 0xFF] << 8)
                | _SBOX[word & 0xFF]
            ) ^ (rcon << 24)
            rcon = ((rcon << 1) ^ (0x1B if rcon & 0x80 else 0)) & 0xFF
        words.append(words[i - 4] ^ word)
    t0, t1, t2, t3 = _TD
    rounds = []
    for r in range(10, -1, -1):
        round_key = words[4 * r : 4 * r + 4]
        if 0 < r < 10:  # InvMixColumns; the tables' inverse S-box undoes the S-box here
            round_key = [
                t0[_SBOX[w >> 24]]
                ^ t1[_SBOX[(w >> 16) & 0xFF]]
                ^ t2[_SBOX[(w >> 8) & 0xFF]]
                ^ t3[_SBOX[w & 0xFF]]
                for w in round_key
            ]
        rounds.extend(round_key)
    return rounds


def decrypt_block(keys: list[int], block: bytes) -> bytes:
    """One AES-128 block, decrypted with `_decryption_keys`."""
    t0, t1, t2, t3 = _TD
    s0, s1, s2, s3 = (w ^ k for w, k in zip(struct.unpack(">4I", block), keys, strict=False))
    for r in range(4, 40, 4):
        s0, s1, s2, s3 = (
            t0[s0 >> 24] ^ t1[(s3 >> 16) & 0xFF] ^ t2[(s2 >> 8) & 0xFF] ^ t3[s1 & 0xFF] ^ keys[r],
            t0[s1 >> 24]
            ^ t1[(s0 >> 16) & 0xFF]
            ^ t2[(s3 >> 8) & 0xFF]
            ^ t3[s2 & 0xFF]
            ^ keys[r + 1],
            t0[s2 >> 24]
            ^ t1[(s1 >> 16) & 0xFF]
            ^ t2[(s0 >> 8) & 0xFF]
            ^ t3[s3 & 0xFF]
            ^ keys[r + 2],
            t0[s3 >> 24]
            ^ t1[(s2 >> 16) & 0xFF]
            ^ t2[(s1 >> 8) & 0xFF]
            ^ t3[s0 & 0xFF]
            ^ keys[r + 3],
        )
    inv = _INV_SBOX
    return struct.pack(
        ">4I",
        *(
            (
                (inv[a >> 24] << 24)
                | (inv[(b >> 16) & 0xFF] << 16)
                | (inv[(c >> 8) & 0xFF] << 8)
                | inv[d & 0xFF]
            )
            ^ keys[40 + i]
            for i, (a, b, c, d) in enumerate(
                ((s0, s3, s2, s1), (s1, s0, s3, s2), (s2, s1, s0, s3), (s3, s2, s1, s0))
            )
        ),
    )


def decrypt_cbc(key: bytes, iv: bytes, data: bytes) -> bytes | None:
    """AES-128-CBC decryption with PKCS#7 unpadding; None for a bad length or padding."""
    if len(key) != 16 or len(iv) != 16 or not data or len(data) % 16:
        return None
    keys = _decryption_keys(key)
    plain = bytearray()
    previous = iv
    for start in range(0, len(data), 16):
        block = data[start : start + 16]
        plain += bytes(a ^ b for a, b in zip(decrypt_block(keys, block), previous, strict=True))
        previous = block
    padding = plain[-1]
    if not 1 <= padding <= 16 or plain[-padding:] != bytes([padding]) * padding:
        return None
    return bytes(plain[:-padding])
