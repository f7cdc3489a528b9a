"""`pagerace probe`: the machine code, the child process, the verdict and the command.

The hardware tests run only on x86-64 hosts (the only variant that can run here); the
aarch64 encodings are checked against reference words and by decoding their fields, and,
when an LLVM assembler is installed, against its output.
"""

from __future__ import annotations

import ctypes
import json
import platform
import re
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pagerace.cli.main import cli
from pagerace.kernel.arch import PROFILES, Sequence, get_profile
from pagerace.probe import machine_code as mc
from pagerace.probe.cas_probe import (
    STATUS_INCONCLUSIVE,
    STATUS_OK,
    STATUS_UNSUPPORTED,
    ChildOutcome,
    agrees_with,
    format_report,
    interpret,
    kernel_path,
    parse_child_output,
    run_child,
    run_probe,
)
from pagerace.probe.child import NEW_VALUE, STORED_VALUE

ON_X86_64 = (
    platform.machine().lower() in ("x86_64", "amd64")
    and ctypes.sizeof(ctypes.c_void_p) == 8
    and sys.platform != "win32"
)
x86_64_only = pytest.mark.skipif(not ON_X86_64, reason="runs x86-64 machine code")

REQUIRED_KEYS: dict[str, tuple[type, ...]] = {
    "arch": (str,),
    "failed_cas_on_readonly_faults": (bool, type(None)),
    "model_profile": (str, type(None)),
    "kernel_path": (str,),
    "agrees": (bool, type(None)),
    "instruction": (str, type(None)),
    "signal": (str, type(None)),
    "control_ok": (bool, type(None)),
    "value_before": (int, type(None)),
    "value_after": (int, type(None)),
    "status": (str,),
    "note": (str,),
}


def _words(code: bytes) -> list[int]:
    assert len(code) % 4 == 0
    return list(struct.unpack(f"<{len(code) // 4}I", code))


# ----------------------------------------------------------------- machine code: x86-64


def test_x86_64_bytes() -> None:
    assert mc.X86_64.code == bytes.fromhex("89f0 f00fb117 c3")


def test_x86_64_bytes_decode() -> None:
    code = mc.X86_64.code
    # mov r/m32, r32 (89 /r), ModRM mod=11 reg=esi(6) rm=eax(0)
    assert code[0] == 0x89
    assert (code[1] >> 6, (code[1] >> 3) & 7, code[1] & 7) == (0b11, 6, 0)
    # LOCK prefix, then cmpxchg r/m32, r32 (0F B1 /r), ModRM mod=00 reg=edx(2) rm=[rdi](7)
    assert code[2] == 0xF0
    assert code[3:5] == b"\x0f\xb1"
    assert (code[5] >> 6, (code[5] >> 3) & 7, code[5] & 7) == (0b00, 2, 7)
    assert code[6] == 0xC3  # ret
    assert len(code) == 7


# ----------------------------------------------------------------- machine code: aarch64

# Reference words (assembler output for the same source lines).
LSE_REFERENCE = [0x88A17C02, 0x2A0103E0, 0xD65F03C0]
LLSC_REFERENCE = [
    0x885F7C03,  # ldxr w3, [x0]
    0x6B01007F,  # cmp  w3, w1
    0x54000061,  # b.ne +3
    0x88047C02,  # stxr w4, w2, [x0]
    0x35FFFF84,  # cbnz w4, -4
    0x2A0303E0,  # mov  w0, w3
    0xD65F03C0,  # ret
]


def test_aarch64_lse_matches_reference() -> None:
    assert _words(mc.AARCH64_LSE.code) == LSE_REFERENCE


def test_aarch64_llsc_matches_reference() -> None:
    assert _words(mc.AARCH64_LLSC.code) == LLSC_REFERENCE


