"""The report in a real headless Chromium: renders offline, no errors, every chart drawn, at two widths."""

from __future__ import annotations

from pathlib import Path

import pytest
from exports_world import D, write_champion

from rightsend import exports
from rightsend.config import Settings

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDTHS = {"desktop": 1280, "phone": 390}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} absent: run `make browser` (apt-get install chromium)",
    ),
]


def test_report_renders_in_chromium(settings: Settings, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    write_champion(settings)
    report = Path(exports.run(settings, D)["report"])
    url = report.as_uri()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for label, width in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": 900})
                errors: list[str] = []
                requests: list[str] = []
                page.on(
                    "console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None
                )
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.on("request", lambda r, requests=requests: requests.append(r.url))
                page.goto(url, wait_until="load")
                shot = tmp_path / f"report-{label}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
                assert errors == [], errors
                assert requests == [url], requests  # nothing fetched but the file itself

                charts = page.query_selector_all("svg.chart")
                assert len(charts) >= 14
                for chart in charts:
                    name = chart.get_attribute("data-chart")
                    box = chart.bounding_box()
                    assert box and box["width"] > 0 and box["height"] > 0, name
                    assert box["width"] <= width, f"{name} wider than the {label} viewport"
                    marks = chart.query_selector_all(".mark")
                    assert len(marks) == int(chart.get_attribute("data-marks")) > 0, name
                    assert any((m.bounding_box() or {}).get("width", 0) > 0 for m in marks), name
                    assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label")
                # Wide tables scroll inside their wrapper; the page itself never scrolls sideways.
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.close()
        finally:
            browser.close()
