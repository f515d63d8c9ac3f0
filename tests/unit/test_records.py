"""records.NamedTuple builds, from the same class statement, what typing.NamedTuple builds.

Each test declares one class both ways and compares them, or an instance of each.
"""

from __future__ import annotations

import subprocess
import sys
import types
import typing

import pytest

from codex_cf import records

BASES = pytest.mark.parametrize(
    "base", [typing.NamedTuple, records.NamedTuple], ids=["typing", "records"]
)


def point(base: type) -> type:
    """A record using everything codex-cf's records use."""

    class Point(base):  # type: ignore[misc,valid-type]
        """A point, maybe labelled."""

        x: int
        y: int = 0
        label: str | None = None  # a default of None, as Launch.tagged

        @property
        def size(self) -> int:
            return abs(self.x) + abs(self.y)

        def moved(self, dx: int) -> Point:
            return self._replace(x=self.x + dx)

        @classmethod
        def origin(cls) -> Point:
            return cls(0)

    return Point


def both(declare: typing.Callable[[type], type]) -> tuple[type, type]:
    return declare(typing.NamedTuple), declare(records.NamedTuple)


def test_the_class_is_the_same_namedtuple() -> None:
    expected, got = both(point)
    for attribute in (
        "_fields",
        "_field_defaults",
        "__doc__",
        "__name__",
        "__qualname__",
        "__module__",
        "__slots__",
        "__match_args__",
    ):
        assert getattr(got, attribute) == getattr(expected, attribute), attribute
    assert [c.__name__ for c in got.__mro__] == [c.__name__ for c in expected.__mro__]
    assert type(got) is type(expected) is type
    assert typing.get_type_hints(got) == typing.get_type_hints(expected)


def test_instances_behave_the_same() -> None:
    expected, got = both(point)
    for make in (
        lambda c: c(3),
        lambda c: c(3, -4, "a"),
        lambda c: c(x=1, label="b"),
        lambda c: c.origin(),
        lambda c: c._make([5, 6, None]),
    ):
        want, have = make(expected), make(got)
        assert type(have) is got
        assert repr(have) == repr(want)
        assert have == want  # as tuples
        assert hash(have) == hash(want)
        assert tuple(have) == tuple(want)
        assert have._asdict() == want._asdict()
        assert have.size == want.size
        assert have.moved(2) == want.moved(2)
        assert type(have.moved(2)) is got
        assert have._replace(label="c") == want._replace(label="c")
        x, y, label = have
        assert (x, y, label) == (have.x, have.y, have.label)


@BASES
def test_fields_are_read_only_and_arguments_checked(base: type) -> None:
    cls = point(base)
    value = cls(1)
    with pytest.raises(AttributeError):
        value.x = 2
    with pytest.raises(AttributeError):
        value.other = 2  # __slots__: no instance dict
    with pytest.raises(TypeError):
        cls()
    with pytest.raises(TypeError):
        cls(1, 2, "a", "extra")
    with pytest.raises((ValueError, TypeError), match="unexpected field"):  # TypeError: 3.13
        value._replace(z=1)


def test_a_class_without_docstring_gets_namedtuples() -> None:
    def bare(base: type) -> type:
        class Bare(base):  # type: ignore[misc,valid-type]
            first: str
            second: bytes

        return Bare

    expected, got = both(bare)
    assert got.__doc__ == expected.__doc__ == "Bare(first, second)"


@BASES
def test_a_field_without_default_after_one_with_is_refused(base: type) -> None:
    with pytest.raises(TypeError):

        class Wrong(base):  # type: ignore[misc,valid-type]
            first: int = 0
            second: int


@BASES
@pytest.mark.parametrize("name", ["_replace", "__new__", "_fields"])
def test_namedtuples_own_attributes_cannot_be_replaced(base: type, name: str) -> None:
    with pytest.raises(AttributeError, match=name):
        types.new_class(
            "Wrong", (base,), exec_body=lambda ns: ns.update(__module__=__name__, **{name: None})
        )


def test_another_base_is_refused() -> None:
    class Mixin:
        pass

    with pytest.raises(TypeError):

        class Wrong(records.NamedTuple, Mixin):  # type: ignore[misc]
            x: int


def test_declaring_a_record_does_not_import_typing() -> None:
    code = (
        "import sys\n"
        "from codex_cf.records import NamedTuple\n"
        "class P(NamedTuple):\n"
        "    x: int\n"
        "assert P(1).x == 1\n"
        "print(sorted(m for m in ('typing', 'contextlib') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout == "[]\n"
