"""Command-line flags generated from a frozen settings dataclass, and the config written back as flags.

`TrainConfig` is the one definition of the training settings: each field becomes a
`--field-name` flag (type from the annotation, default from the dataclass, help from the
field's comment), `from_args` builds the dataclass back from the parsed flags, and `to_argv`
writes a config as the flags that reproduce it. A new field in the dataclass is a new flag
everywhere, with nothing else to edit. An optional field whose comment says `None = auto` is an
"auto" setting: its flag reads `auto` (as the docs write it) as well as `none`, and its help shows
`INT|auto` and `(default: auto)` rather than the Python spelling.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import re
import textwrap
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

NONE = "none"  # how an optional field is set to None on the command line (to_argv writes it)
AUTO = "auto"  # the same for an "auto" setting, as the docs spell it; `none` stays valid for recorded commands
# how a field's comment marks an auto setting, e.g. "images per optimiser step; None = auto (see auto_batch_size)":
# the note is for readers of the dataclass, the help says `(default: auto)` instead
AUTO_NOTE = re.compile(r";?\s*None = auto(?: \(see [\w.]+\))?")


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def field_comments(cls: type) -> dict[str, str]:
    """The `# comment` after each field in the class's source: the help text kept next to the field."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    comments = {}
    for node in ast.parse(source).body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            line = lines[node.end_lineno - 1]
            if "#" in line[node.end_col_offset :]:
                comments[node.target.id] = line[node.end_col_offset :].split("#", 1)[1].strip()
    return comments


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """(X, True) for `X | None`, (X, False) for a plain X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1 and len(typing.get_args(annotation)) == 2:
            return members[0], True
        raise TypeError(f"unsupported union annotation {annotation!r}")
    return annotation, False


def _parser_for(annotation: Any, optional: bool, auto: bool = False) -> Callable[[str], Any]:
    if typing.get_origin(annotation) is tuple:  # tuple[int, ...]: comma-separated, "" or "none" for ()
        item = _parser_for(typing.get_args(annotation)[0], False)

        def parse_items(text: str) -> tuple:
            parts = [part.strip() for part in text.split(",") if part.strip() and text.lower() != NONE]
            return tuple(item(part) for part in parts)

        parse_items.__name__ = "list"
        return parse_items
    if typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
        kind = type(choices[0])
    elif annotation in (int, float, str):
        choices, kind = None, annotation
    else:
        raise TypeError(f"no command-line type for annotation {annotation!r}")

    def parse(text: str) -> Any:
        if optional and text.lower() in ((NONE, AUTO) if auto else (NONE,)):
            return None
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
        if choices is not None and value not in choices:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(map(str, choices))}, got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def add_dataclass_flags(
    parser: argparse.ArgumentParser,
    cls: type,
    defaults: dict[str, Any] | None = None,
    exclude: Iterable[str] = (),
    help: dict[str, str] | None = None,
) -> None:
    """Add one `--field-name` flag per field of `cls` (except `exclude`).

    Types come from the annotations (`int`, `float`, `str`, `Literal[...]`, any of them
    `| None`, where the word `none` means None); a `bool` becomes `--x / --no-x`. Defaults are
    the dataclass's unless `defaults` overrides them; help is `help[name]`, else the field's
    `metadata["help"]`, else its comment in the source.
    """
    defaults, help, excluded = defaults or {}, help or {}, set(exclude)
    unknown = (set(defaults) | set(help) | excluded) - {field.name for field in dataclasses.fields(cls)}
    if unknown:
        raise ValueError(f"{cls.__name__} has no fields {sorted(unknown)}")
    hints, comments = typing.get_type_hints(cls), field_comments(cls)
    for field in dataclasses.fields(cls):
        if field.name in excluded:
            continue
        default = defaults.get(field.name, _default(field))
        text = help.get(field.name) or field.metadata.get("help") or comments.get(field.name) or ""
        annotation, optional = _unwrap_optional(hints[field.name])
        auto = optional and AUTO_NOTE.search(text) is not None
        shown = (AUTO if auto else NONE) if optional and default is None else "%(default)s"
        text = (AUTO_NOTE.sub("", text).replace("%", "%%") + f" (default: {shown})").strip()
        required = default is dataclasses.MISSING
        options: dict[str, Any] = {"dest": field.name, "help": text, "required": required}
        if not required:
            options["default"] = default
        if annotation is bool and not optional:
            parser.add_argument(flag_name(field.name), action=argparse.BooleanOptionalAction, **options)
        else:
            kind = _parser_for(annotation, optional, auto)
            parser.add_argument(
                flag_name(field.name), type=kind, metavar=_metavar(annotation, optional, auto), **options
            )


def _metavar(annotation: Any, optional: bool, auto: bool) -> str | None:
    """`{a,b}` for a Literal (argparse shows no choices for a type that checks them itself), `INT|auto` or
    `INT|none` for an optional field, None (argparse's FIELD_NAME) otherwise."""
    if typing.get_origin(annotation) is typing.Literal:
        word = "{" + ",".join(map(str, typing.get_args(annotation))) + "}"
    else:
        word = annotation.__name__.upper() if optional else None
    if optional:
        word += "|" + (AUTO if auto else NONE)
    return word


def from_args(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """The dataclass built from the parsed flags (fields without a flag keep their defaults)."""
    names = {field.name for field in dataclasses.fields(cls)}
    values = {name: getattr(args, name) for name in names if hasattr(args, name)}
    return cls(**{**values, **overrides})


def to_argv(config: Any, exclude: Iterable[str] = ()) -> list[str]:
    """The flags that rebuild `config`, every field written out so a later change of defaults cannot alter it.

    A None field is written as `none`: leaving it out would let a parser's own default fill it in.
    """
    excluded, argv = set(exclude), []
    for field in dataclasses.fields(config):
        if field.name in excluded:
            continue
        value = getattr(config, field.name)
        if isinstance(value, bool):
            argv.append(flag_name(field.name) if value else "--no-" + flag_name(field.name)[2:])
        elif value is None:
            argv += [flag_name(field.name), NONE]
        elif isinstance(value, tuple):
            argv += [flag_name(field.name), ",".join(map(str, value)) or NONE]
        else:
            argv += [flag_name(field.name), repr(value) if isinstance(value, float) else str(value)]
    return argv
