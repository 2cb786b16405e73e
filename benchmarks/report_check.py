"""Open a run's report.html in headless Chromium, check that every section rendered, and screenshot it.

Checks: the six sections (verdict, safety, utility, training, samples, provenance) are present and
visible, every <img> decoded (naturalWidth > 0: the plots are inlined, nothing is fetched), and the page
made no network request beyond itself. Writes a full-page PNG.

    .venv/bin/python benchmarks/report_check.py runs/latest docs/img/report.png
"""

from __future__ import annotations

import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SECTIONS = ("verdict", "safety", "utility", "training", "samples", "provenance")


def main(run_dir: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_url = (run_dir.resolve() / "report.html").as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_url)
        missing = [s for s in SECTIONS if not page.locator(f"section#{s}").is_visible()]
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.naturalWidth])")
        broken = [alt for alt, width in images if not width]
        outside = [u for u in requests if u != page_url and not u.startswith("data:")]
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        browser.close()
    print(f"sections missing: {missing or 'none'}; images: {len(images)} ({len(broken)} broken); outside requests: {outside or 'none'}")
    print(f"wrote {out}")
    if missing or broken or outside:
        sys.exit(1)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
