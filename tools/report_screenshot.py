"""Regenerate docs/report-screenshot.png: the reference AWS report page in headless Chromium.

    .venv/bin/python tools/report_screenshot.py [--out docs/report-screenshot.png]

Synthesizes examples/reference into a temporary folder, writes the reports, opens
reference-aws.html in Debian's Chromium through Playwright (no browser download) and saves the top
of the page (header, contents, architecture diagram).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    parser.add_argument("--stack", default="reference-aws")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from constructs_lib.ops.report import write_reports
    from constructs_lib.platform import synthesize

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("Chromium is absent: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        synthesize([ROOT / "examples" / "reference"], outdir=Path(tmp) / "out")
        write_reports(Path(tmp) / "out", Path(tmp) / "report")
        page_file = Path(tmp) / "report" / f"{args.stack}.html"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1100}, device_scale_factor=1)
            page.goto(page_file.as_uri(), wait_until="load")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=False)
            browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
