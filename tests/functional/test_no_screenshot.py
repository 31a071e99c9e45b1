"""Security: the console offers no screen capture. Textual's palette had "Screenshot", which
wrote a plaintext SVG of the list (children's names) to ~/Downloads, unaudited, for any
account, read-only ones included."""

from __future__ import annotations

from pathlib import Path

from console_kit import notices, settle, unlocked, wait_until
from textual.command import CommandList, CommandPalette


async def test_no_screenshot_from_the_palette_or_its_actions(make_app, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        palette = app.screen

        def offered() -> list[str]:
            return [str(o.hit.text) for o in palette.query_one(CommandList).options]

        # Every command on offer, unfiltered, then what "screen" finds.
        await wait_until(pilot, lambda: any("Theme" in t for t in offered()), what="commands")
        assert not any("creenshot" in t for t in offered())
        await pilot.press(*"screenshot")
        await settle(pilot)
        assert not any("creenshot" in t for t in offered())
        await pilot.press("escape")
        await settle(pilot)
        # What the palette entry and Textual's own key would have run: refused, and said so.
        app.action_screenshot()
        assert app.deliver_screenshot() is None
        await settle(pilot)
        assert any("Screenshots are not offered" in line for line in notices(app))
    written = [p for p in tmp_path.rglob("*") if p.suffix in {".svg", ".png", ".html"}]
    assert written == []
    assert not any(Path(home / "Downloads").iterdir())
