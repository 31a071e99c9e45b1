"""How a flag is coloured, from its tone (core.flags): the same in the list and the header."""

from __future__ import annotations

from dsl_console.core.flags import FLAGS

TONE_CSS = {
    "alarm": "color: $text-error; text-style: bold reverse;",
    "error": "color: $text-error; text-style: bold;",
    "warning": "color: $text-warning; text-style: bold;",
    "notice": "color: $text-primary; text-style: bold;",
    "quiet": "color: $text-muted;",
}


def component(prefix: str, flag_id: str) -> str:
    """The component class that colours a flag in a widget, e.g. case-table--risk."""
    from dsl_console.core.flags import BY_ID

    return f"{prefix}--{BY_ID[flag_id].component}"


def components(prefix: str) -> set[str]:
    """Every flag's component class for a widget."""
    return {f"{prefix}--{flag.component}" for flag in FLAGS}


def css(widget: str, prefix: str) -> str:
    """CSS rules colouring each flag's component class in a widget."""
    return "\n".join(
        f"{widget} > .{prefix}--{flag.component} {{ {TONE_CSS[flag.tone]} }}" for flag in FLAGS
    )