def test_aarch64_encoders_against_known_encodings() -> None:
    assert mc.A64_RET == 0xD65F03C0
    assert mc.a64_cas_w(0, 1, 2) == 0x88A07C41  # cas w0, w1, [x2]
    assert mc.a64_ldxr_w(9, 31) == 0x885F7FE9  # ldxr w9, [sp]
    assert mc.a64_stxr_w(1, 2, 3) == 0x88017C62  # stxr w1, w2, [x3]
    assert mc.a64_cmp_w(0, 1) == 0x6B01001F  # cmp w0, w1
    assert mc.a64_mov_w(0, 1) == 0x2A0103E0  # mov w0, w1
    assert mc.words_to_bytes([mc.A64_RET]) == bytes([0xC0, 0x03, 0x5F, 0xD6])


def _sext19(v: int) -> int:
    return v - (1 << 19) if v & (1 << 18) else v


def test_aarch64_llsc_fields_and_branch_targets() -> None:
    w = _words(mc.AARCH64_LLSC.code)
    # ldxr w3, [x0]: Rt=3, Rn=0, L=1
    assert w[0] & 0x1F == 3 and (w[0] >> 5) & 0x1F == 0 and (w[0] >> 22) & 1 == 1
    # cmp w3, w1: Rd=wzr, Rn=3, Rm=1, S=1
    assert w[1] & 0x1F == 31 and (w[1] >> 5) & 0x1F == 3 and (w[1] >> 16) & 0x1F == 1
    assert (w[1] >> 29) & 1 == 1
    # b.ne: cond NE, target = the `mov w0, w3` at index 5
    assert w[2] >> 24 == 0x54 and w[2] & 0xF == mc.A64_COND_NE
    assert 2 + _sext19((w[2] >> 5) & 0x7FFFF) == 5
    # stxr w4, w2, [x0]: status in w4, data w2, L=0
    assert (w[3] >> 16) & 0x1F == 4 and w[3] & 0x1F == 2 and (w[3] >> 22) & 1 == 0
    # cbnz w4 back to the ldxr at index 0
    assert w[4] >> 24 == 0x35 and w[4] & 0x1F == 4
    assert 4 + _sext19((w[4] >> 5) & 0x7FFFF) == 0
    assert w[5] == mc.a64_mov_w(0, 3) and w[6] == mc.A64_RET


def test_aarch64_lse_cas_fields() -> None:
    w = _words(mc.AARCH64_LSE.code)
    assert (w[0] >> 16) & 0x1F == 1  # Rs: expected in, value read out
    assert w[0] & 0x1F == 2  # Rt: new value
    assert (w[0] >> 5) & 0x1F == 0  # Rn: address in x0
    assert (w[0] >> 22) & 1 == 0 and (w[0] >> 15) & 1 == 0  # no acquire / release
    assert (w[1] >> 16) & 0x1F == 1 and w[1] & 0x1F == 0  # mov w0, w1


def test_encoder_range_checks() -> None:
    with pytest.raises(ValueError):
        mc.a64_mov_w(32, 0)
    with pytest.raises(ValueError):
        mc.a64_b_cond(mc.A64_COND_NE, 1 << 18)


@pytest.mark.skipif(
    shutil.which("llvm-mc") is None or shutil.which("llvm-objdump") is None,
    reason="LLVM assembler not installed",
)
@pytest.mark.parametrize(
    ("code", "flags", "source"),
    [
        (mc.X86_64, ["-triple=x86_64", "-x86-asm-syntax=intel"], "\n".join(mc.X86_64.assembly)),
        (mc.AARCH64_LSE, ["-triple=aarch64", "-mattr=+lse"], "\n".join(mc.AARCH64_LSE.assembly)),
        (
            mc.AARCH64_LLSC,
            ["-triple=aarch64"],
            "retry:\nldxr w3, [x0]\ncmp w3, w1\nb.ne out\nstxr w4, w2, [x0]\n"
            "cbnz w4, retry\nout:\nmov w0, w3\nret",
        ),
    ],
    ids=["x86-64", "aarch64-lse", "aarch64-llsc"],
)
def test_against_llvm_assembler(
    code: mc.CasCode, flags: list[str], source: str, tmp_path: Path
) -> None:
    obj = tmp_path / "cas.o"
    subprocess.run(
        ["llvm-mc", *flags, "-filetype=obj", "-o", str(obj)], input=source + "\n",
        capture_output=True, text=True, check=True,
    )
    dump = subprocess.run(
        ["llvm-objdump", "-d", str(obj)], capture_output=True, text=True, check=True
    ).stdout
    got = bytearray()
    for line in dump.splitlines():
        m = re.match(r"^\s*[0-9a-f]+:\s+((?:[0-9a-f]{2} )+)", line)
        if m:
            got += bytes.fromhex(m.group(1))
    assert bytes(got) == code.code


