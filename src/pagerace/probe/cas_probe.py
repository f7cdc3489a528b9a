"""Does a failed compare-and-swap fault on a read-only page on this CPU? Ask the CPU.

The model (pagerace.kernel.arch) says, per architecture and kernel atomic, whether an
instruction sequence writes when it need not: x86's cmpxchg always does (LOCK CMPXCHG
writes the old value back, Intel SDM), so get_page_unless_zero() on a struct page mapped
read-only faults even when the refcount is zero and nothing would be changed. This module
checks the host profile's cmpxchg entry against the hardware, with a user-space
compare-and-swap: the instruction the kernel's cmpxchg() uses here, not the kernel's path.
On x86 and arm64 atomic_add_unless() reaches that instruction through the generic
fallback (a read, then a cmpxchg loop); on riscv and loongarch atomic_add_unless() is the
architecture's own LL/SC loop and never runs a CAS, so what this probe finds says nothing
about get_page_unless_zero() there. The report says which applies to the host.

1. control: the hand-assembled compare-and-swap (pagerace.probe.machine_code) runs in a
   child process on a read-write page with a failing compare; it must not fault, must
   return the stored value and leave it unchanged. Otherwise the result is "inconclusive".
2. probe: the same call on a read-only page, in a fresh child. Killed by SIGSEGV or SIGBUS
   after set-up means the failed compare-and-swap faulted; a clean exit reporting the stored
   value, unchanged, means it did not.

Verdict against the profile: ALWAYS (failed CAS writes) agrees only with a fault, NEVER only
with no fault, MAYBE with either.

Leaves out: hosts without a variant in machine_code or without a profile (status
"unsupported", never a guess; riscv and loongarch have a profile but no variant);
which fault the kernel reports beyond the signal's name; the value left in memory after a
fault (the child that owned the page is gone), so "value_after" is null then. The aarch64
variants have not been run during development.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pagerace.kernel.arch import ArchProfile, NeedlessStore, Sequence, host_profile
from pagerace.probe.child import DIFFERING_EXPECTED as EXPECTED_VALUE
from pagerace.probe.child import EXIT_SETUP_ERROR, NEW_VALUE, STORED_VALUE
from pagerace.probe.machine_code import CasCode, select_code

CHILD_TIMEOUT_S = 60.0

FAULT_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS})

STATUS_OK = "ok"
STATUS_INCONCLUSIVE = "inconclusive"
STATUS_UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class ChildOutcome:
    """What one child process did."""

    returncode: int | None
    """None when it timed out."""
    ready: bool
    """It finished set-up and was about to call the compare-and-swap."""
    value_before: int | None = None
    value_read: int | None = None
    value_after: int | None = None
    error: str | None = None
    stderr: str = ""

    @property
    def signal_name(self) -> str | None:
        """The name of the signal that killed it, if one did."""
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    @property
    def faulted(self) -> bool:
        """Killed by SIGSEGV/SIGBUS after set-up: the compare-and-swap itself faulted."""
        if not self.ready or self.returncode is None or self.returncode >= 0:
            return False
        return -self.returncode in {int(s) for s in FAULT_SIGNALS}

    @property
    def clean_unchanged(self) -> bool:
        """Exited 0, returned the stored value and left it unchanged (a failed compare)."""
        return (
            self.returncode == 0
            and self.ready
            and self.value_before == STORED_VALUE
            and self.value_read == STORED_VALUE
            and self.value_after == STORED_VALUE
        )

    def describe(self) -> str:
        """One line for reports."""
        if self.returncode is None:
            return "timed out"
        if self.error:
            return f"set-up failed: {self.error}"
        if self.faulted:
            return f"faulted ({self.signal_name})"
        if self.signal_name:
            where = "after set-up" if self.ready else "during set-up"
            return f"killed by {self.signal_name} {where}"
        if self.returncode != 0:
            return f"exited with status {self.returncode}"
        return (
            f"no fault: read {_hex(self.value_read)}, "
            f"value {_hex(self.value_before)} -> {_hex(self.value_after)}"
        )


def _hex(v: int | None) -> str:
    return "?" if v is None else f"0x{v:08x}"


def _child_env() -> dict[str, str]:
    """The parent's environment, with this package's source root importable in the child."""
    env = dict(os.environ)
    env.pop("PYTHONFAULTHANDLER", None)
    root = str(Path(__file__).resolve().parents[2])
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = root if not old else root + os.pathsep + old
    return env


def parse_child_output(returncode: int | None, stdout: str, stderr: str) -> ChildOutcome:
    """Read the child's JSON lines (see pagerace.probe.child) into a ChildOutcome."""
    ready = False
    fields: dict[str, Any] = {}
    for line in stdout.splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        stage = obj.get("stage")
        if stage == "ready":
            ready = True
            fields["value_before"] = obj.get("value_before")
        elif stage == "done":
            fields["value_read"] = obj.get("value_read")
            fields["value_after"] = obj.get("value_after")
        elif stage == "error":
            fields["error"] = str(obj.get("error"))
    if returncode == EXIT_SETUP_ERROR and "error" not in fields:
        fields["error"] = "set-up failed"
    tail = stderr.strip().splitlines()[-5:]
    return ChildOutcome(returncode=returncode, ready=ready, stderr="\n".join(tail), **fields)


