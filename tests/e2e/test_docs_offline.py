"""The API docs render with the network cut off: Swagger UI and ReDoc come from files
shipped in the package (fastapi-offline), never from a CDN. Each service's /docs and
/redoc are opened in Debian's chromium with every request that leaves the service
refused."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.e2e.test_dashboard import CHROMIUM, CHROMIUM_ARGS, free_port
from tests.support.apps import eventually

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("create_app", [intake_app, guidance_app, reporting_app])
async def test_every_service_serves_its_docs_from_its_own_files(settings, create_app) -> None:
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", html)
            assert urls, page
            for url in urls:
                assert url.startswith("/"), f"{page} loads {url} from elsewhere"
                assert (await client.get(url)).status_code == 200, url


@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
async def test_swagger_ui_and_redoc_render_without_the_network(settings, tmp_path: Path) -> None:
    """In a browser, for intake; the other services share the same app factory (below)."""
    create_app = intake_app
    import uvicorn
    from playwright.async_api import Route, async_playwright

    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    refused: list[str] = []

    async def only_the_service(route: Route) -> None:
        if route.request.url.startswith(base):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    try:
        await eventually(lambda: asyncio.sleep(0, server.started), bool)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page()
                await page.route("**/*", only_the_service)
                await page.goto(f"{base}/docs")
                title = page.locator(".swagger-ui .info .title")
                await title.wait_for(timeout=20_000)
                assert app.title in (await title.text_content() or "")
                assert await page.locator(".swagger-ui .opblock").count() > 1, "the operations are listed"
                assert refused == [], "Swagger UI asked for nothing outside the service"
                await page.goto(f"{base}/redoc")
                heading = page.locator("redoc h1, .redoc-wrap h1").first
                await heading.wait_for(timeout=20_000)
                assert app.title in (await heading.text_content() or "")
            finally:
                await browser.close()
    finally:
        server.should_exit = True
        await serving
    # ReDoc's page renders whole; only its "powered by" logo is an image from its vendor.
    assert set(refused) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
