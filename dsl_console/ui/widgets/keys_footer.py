"""The keys line at the foot of every screen, fitted to a narrow terminal."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

# Below this width the line is compact and leaves out the command palette's entry (Ctrl+P still
# opens it, and ? Help lists it): at 80 columns the palette's entry pushed Lock (^l) off the
# line, and its border stood against the last key like a stray character.
ROOMY_WIDTH = 100


class KeysFooter(Footer):
    """Textual's footer, with the screen's own keys kept in sight at 80 columns."""

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._always_compact = compact

    def on_resize(self, event: events.Resize) -> None:
        roomy = event.size.width >= ROOMY_WIDTH
        self.compact = self._always_compact or not roomy
        if roomy != self.show_command_palette:
            self.show_command_palette = roomy
            self.refresh(recompose=True)