def test_select_code() -> None:
    assert mc.select_code("x86_64", "x86", 64) is mc.X86_64
    assert mc.select_code("AMD64", "x86", 64) is mc.X86_64
    assert mc.select_code("aarch64", "arm64-lse", 64) is mc.AARCH64_LSE
    assert mc.select_code("aarch64", "arm64-nolse", 64) is mc.AARCH64_LLSC
    assert mc.select_code("x86_64", "x86", 32) is None
    assert mc.select_code("i686", "x86", 32) is None
    assert mc.select_code("riscv64", "riscv", 64) is None
    assert not mc.AARCH64_LSE.executed_in_development
    assert mc.X86_64.executed_in_development


# ----------------------------------------------------------------- verdict logic


def test_agrees_with_truth_table() -> None:
    assert agrees_with(get_profile("x86"), True)
    assert not agrees_with(get_profile("x86"), False)
    assert agrees_with(get_profile("arm64-nolse"), False)
    assert not agrees_with(get_profile("arm64-nolse"), True)
    assert agrees_with(get_profile("arm64-lse"), True)
    assert agrees_with(get_profile("arm64-lse"), False)


def _ok_control() -> ChildOutcome:
    return ChildOutcome(0, True, STORED_VALUE, STORED_VALUE, STORED_VALUE)


def test_parse_child_output() -> None:
    out = parse_child_output(
        -int(signal.SIGSEGV), json.dumps({"stage": "ready", "value_before": STORED_VALUE}), ""
    )
    assert out.ready and out.faulted and out.signal_name == "SIGSEGV"
    crashed_early = parse_child_output(-int(signal.SIGSEGV), "", "")
    assert not crashed_early.faulted
    err = parse_child_output(3, json.dumps({"stage": "error", "error": "mprotect"}), "")
    assert err.error == "mprotect" and not err.faulted


def test_failed_control_is_inconclusive() -> None:
    bad = ChildOutcome(-int(signal.SIGSEGV), True, STORED_VALUE)
    r = interpret("x86_64", get_profile("x86"), mc.X86_64, bad, None)
    assert r.status == STATUS_INCONCLUSIVE
    assert r.control_ok is False
    assert r.faults is None and r.agrees is None
    changed = ChildOutcome(0, True, STORED_VALUE, STORED_VALUE, NEW_VALUE)
    r = interpret("x86_64", get_profile("x86"), mc.X86_64, changed, None)
    assert r.status == STATUS_INCONCLUSIVE


def test_other_signal_or_early_crash_is_inconclusive() -> None:
    for ro in (
        ChildOutcome(-int(signal.SIGILL), True, STORED_VALUE),
        ChildOutcome(-int(signal.SIGSEGV), False),
        ChildOutcome(None, True, STORED_VALUE),
        ChildOutcome(0, True, STORED_VALUE, 0, STORED_VALUE),
    ):
        r = interpret("x86_64", get_profile("x86"), mc.X86_64, _ok_control(), ro)
        assert r.status == STATUS_INCONCLUSIVE, ro
        assert r.to_json()["failed_cas_on_readonly_faults"] is None


def test_no_fault_disagrees_with_x86_and_agrees_with_arm64_nolse() -> None:
    clean = _ok_control()
    r = interpret("x86_64", get_profile("x86"), mc.X86_64, _ok_control(), clean)
    assert r.status == STATUS_OK and r.faults is False and r.agrees is False
    r = interpret("aarch64", get_profile("arm64-nolse"), mc.AARCH64_LLSC, _ok_control(),
                  clean)
    assert r.agrees is True
    assert "had not been run" in r.note


