"""Shipped or not: the release windows of kernel/shipped.py, cell by cell.

Every expectation below is RECORD: docs/kernel-record.md sections 4, 6 and 9 (arm64 HVO
disabled by 060a2c92d1b6, v6.2 cycle; G0 v5.18-v6.9, G1 bd225530a4c7 v6.10, G2 v6.15,
G3 v7.1; rw-tails and G1b never merged), riscv's HVO in the 6.4 merge (fix-up
<20230429-trilogy-jolly-12bf5c53d62d@spud>), loongarch's
<20221027125253.3458989-5-chenhuacai@loongson.cn>, riscv's Zacas cmpxchg() 38acdee32d23
(applied for v6.13)."""

from __future__ import annotations

import pytest

from pagerace.kernel.shipped import ARCHITECTURES, GENERATIONS, shipped

MAINLINE = ("G0", "G1", "G2", "G3")
NEVER = ("rw-tails", "G1b", "G3-frozen-bit", "G2-noacquire")


@pytest.mark.parametrize("gen", MAINLINE)
@pytest.mark.parametrize("arch", ["x86", "riscv", "loongarch", "llsc"])
def test_architectures_that_ship_hvo_ran_every_mainline_generation(gen: str,
                                                                   arch: str) -> None:
    assert shipped(gen, arch)[0] is True


@pytest.mark.parametrize("arch", ["arm64-lse", "arm64-nolse"])
def test_arm64_ran_only_g0(arch: str) -> None:
    assert shipped("G0", arch)[0] is True
    for gen in ("G1", "G2", "G3"):
        ok, note = shipped(gen, arch)
        assert not ok and "060a2c92d1b6" in note and "not merged" in note


def test_riscv_zacas_missed_g0() -> None:
    ok, note = shipped("G0", "riscv-zacas")
    assert not ok and "38acdee32d23" in note
    assert all(shipped(g, "riscv-zacas")[0] for g in ("G1", "G2", "G3"))


@pytest.mark.parametrize("gen", NEVER)
def test_proposals_and_unverified_patches_never_shipped(gen: str) -> None:
    for arch in ARCHITECTURES:
        ok, note = shipped(gen, arch)
        assert not ok and note.startswith(gen)


def test_g1b_says_its_status_is_not_verified() -> None:
    assert "not verified" in shipped("G1b", "x86")[1]


def test_every_generation_of_the_model_has_facts() -> None:
    from pagerace.kernel.generations import GENERATION_NAMES

    assert set(GENERATION_NAMES) <= set(GENERATIONS)


def test_unknown_names_are_value_errors() -> None:
    with pytest.raises(ValueError, match="generation 'G9'"):
        shipped("G9", "x86")
    with pytest.raises(ValueError, match="architecture 'sparc'"):
        shipped("G0", "sparc")
