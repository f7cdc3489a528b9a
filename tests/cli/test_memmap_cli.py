"""`pagerace memmap` end to end: table, JSON, chart, and one-line errors with status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pagerace.cli.main import cli
from pagerace.memmap import chart as chart_mod
from pagerace.memmap.host import Host, HugetlbPool
from pagerace.memmap.model import compare_options, compute

K, M, G, T = 1024, 1024**2, 1024**3, 1024**4


def run_json(*args: str) -> dict[str, Any]:
    r = CliRunner().invoke(cli, ["memmap", *args, "--json"])
    assert r.exit_code == 0, r.output
    out: dict[str, Any] = json.loads(r.output)
    return out


def test_default_run_is_the_documented_example_host() -> None:
    r = CliRunner().invoke(cli, ["memmap"])
    assert r.exit_code == 0, r.output
    assert "hugetlb 2 MiB x 40000" in r.output
    assert "total" in r.output
    assert "HVO G2" in r.output
    d = run_json()
    assert d["host"]["memory_bytes"] == 512 * G
    assert d["host"]["hugetlb"] == [{"folio_bytes": 2 * M, "count": 40000}]
    assert d["descriptor_bytes_total"] == 8 * G
    assert d["saved_bytes"] == 40000 * 28 * K


def test_memory_alone_has_no_default_pool() -> None:
    d = run_json("--memory", "1TiB", "--hvo", "none")
    assert d["host"]["hugetlb"] == []
    assert d["descriptor_bytes_total"] == 16 * G
    assert d["descriptor_share_of_ram"] == 0.015625


def test_help_documents_the_default() -> None:
    r = CliRunner().invoke(cli, ["memmap", "--help"])
    assert r.exit_code == 0
    assert "2M:40000" in r.output and "512GiB" in r.output


def test_json_64tib_g3_eight_nodes() -> None:
    d = run_json("--memory", "64TiB", "--hugetlb", "1G:32768", "--hvo", "G3", "--nodes", "8")
    assert d["descriptor_bytes_total"] == T
    assert d["saved_bytes"] == 32768 * 4095 * 4 * K - 8 * 4 * K
    assert d["remaining_bytes"] == T - d["saved_bytes"]
    pool = d["items"][1]
    assert pool["kind"] == "hugetlb"
    assert pool["per_folio"]["vmemmap_pages"] == 4096
    assert pool["per_folio"]["freed_pages"] == 4095
    assert pool["shared_tail_frames"] == 8
    options = {o["option"]: o["saved_bytes"] for o in d["options"]}
    assert options["G0a"] == 32768 * 4094 * 4 * K
    assert options["G2"] - options["G3"] == 8 * 4 * K


def test_json_proposals() -> None:
    d = run_json("--memory", "512GiB", "--virtio-mem", "64GiB:2MiB:16GiB",
                 "--dedup-fake-offline", "--zero-struct-page", "64GiB")
    dev = d["items"][1]
    assert dev["kind"] == "virtio-mem"
    assert dev["fake_offline_chunks"] == 8192
    assert dev["saved_bytes"] == 224 * M
    z = d["zero_struct_page"]
    assert z["extra_vs_hole_bytes"] == 4 * K
    assert z["saved_vs_kept_bytes"] == G - 4 * K
    assert d["options"][-1]["option"] == "G2 + dedup fake-offline"


def test_table_shows_proposals_and_notes() -> None:
    r = CliRunner().invoke(cli, ["memmap", "--memory", "512GiB", "--virtio-mem",
                                 "64GiB:2MiB:16GiB", "--zero-struct-page", "64GiB"])
    assert r.exit_code == 0, r.output
    assert "zero struct page" in r.output
    assert "--dedup-fake-offline would save 224 MiB" in r.output


def test_repeated_pools_add_up() -> None:
    d = run_json("--memory", "1TiB", "--hugetlb", "2M:10", "--hugetlb", "2M:5")
    assert d["host"]["hugetlb"] == [{"folio_bytes": 2 * M, "count": 15}]


@pytest.mark.parametrize("ext", ["png", "svg"])
def test_chart_written_atomically(tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"memmap.{ext}"
    r = CliRunner().invoke(cli, ["memmap", "--virtio-mem", "8GiB:2MiB:2GiB",
                                 "--zero-struct-page", "1GiB", "--chart", str(out)])
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    if ext == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert b"<svg" in data[:1000]
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_interrupted_chart_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "memmap.png"
    out.write_bytes(b"old chart")
    host = Host(memory_bytes=64 * G, pools=(HugetlbPool(2 * M, 100),))

    def interrupted(self: object, f: Any, **kwargs: Any) -> None:
        f.write(b"half a PNG")
        raise KeyboardInterrupt

    monkeypatch.setattr(chart_mod.Figure, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        chart_mod.write_chart(compute(host), compare_options(host), out)
    assert out.read_bytes() == b"old chart"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_bad_input_through_click_is_one_line_and_exit_2() -> None:
    r = CliRunner().invoke(cli, ["memmap", "--memory", "1G", "--hugetlb", "2M:1000"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("pagerace: error: ") and r.stderr.count("\n") == 1
    assert "more than --memory" in r.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--memory", "-5G"], "negative"),
        (["--memory", "lots"], "cannot parse"),
        (["--page-size", "12K"], "power of two between 4KiB and 64KiB"),
        (["--page-size", "128K"], "power of two between 4KiB and 64KiB"),
        (["--memory", "1G", "--hugetlb", "2M:1000"], "more than --memory"),
        (["--virtio-mem", "1G:2M:2G"], "larger than the plugged"),
        (["--page-size", "64K", "--hugetlb", "8K:1"], "not a multiple of the page size"),
        (["--hugetlb", "2M:1.5"], "not an integer"),
        (["--hugetlb", "2M:-2"], "negative"),
        (["--hugetlb", "2M"], "SIZE:COUNT"),
        (["--hvo", "G9"], "unknown HVO generation"),
        (["--nodes", "0"], "--nodes"),
        (["--descriptor-size", "0"], "--descriptor-size"),
        (["--zero-struct-page", "4K"], "whole vmemmap pages"),
        (["--chart", "out.jpg"], ".png or .svg"),
        (["--chart", "no/such/dir/out.png"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    p = subprocess.run([sys.executable, "-m", "pagerace", "memmap", *args],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("pagerace: error: ")
    assert needle in lines[0]
    assert p.stdout == ""