def run_child(
    variant: str, page: str, compare: str = "differ", timeout: float = CHILD_TIMEOUT_S
) -> ChildOutcome:
    """Run one compare-and-swap in a child process (`page` is "ro" or "rw")."""
    cmd = [sys.executable, "-m", "pagerace.probe.child", variant, page, "--compare", compare]
    try:
        p = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=_child_env(),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return parse_child_output(None, out, "")
    return parse_child_output(p.returncode, p.stdout, p.stderr)


def agrees_with(profile: ArchProfile, faulted: bool) -> bool:
    """Whether an observed outcome is allowed by the profile's failed-cmpxchg behaviour."""
    if profile.failed_cas_writes is NeedlessStore.ALWAYS:
        return faulted
    if profile.failed_cas_writes is NeedlessStore.NEVER:
        return not faulted
    return True


def _expectation(profile: ArchProfile | None) -> str | None:
    if profile is None:
        return None
    return {
        NeedlessStore.ALWAYS: "must fault",
        NeedlessStore.NEVER: "must not fault",
        NeedlessStore.MAYBE: "may or may not fault",
    }[profile.failed_cas_writes]


def kernel_path(profile: ArchProfile | None) -> str:
    """What the probed instruction has to do with the kernel's atomic_add_unless() here."""
    if profile is None:
        return "no model profile for this machine"
    fau = profile.op("atomic_fetch_add_unless")
    where = f"{fau.source}: {fau.insns}"
    if fau.sequence is Sequence.LLSC:
        return (f"not the kernel's path: on {profile.name} atomic_add_unless() is the "
                f"architecture's own LL/SC loop ({where}), which never runs a "
                f"compare-and-swap and does not store when the count equals u; this probe "
                f"only checks the kernel's cmpxchg() ({profile.op('cmpxchg').insns})")
    return (f"the kernel's cmpxchg() here is {profile.op('cmpxchg').insns}; "
            f"atomic_add_unless() reaches it through the generic fallback ({where}): a "
            f"user-space compare-and-swap like the kernel's, but not the kernel's code path")


@dataclass(frozen=True)
class ProbeResult:
    """The probe's answer for one host."""

    arch: str
    profile: ArchProfile | None
    status: str
    code: CasCode | None
    control: ChildOutcome | None
    readonly: ChildOutcome | None
    note: str

    @property
    def control_ok(self) -> bool | None:
        return None if self.control is None else self.control.clean_unchanged

    @property
    def faults(self) -> bool | None:
        """The answer: does a failed CAS fault on a read-only page here (None: unknown)."""
        if self.status != STATUS_OK or self.readonly is None:
            return None
        return self.readonly.faulted

    @property
    def agrees(self) -> bool | None:
        f = self.faults
        return None if f is None or self.profile is None else agrees_with(self.profile, f)

    def to_json(self) -> dict[str, Any]:
        """The --json object."""
        ro = self.readonly
        return {
            "arch": self.arch,
            "status": self.status,
            "failed_cas_on_readonly_faults": self.faults,
            "signal": ro.signal_name if ro is not None else None,
            "model_profile": self.profile.name if self.profile else None,
            "model_cmpxchg": self.profile.instruction if self.profile else None,
            "model_failed_cas_writes": (
                self.profile.failed_cas_writes.value if self.profile else None
            ),
            "model_expectation": _expectation(self.profile),
            "model_atomic_fetch_add_unless": (
                self.profile.op("atomic_fetch_add_unless").sequence.value
                if self.profile else None
            ),
            "kernel_path": kernel_path(self.profile),
            "agrees": self.agrees,
            "variant": self.code.variant if self.code else None,
            "instruction": self.code.instruction if self.code else None,
            "code_bytes": self.code.hex() if self.code else None,
            "code_executed_in_development": (
                self.code.executed_in_development if self.code else None
            ),
            "control_ok": self.control_ok,
            "control": self.control.describe() if self.control else None,
            "value_stored": STORED_VALUE,
            "expected_arg": EXPECTED_VALUE,
            "new_arg": NEW_VALUE,
            "value_before": ro.value_before if ro else None,
            "value_read": ro.value_read if ro else None,
            "value_after": ro.value_after if ro else None,
            "note": self.note,
        }


