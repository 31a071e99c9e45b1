"""Write the README's screenshots (SVG) of the demo's case list and a case's timeline.

    python -m tests.make_screenshots

Fictional demo data, a frozen clock (Monday 23 November 2026, 11:00), 110x32 terminal.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "functional"))

from console_kit import NOW, FakeClock, seed, settle, unlocked  # noqa: E402

from dsl_console.config import Config  # noqa: E402
from dsl_console.ui.app import create_app  # noqa: E402


async def shoot(folder: Path) -> None:
    config = Config(school="Example Primary School")
    path = folder / "demo.db"
    seed(path, config, NOW, "demo")
    from console_kit import FAST_KDF, PASSPHRASE, USER

    from dsl_console.services.session import Credentials

    app = create_app(
        path,
        config,
        clock=FakeClock(NOW),
        credentials=Credentials(USER, PASSPHRASE),
        kdf_cost=FAST_KDF,
    )
    async with app.run_test(size=(110, 32)) as pilot:
        await unlocked(pilot)
        app.clear_notifications()
        await pilot.pause()
        app.save_screenshot(str(ROOT / "assets" / "case-list.svg"))
        app.open_case("DEMO-005")
        await settle(pilot)
        await pilot.pause(0.3)
        app.clear_notifications()
        await pilot.pause()
        app.save_screenshot(str(ROOT / "assets" / "case-timeline.svg"))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(shoot(Path(tmp)))
    print("wrote assets/case-list.svg and assets/case-timeline.svg")
