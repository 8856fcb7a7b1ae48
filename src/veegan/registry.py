"""Name -> object registries; the CLI builds its choices from them."""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

from .errors import VeeganError

T = TypeVar("T")


class Registry(Generic[T]):
    """A dictionary of named entries that rejects unknown names with the list of valid ones.
    Resolvers (:meth:`add_resolver`) build entries for families of names (``mix-d50-k20-...``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._resolvers: list[tuple[Callable[[str], T | None], str]] = []

    def add_resolver(self, resolve: Callable[[str], T | None], form: str) -> None:
        """``resolve(name)`` builds the entry of a name of the form ``form``, or returns None."""
        self._resolvers.append((resolve, form))

    def register(self, name: str) -> Callable[[T], T]:
        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def get(self, name: str) -> T:
        if name in self._entries:
            return self._entries[name]
        for resolve, _ in self._resolvers:
            entry = resolve(name)
            if entry is not None:
                return entry
        forms = "".join(f", or {form}" for _, form in self._resolvers)
        raise VeeganError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}{forms}")

    def forms(self) -> list[str]:
        """The name forms the resolvers accept, e.g. ``mix-dD-kK-{equal,unequal}-sS``."""
        return [form for _, form in self._resolvers]

    def names(self) -> list[str]:
        return list(self._entries)
