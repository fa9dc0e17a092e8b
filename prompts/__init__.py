"""Prompt templates as Markdown files, filled by one function that refuses missing or unknown variables.

A placeholder is `{{ name }}` (spaces inside the braces optional). Every other character, single braces
included, is kept as written, and values are inserted verbatim: a value that itself contains `{{ x }}`
is not filled again.
"""

from __future__ import annotations

import functools
import importlib.resources
import re

from errors import ConfigError

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def names() -> list[str]:
    """The names of the bundled prompts, e.g. "answer" for `prompts/answer.md`."""
    files = importlib.resources.files(__name__).iterdir()
    return sorted(f.name.removesuffix(".md") for f in files if f.is_file() and f.name.endswith(".md"))


def placeholders(name: str) -> list[str]:
    """The variables prompt `name` needs, in order of first use."""
    return _placeholders(_template(name))


def render(name: str, /, **variables: str) -> str:
    """Prompt `name` with every `{{ variable }}` replaced by its value."""
    return _fill(_template(name), f"prompt {name!r} (prompts/{name}.md)", variables)


def fill(template: str, /, **variables: str) -> str:
    """`template` text with every `{{ variable }}` replaced; the same checks as `render`."""
    return _fill(template, "template", variables)


@functools.cache
def _template(name: str) -> str:
    available = names()
    if name not in available:
        raise ConfigError(f"unknown prompt {name!r}: choose one of {', '.join(available)}")
    return importlib.resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")


def _placeholders(template: str) -> list[str]:
    return list(dict.fromkeys(_PLACEHOLDER.findall(template)))


def _fill(template: str, label: str, variables: dict[str, str]) -> str:
    stray = _PLACEHOLDER.sub("", template).find("{{")
    if stray >= 0:
        snippet = _PLACEHOLDER.sub("", template)[stray : stray + 30]
        raise ConfigError(f"{label} has a malformed placeholder near {snippet!r}: write {{{{ name }}}}")
    needed = _placeholders(template)
    missing = [v for v in needed if v not in variables]
    if missing:
        raise ConfigError(f"{label} needs a value for {', '.join(missing)}: pass it to render()")
    unknown = [v for v in variables if v not in needed]
    if unknown:
        raise ConfigError(
            f"{label} has no placeholder for {', '.join(unknown)}: "
            "drop the argument or add the placeholder to the template"
        )
    not_text = [k for k, v in variables.items() if not isinstance(v, str)]
    if not_text:
        raise ConfigError(f"{label}: the value of {', '.join(not_text)} must be text (str)")
    return _PLACEHOLDER.sub(lambda m: variables[m.group(1)], template)