def test_kernel_path_says_when_the_probed_cas_is_not_atomic_add_unless() -> None:
    for name in ("riscv", "riscv-zacas", "loongarch"):
        text = kernel_path(get_profile(name))
        assert text.startswith("not the kernel's path") and "LL/SC" in text, name
        assert "arch/" in text and "never runs a compare-and-swap" in text
    for name in ("x86", "arm64-lse", "arm64-nolse"):
        text = kernel_path(get_profile(name))
        assert "generic fallback" in text and "not the kernel's code path" in text
    assert get_profile("x86").instruction in kernel_path(get_profile("x86"))


def test_report_says_it_is_a_user_space_cas() -> None:
    r = interpret("x86_64", get_profile("x86"), mc.X86_64, _ok_control(), _ok_control())
    text = format_report(r)
    assert "user-space compare-and-swap on this host, not the kernel's code path" in text
    assert "kernel path:" in text and "model profile: x86 (cmpxchg lock cmpxchg" in text
    assert r.to_json()["model_atomic_fetch_add_unless"] == Sequence.FALLBACK.value


# ----------------------------------------------------------------- on the hardware


@x86_64_only
def test_control_rw_does_not_fault_and_leaves_value() -> None:
    out = run_child("x86-64", "rw")
    assert out.returncode == 0, out
    assert out.value_before == STORED_VALUE
    assert out.value_read == STORED_VALUE
    assert out.value_after == STORED_VALUE
    assert out.clean_unchanged


@x86_64_only
def test_matching_cas_on_rw_page_swaps() -> None:
    out = run_child("x86-64", "rw", compare="match")
    assert out.returncode == 0, out
    assert out.value_read == STORED_VALUE
    assert out.value_after == NEW_VALUE


@x86_64_only
def test_failed_cas_on_readonly_page_faults() -> None:
    out = run_child("x86-64", "ro")
    assert out.ready
    assert out.faulted, out
    assert out.signal_name in ("SIGSEGV", "SIGBUS")


@x86_64_only
def test_probe_on_x86_64_faults_and_agrees() -> None:
    r = run_probe()
    assert r.status == STATUS_OK, r.note
    assert r.profile is PROFILES["x86"]
    assert r.control_ok is True
    assert r.faults is True
    assert r.agrees is True


# ----------------------------------------------------------------- the command


@x86_64_only
def test_cli_json_on_x86_64() -> None:
    res = CliRunner().invoke(cli, ["probe", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    for key, types in REQUIRED_KEYS.items():
        assert key in data, key
        assert isinstance(data[key], types), (key, data[key])
    assert data["arch"] == platform.machine()
    assert data["model_profile"] == "x86"
    assert data["failed_cas_on_readonly_faults"] is True
    assert data["agrees"] is True
    assert data["control_ok"] is True
    assert data["signal"] in ("SIGSEGV", "SIGBUS")
    assert data["value_before"] == STORED_VALUE
    assert "cmpxchg" in data["instruction"]


@x86_64_only
def test_cli_report_on_x86_64() -> None:
    res = CliRunner().invoke(cli, ["probe"])
    assert res.exit_code == 0, res.output
    assert "faults:        yes" in res.output
    assert "agrees:        yes" in res.output
    assert "model profile: x86" in res.output


def test_cli_unsupported_arch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "s390x")
    res = CliRunner().invoke(cli, ["probe", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["arch"] == "s390x"
    assert data["status"] == STATUS_UNSUPPORTED
    assert data["failed_cas_on_readonly_faults"] is None
    assert data["agrees"] is None
    assert data["model_profile"] is None and data["kernel_path"]
    assert data["note"]
    for key, types in REQUIRED_KEYS.items():
        assert isinstance(data[key], types), (key, data[key])
    res = CliRunner().invoke(cli, ["probe"])
    assert res.exit_code == 0
    assert "unsupported" in res.output


def test_cli_bad_usage_exit_2() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "pagerace", "probe", "--no-such-option"],
        capture_output=True, text=True,
    )
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
