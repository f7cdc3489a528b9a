"""The HTML reports in a real browser: stepping, the map at each step, the matrix links.

Drives the distribution's headless Chromium (never a downloaded browser) with Playwright;
skipped only when /usr/bin/chromium is absent. Pages are opened from file:// URLs and
every request the page makes is recorded: a self-contained report makes none but its own.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_report_toy import SCENARIO

from pagerace.check import MatrixResult, run_check
from pagerace.report.atomic import write_atomic
from pagerace.report.html import render_check_html, render_matrix_html

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="needs the distribution's Chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page plus the errors and requests it produced."""

    def __init__(self, browser: Any, path: Path, js: bool = True) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 900},
                                           java_script_enabled=js)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console",
                     lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.as_uri()

    def open(self, fragment: str = "") -> Any:
        self.page.goto(self.url + fragment)
        return self.page

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).inner_text()).strip()

    def perm(self, container: str, vpage: str) -> str:
        return str(self.page.locator(f'{container} g[data-vpage="{vpage}"]')
                   .get_attribute("data-perm"))

    def current_steps(self) -> list[str]:
        return [str(x) for x in self.page.eval_on_selector_all(
            "tr[data-step].current", "rows => rows.map(r => r.dataset.step)")]

    def close(self) -> None:
        self.context.close()
        assert self.errors == []
        assert self.requests and all(u.startswith(self.url.split("#")[0])
                                     for u in self.requests), self.requests


@pytest.fixture(scope="module")
def check_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "check.html"
    write_atomic(path, render_check_html(run_check(SCENARIO, {"arch": "x86"})))
    return path


@pytest.fixture(scope="module")
def matrix_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gens, arches, targets = ["G0", "G1"], ["x86", "llsc", "arm64-lse"], ["tail", "head"]
    cells = [run_check(SCENARIO, {"gen": g, "arch": a, "target": t})
             for g, a, t in itertools.product(gens, arches, targets)]
    path = tmp_path_factory.mktemp("report") / "matrix.html"
    columns = [f"{a}/{t}" for a in arches for t in targets]
    m = MatrixResult("mini-hvo", "gen", ["arch", "target"], gens, columns, cells)
    write_atomic(path, render_matrix_html(m))
    return path


def test_stepping_with_buttons_and_keys(browser: Any, check_html: Path) -> None:
    r = Page(browser, check_html)
    page = r.open()
    assert r.text("#step-index") == "0" and r.text("#step-count") == "4"
    assert r.current_steps() == ["0"]
    assert r.perm("#vmemmap-map", "1") == "rw"
    assert page.locator("#prev").is_disabled()
    initial_map = page.locator("#vmemmap-map").inner_html()

    page.click("#next")
    assert r.text("#step-index") == "1" and r.current_steps() == ["1"]
    assert "accessed" in str(page.locator('#vmemmap-map g[data-vpage="1"]')
                             .get_attribute("class"))
    assert "put_page" in r.text("#step-detail")

    page.click("#next")
    assert r.text("#step-index") == "2" and r.current_steps() == ["2"]
    assert page.locator("#vmemmap-map").inner_html() != initial_map
    assert r.perm("#vmemmap-map", "1") == "ro" and r.perm("#vmemmap-map", "2") == "ro"
    assert "shared" in str(page.locator('#vmemmap-map g[data-frame="10"]')
                           .get_attribute("class"))
    assert "hugetlb_vmemmap_optimize_folio" in r.text("#step-caption")

    page.keyboard.press("ArrowLeft")
    assert r.text("#step-index") == "1" and r.perm("#vmemmap-map", "1") == "rw"
    for _ in range(6):  # past the end: stays on the last step
        page.keyboard.press("ArrowRight")
    assert r.text("#step-index") == "4" and r.current_steps() == ["4"]
    assert page.locator("#next").is_disabled()
    assert "oops" in r.text("#step-detail")
    assert "write to read-only vmemmap" in r.text("#step-detail")

    page.keyboard.press("Home")
    assert r.text("#step-index") == "0" and page.locator("#vmemmap-map").inner_html() == initial_map
    page.click('tr[data-step="3"]')
    assert r.text("#step-index") == "3" and r.current_steps() == ["3"]
    assert "rcu_read_lock" in r.text("#step-detail")
    r.close()


def test_the_map_draws_ro_unlike_rw(browser: Any, check_html: Path) -> None:
    r = Page(browser, check_html)
    page = r.open()
    page.keyboard.press("End")
    box = page.locator("#vmemmap-map svg").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100

    def style(selector: str, prop: str) -> str:
        return str(page.eval_on_selector(
            selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')"))

    ro, rw = "#vmemmap-map line.link.ro", "#vmemmap-map line.link.rw"
    assert style(ro, "stroke") != style(rw, "stroke")
    assert style(ro, "stroke-dasharray") not in ("", "none")
    assert style(rw, "stroke-dasharray") in ("", "none")
    hole = '#vmemmap-map g[data-vpage="3"] rect'
    assert style(hole, "stroke-dasharray") not in ("", "none")
    assert page.locator("#vmemmap-map line").count() == 3  # the hole has no line
    r.close()


def test_matrix_cells_open_their_traces(browser: Any, matrix_html: Path) -> None:
    r = Page(browser, matrix_html)
    page = r.open()
    x86, lse = "#cell-G1-x86-tail", "#cell-G1-arm64-lse-tail"
    assert page.locator(x86).is_hidden() and page.locator(lse).is_hidden()
    assert page.locator("#pick-hint").is_visible()
    assert page.locator('td[data-row="G0"][data-column="x86/tail"] a').count() == 0

    page.click('td[data-row="G1"][data-column="x86/tail"] a')
    page.wait_for_selector(x86, state="visible", timeout=10_000)  # a busy machine is slow
    assert page.locator(x86).is_visible() and page.locator(lse).is_hidden()
    assert page.url.endswith(x86)
    assert r.text(f"{x86}-step-index") == "0"
    page.keyboard.press("ArrowRight")
    page.click(f"{x86}-next")
    assert r.text(f"{x86}-step-index") == "2"
    assert r.perm(f"{x86}-vmemmap-map", "1") == "ro"

    page.click('td[data-row="G1"][data-column="arm64-lse/tail"] a')
    page.wait_for_selector(lse, state="visible", timeout=10_000)
    assert page.locator(lse).is_visible() and page.locator(x86).is_hidden()
    page.keyboard.press("ArrowRight")  # the keys now drive the trace on screen
    assert r.text(f"{lse}-step-index") == "1"
    assert r.text(f"{x86}-step-index") == "2"
    r.close()

    direct = Page(browser, matrix_html)
    page = direct.open(lse)
    page.wait_for_selector(lse, state="visible", timeout=10_000)
    assert page.locator(lse).is_visible() and page.locator(x86).is_hidden()
    direct.close()


def test_readable_without_javascript(browser: Any, matrix_html: Path,
                                     check_html: Path) -> None:
    r = Page(browser, matrix_html, js=False)
    page = r.open()
    assert page.locator("#cell-G1-x86-tail").is_visible()
    assert page.locator("#cell-G1-arm64-lse-tail").is_visible()
    assert "oops" in r.text('td[data-row="G1"][data-column="x86/tail"]')
    assert page.locator("#cell-G1-x86-tail-next").is_hidden()  # no dead buttons
    r.close()
    c = Page(browser, check_html, js=False)
    page = c.open()
    assert "compare failed, write cycle" in str(page.locator('tr[data-step="4"]').inner_text())
    assert page.locator("#vmemmap-map svg").is_visible()
    c.close()
