"""The HTML reports without a browser: self-contained, stable hooks, escaped, complete."""

from __future__ import annotations

import dataclasses
import itertools
import re
from html.parser import HTMLParser

import pytest
from test_report_toy import SCENARIO

from pagerace.check import CheckResult, MatrixResult, run_check
from pagerace.report.html import render_check_html, render_matrix_html
from pagerace.report.html_matrix import matrix_model

VOID = {"meta", "br", "img", "input", "link", "hr", "source", "wbr", "area", "col"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.text = ""

    def all(self) -> list[Node]:
        return [self] + [d for c in self.children for d in c.all()]

    def full_text(self) -> str:
        return self.text + "".join(c.full_text() for c in self.children)

    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()


class Tree(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", {}, None)
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.cur.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.cur))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data: str) -> None:
        self.cur.text += data

    def by_id(self, ident: str) -> Node:
        found = [n for n in self.root.all() if n.attrs.get("id") == ident]
        assert len(found) == 1, f"#{ident}: {len(found)} elements"
        return found[0]

    def select(self, tag: str, **attrs: str) -> list[Node]:
        return [n for n in self.root.all() if n.tag == tag
                and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def _self_contained(html: str, tree: Tree) -> None:
    assert not tree.select("link")
    for n in tree.root.all():
        assert "src" not in n.attrs, n.tag
        href = n.attrs.get("href")
        assert href is None or href.startswith("#"), href
    assert "@import" not in html and "url(" not in html
    ids = [n.attrs["id"] for n in tree.root.all() if "id" in n.attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"


@pytest.fixture(scope="module")
def check_doc() -> CheckResult:
    return run_check(SCENARIO, {"arch": "x86"})


def test_check_page_hooks_and_initial_state(check_doc: CheckResult) -> None:
    html = render_check_html(check_doc)
    tree = Tree(html)
    _self_contained(html, tree)
    assert tree.by_id("step-index").full_text() == "0"
    assert tree.by_id("step-count").full_text() == "4"
    assert tree.by_id("next").tag == tree.by_id("prev").tag == "button"
    rows = [n for n in tree.root.all() if n.tag == "tr" and "data-step" in n.attrs]
    assert [r.attrs["data-step"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert "current" in rows[0].classes()
    assert [r for r in rows if "violation" in r.classes()] == [rows[-1]]
    assert "oops" in rows[-1].full_text()
    # the walker's step sits in the walker's lane (the second CPU column)
    cells = [c for c in rows[4].children if c.tag == "td"]
    assert "active" in cells[2].classes() and cells[1].full_text().strip() == ""
    assert "compare failed, write cycle" in cells[2].full_text()
    vmap = tree.by_id("vmemmap-map")
    perms = {g.attrs["data-vpage"]: g.attrs["data-perm"] for g in vmap.all() if g.tag == "g"
             and "data-vpage" in g.attrs}
    assert perms == {"0": "rw", "1": "rw", "2": "rw", "3": "hole"}
    assert tree.by_id("replay-command").full_text() == check_doc.replay


def test_every_step_has_its_map(check_doc: CheckResult) -> None:
    tree = Tree(render_check_html(check_doc))
    rows = [n for n in tree.root.all() if n.tag == "tr" and "data-step" in n.attrs]
    maps = {t.attrs["data-map"]: t for t in tree.select("template") if "data-map" in t.attrs}
    tables = {t.attrs["data-tables"] for t in tree.select("template")
              if "data-tables" in t.attrs}
    assert all(r.attrs["data-map"] in maps and r.attrs["data-tables"] in tables for r in rows)

    def perm(step: int, vpage: str) -> str:
        m = maps[rows[step].attrs["data-map"]]
        return next(g.attrs["data-perm"] for g in m.all() if g.attrs.get("data-vpage") == vpage)

    assert [perm(i, "1") for i in range(5)] == ["rw", "rw", "ro", "ro", "ro"]
    step4 = maps[rows[4].attrs["data-map"]]
    accessed = [g for g in step4.all() if "accessed" in g.classes()]
    assert {g.attrs.get("data-vpage") or "f" + g.attrs["data-frame"] for g in accessed} == {
        "1", "f10"}


def test_identical_states_are_stored_once() -> None:
    obs = {"vmemmap": [{"vpage": 0, "frame": 5, "perm": "rw"}], "pages": [{"pfn": 0}]}
    step = {"thread": 0, "thread_name": "t0", "label": "nop", "stack": ["t0"], "notes": [],
            "reads": [], "writes": [], "result": None, "observation": obs}
    trace = {"threads": ["t0"], "initial_observation": obs, "steps": [step] * 6,
             "violation": None, "schedule": "0,0,0,0,0,0"}
    tree = Tree(render_check_html(CheckResult("s", {}, "pass", trace=trace)))
    templates = tree.select("template")
    assert len([t for t in templates if "data-map" in t.attrs]) == 1
    assert len([t for t in templates if "data-tables" in t.attrs]) == 1
    assert len([n for n in tree.root.all() if "data-step" in n.attrs]) == 7


def test_content_is_escaped(check_doc: CheckResult) -> None:
    evil = "<script>alert(1)</script> & <b>"
    doc = dataclasses.replace(check_doc, violation={"kind": "oops", "message": evil},
                              params={**check_doc.params, "arch": evil})
    html = render_check_html(doc)
    assert html.count("<script>") == 1  # the report's own script
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in html


def test_a_passing_check_has_no_viewer() -> None:
    html = render_check_html(run_check(SCENARIO, {"arch": "llsc"}))
    tree = Tree(html)
    _self_contained(html, tree)
    assert "No counterexample" in html
    assert not tree.select("tr") or not [n for n in tree.root.all() if "data-step" in n.attrs]
    assert "every interleaving explored" in html


AXES = {"gen": ["G0", "G1"], "arch": ["x86", "llsc", "arm64-lse"], "target": ["tail", "head"]}
COLUMNS = [f"{a}/{t}" for a in AXES["arch"] for t in AXES["target"]]


@pytest.fixture(scope="module")
def matrix() -> MatrixResult:
    cells = [run_check(SCENARIO, {"gen": g, "arch": a, "target": t})
             for g, a, t in itertools.product(AXES["gen"], AXES["arch"], AXES["target"])]
    return MatrixResult("mini-hvo", "gen", ["arch", "target"], AXES["gen"], COLUMNS, cells)


def test_matrix_table_and_linked_traces(matrix: MatrixResult) -> None:
    html = render_matrix_html(matrix)
    tree = Tree(html)
    _self_contained(html, tree)
    cells = {(n.attrs["data-row"], n.attrs["data-column"]): n for n in tree.select("td")
             if "data-row" in n.attrs}
    assert len(cells) == 12
    failing = {k for k, n in cells.items() if "fail" in n.classes()}
    assert failing == {("G1", "x86/tail"), ("G1", "arm64-lse/tail")}
    for key, n in cells.items():
        links = [a for a in n.all() if a.tag == "a"]
        verdict = n.full_text().split("\u2020")[0].strip()  # without a shipped mark
        if key in failing:
            assert verdict == "oops"
            (a,) = links
            section = tree.by_id(a.attrs["href"][1:])
            assert section.tag == "section" and "trace-section" in section.classes()
            prefix = a.attrs["href"][1:] + "-"
            assert tree.by_id(prefix + "step-index").full_text() == "0"
            tree.by_id(prefix + "next")
            tree.by_id(prefix + "vmemmap-map")
        else:
            assert verdict == "pass" and not links
    assert "rows: gen; columns: arch/target" in html
    assert len([n for n in tree.select("section") if "trace-section" in n.classes()]) == 2


def test_matrix_marks_what_never_shipped(matrix: MatrixResult) -> None:
    tree = Tree(render_matrix_html(matrix))
    cells = {(n.attrs["data-row"], n.attrs["data-column"]): n for n in tree.select("td")
             if "data-row" in n.attrs}
    unshipped = {k for k, n in cells.items() if "unshipped" in n.classes()}
    # FOUND by kernel/shipped.py's windows: arm64 HVO ended with v6.1, G1 began in v6.10
    assert unshipped == {("G1", "arm64-lse/tail"), ("G1", "arm64-lse/head")}
    for key in unshipped:
        n = cells[key]
        assert n.attrs["data-shipped"] == "false"
        assert "060a2c92d1b6" in n.attrs["title"]
        assert [s.full_text() for s in n.all() if s.tag == "sup"] == ["\u20201"]
    assert all(cells[k].attrs["data-shipped"] == "true" for k in cells if k not in unshipped)
    notes = tree.by_id("shipped-notes").full_text()
    assert "G1 on arm64-lse" in notes and "re-enabling series was not merged" in notes


def test_matrix_placement(matrix: MatrixResult) -> None:
    m = matrix_model(matrix)
    assert m.row_param == "gen" and m.column_params == ["arch", "target"]
    assert not m.extra
    cell = m.cell("G1", "x86/tail")
    assert cell is not None and cell.text == "oops"
    assert (m.count("pass"), m.count("fail")) == (10, 2)


def test_matrix_cells_outside_the_table_are_listed(matrix: MatrixResult) -> None:
    m = dataclasses.replace(matrix, rows=["G0"])
    html = render_matrix_html(m)
    assert len(matrix_model(m).extra) == 6
    assert "Checks outside the table" in html
    assert re.search(r"arch=x86 gen=G1 target=tail:\s*oops", Tree(html).root.full_text())
