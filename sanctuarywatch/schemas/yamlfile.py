"""Reading a user's YAML and finding a key's line in it: UTF-8 only, a repeated key is an
error (PyYAML would keep the last one silently), and dates stay text so that `2017-06-31`
reaches the schema, which can say where it is, instead of failing inside PyYAML."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from sanctuarywatch.errors import ConfigError

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser is 10x faster


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """Safe YAML that keeps dates as text and refuses a key repeated in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            if isinstance(key, str | int | float | bool):
                seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def read_text(path: Path, what: str) -> str:
    """A file's text; unreadable or non-UTF-8 files are a ConfigError naming the line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read {what}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}",
            f"{what}: expected UTF-8 text, found byte 0x{data[exc.start]:02x} "
            "(save the file as UTF-8)",
        ) from None


def read_yaml(path: Path, what: str) -> Any:
    """Parse a YAML file (see the module docstring for what differs from yaml.safe_load)."""
    text = read_text(path, what)
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        duplicate = isinstance(exc, yaml.constructor.ConstructorError)
        detail = exc.problem if duplicate else f"not valid YAML: {exc.problem or exc}"
        raise ConfigError(where, f"{what}: {detail}") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(str(path), f"{what}: not valid YAML: {exc}") from None


def locate(path: Path, loc: Sequence[int | str], missing: bool = False) -> tuple[str, int | None]:
    """The dotted key (`claims[3].checks[0].stated`) and line of an error's location in a YAML
    file. Parts that are not keys in the file (pydantic's union tags) are skipped."""
    try:
        node: yaml.Node | None = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=_Loader)
    except (OSError, ValueError, yaml.YAMLError):
        node = None
    parts: list[str] = []
    line = node.start_mark.line + 1 if node else None
    for index, part in enumerate(loc):
        child = _child(node, part)
        if child is not None:
            key_node, node = child
            line = key_node.start_mark.line + 1
        if child is not None or (missing and index == len(loc) - 1):
            parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).lstrip("."), line


def _child(node: yaml.Node | None, part: int | str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item, item
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in _pairs(node):
            if key.value == part:
                return key, value
    return None


def _pairs(node: yaml.MappingNode) -> Iterator[tuple[yaml.ScalarNode, yaml.Node]]:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            yield key, value
