"""``reitti screenshot``: the dashboard of a running system as a browser shows it, saved
as a PNG (how ``docs/dashboard.png`` is made from the demo). A headless chromium, driven
by Playwright (the test extras), signs in at ``/dashboard/sign-in`` with a steering
group member's token, opens the year asked for and saves the full page. No script of the
page is needed; the browser is the system's (Debian's ``/usr/bin/chromium``), never a
downloaded one."""

from __future__ import annotations

import asyncio
import urllib.parse
from pathlib import Path

from runtime.auth import TokenIssuer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ScreenshotError(Exception):
    pass


async def capture(
    reporting: str,
    issuer: TokenIssuer,
    output: Path,
    *,
    year: int | None = None,
    municipality: str | None = None,
    chromium: Path = CHROMIUM,
    width: int = 1600,
) -> Path:
    """Sign in as the steering group, open the dashboard and save it to ``output``."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise ScreenshotError("needs playwright: pip install -e '.[test]'") from None
    query = urllib.parse.urlencode(
        {k: v for k, v in (("year", year), ("municipality", municipality)) if v is not None}
    )
    token = issuer.issue(person_id="screenshot", role="steering_group_member", organisation="centre")
    base = reporting.rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": width, "height": 1000})
            await page.goto(f"{base}/dashboard" + (f"?{query}" if query else ""))
            await page.get_by_label("Your token").fill(token)
            async with page.expect_navigation():
                await page.get_by_role("button", name="Sign in").click()
            if not page.url.startswith(f"{base}/dashboard") or "/sign-in" in page.url:
                raise ScreenshotError(f"the sign-in did not open the dashboard: {page.url}")
            await page.screenshot(path=str(output), full_page=True)
        finally:
            await browser.close()
    return output


def main(
    reporting: str,
    issuer: TokenIssuer,
    output: Path,
    *,
    year: int | None = None,
    municipality: str | None = None,
    chromium: Path = CHROMIUM,
) -> Path:
    """:func:`capture`, after checking the browser is there and making ``output``'s folder."""
    if not chromium.exists():
        raise ScreenshotError(f"no chromium at {chromium} (apt-get install chromium)")
    output.parent.mkdir(parents=True, exist_ok=True)
    return asyncio.run(
        capture(reporting, issuer, output, year=year, municipality=municipality, chromium=chromium)
    )
