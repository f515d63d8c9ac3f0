"""`class X(NamedTuple)` for the launch path, without importing `typing` (~7 ms of a start).

mypy reads typing.NamedTuple itself. At run time the same class statement builds
what typing.NamedTuple builds: a collections.namedtuple whose fields are the
annotated names in order, the values given to them its defaults, and the rest of
the body (docstring, methods, properties, class methods) copied on. Class syntax
only, with no base but NamedTuple, as on the launch path.
"""

from __future__ import annotations

__all__ = ["NamedTuple"]

TYPE_CHECKING = False  # as typing's, which mypy reads the same
if TYPE_CHECKING:
    from typing import NamedTuple
else:
    from collections import namedtuple  # on the launch path anyway: enum's functools uses it

    # What typing.NamedTuple refuses to let a class body replace, and leaves to namedtuple.
    _PROHIBITED = frozenset(
        {
            "__new__",
            "__init__",
            "__slots__",
            "__getnewargs__",
            "_fields",
            "_field_defaults",
            "_make",
            "_replace",
            "_asdict",
            "_source",
        }
    )
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _NamedTupleMeta(type):
        def __new__(mcs, name, bases, namespace):
            if not bases:  # NamedTuple itself
                return super().__new__(mcs, name, bases, namespace)
            if bases != (NamedTuple,):
                raise TypeError("a record class derives from NamedTuple alone")
            annotations = namespace.get("__annotations__", {})
            fields = list(annotations)
            defaulted = [field for field in fields if field in namespace]
            if defaulted != fields[len(fields) - len(defaulted) :]:
                raise TypeError(f"{name}: a field without a default follows {defaulted[0]}")
            record = namedtuple(
                name,
                fields,
                defaults=[namespace[field] for field in defaulted],
                module=namespace["__module__"],
            )
            record.__annotations__ = record.__new__.__annotations__ = dict(annotations)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in fields:
                    setattr(record, key, value)
            return record

    class NamedTuple(metaclass=_NamedTupleMeta):
        """The base of `class Point(NamedTuple): x: int; y: int = 0`."""
