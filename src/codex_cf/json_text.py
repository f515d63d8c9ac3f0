"""JSON for the launch path, without importing the json package.

`import json` costs a warm launch about 5 ms: its decoder, scanner and encoder import
`re` (and `enum` with it) and compile patterns. The work itself is done by CPython's C
accelerator `_json`, which needs none of that, so this module drives it as json does:
`loads` is json.loads(text) and `dumps` is json.dumps(value, separators=(",", ":")),
the same values and the same text (NaN and infinities included, as json's defaults).
Bad input gets json's own error (a ValueError), from json itself: only that path
imports it. Without `_json` (not CPython) both are the json package's.
"""

from __future__ import annotations

# What json skips around the value (its WHITESPACE pattern); anything else is an error.
_WHITESPACE = " \t\n\r"

try:
    from _json import encode_basestring_ascii, make_encoder, make_scanner
except ImportError:  # not CPython: json's own, at its import cost

    def loads(text: str) -> object:
        import json

        return json.loads(text)

    def dumps(value: object) -> str:
        import json

        return json.dumps(value, separators=(",", ":"))

else:

    class _Decoding:
        """What json.JSONDecoder() hands `_json.make_scanner`: json.loads's defaults."""

        strict = True  # no raw control characters inside strings
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        # One object per constant, as json's _CONSTANTS.
        parse_constant = {
            "NaN": float("nan"),
            "Infinity": float("inf"),
            "-Infinity": float("-inf"),
        }.__getitem__

    _scan = make_scanner(_Decoding())  # type: ignore[arg-type]  # a duck-typed context

    def loads(text: str) -> object:
        """json.loads(text): one JSON value, whitespace around it allowed."""
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _scan(text, start)
        except Exception:  # StopIteration; Python 3.11's `_json` raises its
            end = -1  # errors only once json.decoder is loaded, else SystemError
        if end < 0 or text[end:].lstrip(_WHITESPACE):
            import json

            return json.loads(text)  # raises json's error for this text
        return value

    def _unserializable(value: object) -> object:
        raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")

    def dumps(value: object) -> str:
        """json.dumps(value, separators=(",", ":")): compact, ASCII only."""
        # json's C encoder with the arguments json.dumps gives it; a new one each call,
        # as json makes, since a failed call leaves its circular-reference markers behind.
        encode = make_encoder(
            markers={},
            default=_unserializable,
            encoder=encode_basestring_ascii,
            indent=None,
            key_separator=":",
            item_separator=",",
            sort_keys=False,
            skipkeys=False,
            allow_nan=True,
        )
        return "".join(encode(value, 0))
