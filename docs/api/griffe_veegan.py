"""A Griffe extension for the API reference (mkdocs.yml loads it; it is not part of the package).

veegan's docstrings are plain prose with Sphinx-style roles (``:func:`train```), and its
dataclasses document their fields with ``#`` comments, which Griffe does not read. This
extension, for the rendered pages only:

- turns each role into inline code, a relative target (``.external``, ``~.base.DatasetSpec``)
  written out in full from the object's package, so that ``:mod:`.external``` reads
  ``veegan.methods.external`` and not ``:mod:`` followed by code;
- gives an attribute without a docstring the comment on its own line, or the comment lines
  just above it, as its docstring (``latent_dim: int = 254  # K, the size of z ...``).

It changes nothing in the source files.
"""
from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|mod|class|meth|attr|data|obj|exc|const):`(~?)([^`]+)`")


def _absolute(target: str, obj: griffe.Object) -> str:
    """``target`` as a dotted path: a leading dot is relative to the object's package."""
    if not target.startswith("."):
        return target
    module = obj if obj.is_module else obj.module
    package = module.path if module.is_package else module.path.rpartition(".")[0]
    level = len(target) - len(target.lstrip("."))
    base = package.split(".")
    base = base[: len(base) - level + 1] if level > 1 else base
    return ".".join(base + [target.lstrip(".")])


def _replace_roles(text: str, obj: griffe.Object) -> str:
    def code(match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2)
        path = _absolute(target, obj)
        return f"`{path.rpartition('.')[2] if short else path}`"

    return ROLE.sub(code, text)


def _comment(attr: griffe.Attribute) -> str | None:
    """The ``#`` comment on the attribute's line, or the comment lines right above it."""
    lines = attr.module.lines
    if not attr.lineno or not lines or attr.lineno > len(lines):
        return None
    line = lines[attr.lineno - 1]
    trailing = line.partition("  # ")[2].strip() if "  # " in line else ""
    above: list[str] = []
    number = attr.lineno - 2
    indent = len(line) - len(line.lstrip())
    while number >= 0:
        previous = lines[number]
        stripped = previous.strip()
        if not stripped.startswith("#") or len(previous) - len(previous.lstrip()) != indent:
            break
        above.insert(0, stripped.lstrip("#").strip())
        number -= 1
    text = " ".join(part for part in (" ".join(above), trailing) if part)
    if text.startswith(("noqa", "type:", "pragma", "shellcheck")):
        return None
    return text or None


class VeeganDocstrings(griffe.Extension):
    """Sphinx roles to inline code; field comments to docstrings (see the module's docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._visit(pkg)

    def _visit(self, obj: griffe.Object) -> None:
        if obj.is_attribute and obj.docstring is None:
            comment = _comment(obj)
            if comment:
                obj.docstring = griffe.Docstring(comment, parent=obj)
        if obj.docstring is not None:
            obj.docstring.value = _replace_roles(obj.docstring.value, obj)
        for member in obj.members.values():
            if not member.is_alias:
                self._visit(member)
