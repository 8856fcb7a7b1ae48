"""Name -> object registries; the CLI builds its choices from them."""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

from .errors import VeeganError

T = TypeVar("T")


class Registry(Generic[T]):
    """A dictionary of named entries that rejects unknown names with the list of valid ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise VeeganError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return list(self._entries)
