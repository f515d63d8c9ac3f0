"""json_text reads and writes what json does, and keeps json out of the process."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_cf import json_text

COMPACT = (",", ":")
# Any code point: lone surrogates (a path's undecodable bytes) and control characters too.
TEXT = st.text(st.characters(exclude_categories=()))
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**2000), max_value=2**2000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner) | st.dictionaries(TEXT, inner), max_leaves=40
)


@given(VALUES)
def test_dumps_writes_what_json_dumps_writes(value) -> None:
    assert json_text.dumps(value) == json.dumps(value, separators=COMPACT)


@given(VALUES)
def test_loads_reads_what_json_loads_reads(value) -> None:
    for text in (
        json.dumps(value),
        json.dumps(value, ensure_ascii=False, indent=2),
        f" \t\r\n{json.dumps(value)}\n ",
    ):
        assert json_text.loads(text) == json.loads(text)


@given(VALUES)
def test_what_dumps_writes_loads_reads_back(value) -> None:
    assert json_text.loads(json_text.dumps(value)) == value


def test_a_tuple_is_written_as_a_list_and_non_text_keys_as_json_writes_them() -> None:
    value = {"t": (1, (2,)), 3: None, 2.5: True, False: 0, None: []}
    assert json_text.dumps(value) == json.dumps(value, separators=COMPACT)


def test_nan_and_infinities_are_written_and_read_as_json_does() -> None:
    values = [math.nan, math.inf, -math.inf]
    text = json_text.dumps(values)
    assert text == json.dumps(values, separators=COMPACT) == "[NaN,Infinity,-Infinity]"
    read = json_text.loads(text)
    assert math.isnan(read[0])
    assert read[1:] == [math.inf, -math.inf]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n",
        "{",
        '{"a":1',
        '{"a" 1}',
        "[1,",
        "[1 2]",
        "[1,]",
        '"open',
        '"\x01"',  # a raw control character
        '"\\x"',
        "{'a': 1}",
        "nul",
        "{} x",
        "1 2",
        "01",
        "\ufeff{}",
        "\x0b1",  # whitespace to Python, not to JSON
        "1\x0c",
    ],
)
def test_bad_text_raises_jsons_own_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as raised:  # a ValueError, as callers catch
        json_text.loads(text)
    assert type(raised.value) is json.JSONDecodeError
    assert str(raised.value) == str(expected.value)


def test_what_json_cannot_write_fails_as_in_json() -> None:
    with pytest.raises(TypeError, match=r"^Object of type object is not JSON serializable$"):
        json_text.dumps({"a": [object()]})
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match=r"^Circular reference detected$"):
        json_text.dumps(loop)
    # A failed call leaves nothing behind for the next one.
    shared = [1]
    with pytest.raises(TypeError):
        json_text.dumps([shared, object()])
    assert json_text.dumps([shared, shared]) == "[[1],[1]]"


def _run(code: str) -> list[str]:
    """Lines printed by code run in a fresh interpreter, where nothing has loaded json."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.splitlines()


def test_reading_and_writing_load_no_json_and_bad_text_still_gets_jsons_error() -> None:
    code = """if True:
        import sys
        from codex_cf import json_text
        print(ascii(json_text.loads(json_text.dumps({"a": [1.5, None, "\\u00e9"]}))))
        print(sorted(m for m in sys.modules if m == "json" or m.startswith("json.")))
        try:
            json_text.loads('[1 2]')  # an error _json raises only through json.decoder
        except ValueError as error:
            print(type(error).__module__, type(error).__name__, error)
    """
    assert _run(code) == [
        "{'a': [1.5, None, '\\xe9']}",
        "[]",
        "json.decoder JSONDecodeError Expecting ',' delimiter: line 1 column 4 (char 3)",
    ]


def test_without_the_c_accelerator_json_does_the_work() -> None:
    """Another Python than CPython: no `_json` (made missing here, as it cannot be for real)."""
    code = """if True:
        import sys
        sys.modules["_json"] = None
        from codex_cf import json_text
        print(json_text.dumps({"a": [1.5, None, "\\u00e9"]}))
        print(json_text.loads(' {"a": [1.5, null]} '))
        print("json" in sys.modules)
    """
    assert _run(code) == ['{"a":[1.5,null,"\\u00e9"]}', "{'a': [1.5, None]}", "True"]
