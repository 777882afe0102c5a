"""The report page in a real headless Chromium (Debian's), driven by Playwright: no console errors,
no request but the page itself, the diagram visible, a screenshot taken.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (``executable_path``).
Skipped, with the install command, only when Playwright or Chromium is absent.
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from constructs_lib.ops.report import write_reports

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from constructs_lib.platform import synthesize

    base = tmp_path_factory.mktemp("browser")
    synthesize([ROOT / "examples" / "reference"], outdir=base / "out")
    return [p for p in write_reports(base / "out", base / "report") if p.suffix == ".html"]


def _only(url: str, others: list[str]):
    """A route handler letting ``url`` through and aborting (and recording) every other request."""

    def handle(route) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            others.append(route.request.url)
            route.abort()

    return handle


@pytest.fixture(scope="module")
def server(pages: list[Path]) -> Iterator[str]:
    """The report folder served on loopback (the page's only allowed request is its own URL)."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(pages[0].parent)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_report_page_in_chromium(pages: list[Path], server: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install 'cdktf-mlops[dev]' (playwright)")
    if CHROMIUM is None:
        pytest.skip("Chromium is absent: apt-get install chromium (make system)")
    assert len(pages) == 3
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for page_file in pages:
                url = f"{server}/{page_file.name}"
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                errors: list[str] = []
                others: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: errors.append(str(e)))

                page.route("**/*", _only(url, others))
                page.goto(url, wait_until="load")
                assert errors == [], errors
                assert others == [], others
                svg = page.locator("#architecture-diagram svg")
                box = svg.bounding_box()
                assert svg.is_visible() and box and box["width"] > 200 and box["height"] > 100, box
                assert page.locator("nav a").count() == 5, "architecture, disaster recovery, governance, cost, provenance"
                assert page.locator("#cost table").count() >= 1
                assert page.locator("#disaster-recovery table").count() >= 2
                shot = tmp_path / f"{page_file.stem}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
                page.close()
        finally:
            browser.close()
