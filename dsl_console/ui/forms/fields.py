"""A labelled form control with its validation message shown in place beneath it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, Label, Static, TextArea


def humanise(reason: str) -> str:
    """A validation reason as a sentence: 'is required' -> 'Required: please fill this in.'"""
    reason = reason.strip()
    if reason == "is required":
        return "Required: please fill this in."
    return reason[:1].upper() + reason[1:]


class Tick(Checkbox, inherit_bindings=False):
    """A tick box whose mark says ticked or not without colour: ✓ when ticked, blank when
    not (Textual's shows X in both states, told apart by colour only).

    Space ticks it; Enter goes on to the next field. Textual's Enter also ticks, and a hurried
    DSL pressing Enter to move on through a form ticked "Immediate risk" without meaning to."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_button", "Tick", show=False),
        Binding("enter", "app.focus_next", "Next field", show=False),
    ]

    @property  # type: ignore[override]
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # Textual's name for the mark
        return "✓" if self.value else " "


class FormField(Vertical):
    """A label, one control, and the line where that control's validation message appears."""

    DEFAULT_CSS = """
    FormField {
        height: auto;
        margin-bottom: 1;
    }
    FormField > Horizontal {
        height: auto;
    }
    FormField > Horizontal > Label {
        width: 16;
        padding-right: 1;
        text-style: bold;
    }
    FormField > Horizontal > * {
        width: 1fr;
    }
    FormField > Horizontal > TextArea {
        height: 4;
    }
    FormField > .field-hint {
        padding-left: 16;
        color: $text-muted;
    }
    FormField > .field-error {
        display: none;
        padding-left: 16;
        color: $text-error;
        text-style: bold;
    }
    FormField.-invalid > .field-error {
        display: block;
    }
    FormField.-invalid > Horizontal > Label {
        color: $text-error;
    }
    """

    def __init__(self, label: str, control: Widget, *, name: str, hint: str = "") -> None:
        super().__init__(id=f"field-{name}")
        self.label = label
        self.control = control
        self.hint = hint
        self.error_text = ""
        self._value_in_error: object = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.label)
            yield self.control
        if self.hint:
            yield Static(self.hint, classes="field-hint")
        yield Static("", classes="field-error")

    def relabel(self, label: str) -> None:
        """Say the field differently (e.g. starred once another choice makes it required)."""
        self.label = label
        if self.is_mounted:
            self.query_one(Horizontal).query_one(Label).update(label)

    @property
    def value(self) -> object:
        """What the control holds: text typed, or the choice made."""
        control = self.control
        return (
            getattr(control, "text", None)
            if isinstance(control, TextArea)
            else getattr(control, "value", None)
        )

    def edited_since_error(self) -> bool:
        """Whether the value has changed since the message on show was about it."""
        return bool(self.error_text) and self.value != self._value_in_error

    def show_error(self, reason: str) -> None:
        """Show a validation message under the control, marked with a symbol as well as colour."""
        self._value_in_error = self.value
        self.error_text = humanise(reason)
        self.query_one(".field-error", Static).update(f"✗ {self.error_text}")
        self.add_class("-invalid")

    def clear_error(self) -> None:
        """Hide the validation message."""
        self.error_text = ""
        self.query_one(".field-error", Static).update("")
        self.remove_class("-invalid")
