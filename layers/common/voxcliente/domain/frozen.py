"""Frozen, keyword-only records that cost nothing to define.

Every function defines the settings, the price table and the table rows at its
cold start. ``@dataclass`` compiles five or six methods for each class (about
7 ms for the settings alone, 30 ms for the rows); pydantic costs 45-60 ms to
import. :class:`Frozen` reads each class's annotations once and shares one
``__init__``, ``__eq__``, ``__hash__`` and ``__repr__``; ``dataclass_transform``
tells the type checker these are frozen, keyword-only dataclasses, so building
one is still checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self, dataclass_transform


class FieldSpec:
    """A field's default (or the factory of one) and the range its values must lie in."""

    __slots__ = ("default", "factory", "limits")

    def __init__(
        self, default: Any, factory: Callable[[], Any] | None, limits: Mapping[str, float]
    ) -> None:
        self.default = default
        self.factory = factory
        self.limits = limits


_REQUIRED = object()


def field(
    *,
    default: Any = _REQUIRED,
    default_factory: Callable[[], Any] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
) -> Any:
    """A field with a default or a factory of one, and bounds (kept, checked by the reader)."""
    limits = {
        name: value for name, value in (("ge", ge), ("gt", gt), ("le", le)) if value is not None
    }
    return FieldSpec(default, default_factory, limits)


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Frozen:
    """Fields are the annotations of the class and its bases, with their defaults."""

    # Filled in for each subclass by __init_subclass__.
    _fields: ClassVar[tuple[str, ...]] = ()
    _field_set: ClassVar[frozenset[str]] = frozenset()
    _required: ClassVar[frozenset[str]] = frozenset()
    _defaults: ClassVar[dict[str, Any]] = {}
    _factories: ClassVar[dict[str, Callable[[], Any]]] = {}
    _specs: ClassVar[dict[str, FieldSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs: dict[str, FieldSpec] = {}
        for klass in reversed(cls.__mro__):
            if not issubclass(klass, Frozen) or klass is Frozen:
                continue
            # A class without annotations of its own shows its parent's: already known.
            for name, annotation in klass.__annotations__.items():
                if _is_class_var(annotation):
                    continue
                given = klass.__dict__.get(name, _REQUIRED)
                if isinstance(given, FieldSpec):
                    specs[name] = given
                elif name not in specs or given is not _REQUIRED:
                    specs[name] = FieldSpec(given, None, {})
        cls._fields = tuple(specs)
        cls._field_set = frozenset(specs)
        cls._specs = specs
        cls._defaults = {n: s.default for n, s in specs.items() if s.default is not _REQUIRED}
        cls._factories = {n: s.factory for n, s in specs.items() if s.factory is not None}
        cls._required = cls._field_set - cls._defaults.keys() - cls._factories.keys()

    def __init__(self, **values: Any) -> None:
        if not self._required <= values.keys() or not values.keys() <= self._field_set:
            missing = ", ".join(sorted(self._required - values.keys())) or "-"
            unknown = ", ".join(sorted(values.keys() - self._field_set)) or "-"
            raise TypeError(
                f"{type(self).__name__}: missing field(s) {missing}; unknown field(s) {unknown}"
            )
        fields = self.__dict__
        fields.update(self._defaults)
        for name, factory in self._factories.items():
            if name not in values:
                fields[name] = factory()
        fields.update(values)
        self.__post_init__()

    def __post_init__(self) -> None:
        """Conversions a subclass needs (none by default)."""

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed."""
        return type(self)(**{**self.__dict__, **changes})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot assign {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__[name] for name in self._fields))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"