_UNTESTED_NOTE = (
    "the aarch64 machine code was hand-assembled and checked against reference encodings, "
    "but had not been run on an aarch64 CPU when it was written"
)


def interpret(
    arch: str,
    profile: ArchProfile | None,
    code: CasCode,
    control: ChildOutcome,
    readonly: ChildOutcome | None,
) -> ProbeResult:
    """Turn the two children's outcomes into a verdict; never claims more than they show."""
    notes: list[str] = []
    if not code.executed_in_development:
        notes.append(_UNTESTED_NOTE)
    if not control.clean_unchanged:
        notes.insert(0, f"control on a read-write page did not behave: {control.describe()}")
        return ProbeResult(arch, profile, STATUS_INCONCLUSIVE, code, control, readonly,
                           "; ".join(notes))
    if readonly is None:
        notes.insert(0, "the read-only probe did not run")
        status = STATUS_INCONCLUSIVE
    elif readonly.faulted or readonly.clean_unchanged:
        status = STATUS_OK
        if readonly.faulted:
            notes.insert(0, "the failed compare-and-swap faulted on the read-only page: "
                            "it needs write permission even though it changes nothing")
        else:
            notes.insert(0, "the failed compare-and-swap read the read-only page without "
                            "faulting")
    else:
        status = STATUS_INCONCLUSIVE
        notes.insert(0, f"read-only probe gave no clear answer: {readonly.describe()}")
    return ProbeResult(arch, profile, status, code, control, readonly, "; ".join(notes))


def run_probe(machine: str | None = None, timeout: float = CHILD_TIMEOUT_S) -> ProbeResult:
    """Probe this host: control first, then the read-only page."""
    arch = machine or platform.machine()
    profile = host_profile(arch)
    pointer_bits = ctypes.sizeof(ctypes.c_void_p) * 8
    code = None
    if profile is not None and os.name == "posix":
        code = select_code(arch, profile.name, pointer_bits)
    if code is None:
        note = (
            f"no hand-assembled compare-and-swap for {arch or 'this machine'} "
            f"({pointer_bits}-bit process, {os.name}); only x86-64 and aarch64 on POSIX "
            "hosts are probed"
        )
        return ProbeResult(arch, profile, STATUS_UNSUPPORTED, None, None, None, note)
    control = run_child(code.variant, "rw", timeout=timeout)
    if not control.clean_unchanged:
        return interpret(arch, profile, code, control, None)
    readonly = run_child(code.variant, "ro", timeout=timeout)
    return interpret(arch, profile, code, control, readonly)


def _yes_no(v: bool | None) -> str:
    return "unknown" if v is None else ("yes" if v else "no")


def format_report(r: ProbeResult) -> str:
    """The human-readable report."""
    lines = ["pagerace probe: does a failed compare-and-swap fault on a read-only page?",
             "  (a user-space compare-and-swap on this host, not the kernel's code path)"]
    lines.append(f"  arch:          {r.arch}")
    lines.append(f"  status:        {r.status}")
    if r.code is not None:
        lines.append(f"  instruction:   {r.code.instruction}  [{r.code.variant}]")
        lines.append(f"  code bytes:    {r.code.hex()}")
        lines.append(
            f"  call:          stored {_hex(STORED_VALUE)}, expected {_hex(EXPECTED_VALUE)} "
            f"(compare fails), new {_hex(NEW_VALUE)}"
        )
    if r.control is not None:
        ok = "ok" if r.control_ok else "FAILED"
        lines.append(f"  control (rw):  {ok}: {r.control.describe()}")
    if r.readonly is not None:
        lines.append(f"  probe (ro):    {r.readonly.describe()}")
    lines.append(f"  faults:        {_yes_no(r.faults)}")
    if r.profile is None:
        lines.append("  model profile: none")
    else:
        lines.append(
            f"  model profile: {r.profile.name} (cmpxchg {r.profile.instruction}: failed "
            f"compare writes {r.profile.failed_cas_writes.value}; {_expectation(r.profile)})"
        )
    lines.append(f"  agrees:        {_yes_no(r.agrees)}")
    lines.append(f"  kernel path:   {kernel_path(r.profile)}")
    if r.note:
        lines.append(f"  note:          {r.note}")
    return "\n".join(lines)
