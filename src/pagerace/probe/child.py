"""The probe's child process: run one compare-and-swap on a fresh page, report what it read.

Run as `python -m pagerace.probe.child VARIANT {ro,rw} [--compare {differ,match}]`.

It maps an anonymous page, stores STORED_VALUE in its first word, makes the page read-only
(`ro`) or leaves it read-write (`rw`), copies the hand-assembled function of VARIANT into a
second anonymous mapping that is then made read+execute (never writable and executable at
once), and calls it through ctypes with the word's address, an expected value and NEW_VALUE.
With `--compare differ` (the default) the expected value differs from the stored one, so the
compare fails.

Protocol on stdout, one JSON object per line, flushed at once:
- {"stage": "ready", "value_before": N}: set-up done; the next thing is the call.
- {"stage": "done", "value_read": N, "value_after": N}: the call returned.
- {"stage": "error", "error": "..."}: set-up failed (exit status 3).
If the compare-and-swap faults, the process dies of the signal (SIGSEGV or SIGBUS) after the
"ready" line, and the parent sees a negative return code: that is the measurement. Core
dumps and Python's faulthandler are switched off first so the expected crash stays quiet.

Leaves out: Windows (no mmap/mprotect through libc). On aarch64 it relies on the kernel
making the instruction cache coherent when a freshly written page becomes executable, and
also calls libgcc's __clear_cache when it can be found.
"""

from __future__ import annotations

import argparse
import ctypes
import faulthandler
import json
import mmap
import platform
import sys

from pagerace.probe.machine_code import VARIANTS

STORED_VALUE = 0x600DF00D
"""What the page holds before the call."""
DIFFERING_EXPECTED = 0x0BADF00D
"""The `expected` argument for a failing compare (differs from STORED_VALUE)."""
NEW_VALUE = 0xDEADBEEF
"""The `new` argument (differs from both)."""

EXIT_SETUP_ERROR = 3

_PR_SET_DUMPABLE = 4


def _emit(obj: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class _SetupError(Exception):
    pass


class _Libc:
    """mmap / mprotect through the C library, so page protections are under our control."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(None, use_errno=True)
        self.mmap = self.lib.mmap
        self.mmap.restype = ctypes.c_void_p
        self.mmap.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
            ctypes.c_int64,
        ]
        self.mprotect = self.lib.mprotect
        self.mprotect.restype = ctypes.c_int
        self.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        self.map_failed = ctypes.c_void_p(-1).value

    def map_anonymous_rw(self, size: int) -> int:
        addr = self.mmap(
            None, size, mmap.PROT_READ | mmap.PROT_WRITE,
            mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0,
        )
        if addr is None or addr == self.map_failed:
            raise _SetupError(f"mmap failed: errno {ctypes.get_errno()}")
        return int(addr)

    def protect(self, addr: int, size: int, prot: int, what: str) -> None:
        if self.mprotect(addr, size, prot) != 0:
            raise _SetupError(f"mprotect({what}) failed: errno {ctypes.get_errno()}")


def _quiet_crash() -> None:
    """No core file and no faulthandler traceback for the crash we expect."""
    faulthandler.disable()
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (AttributeError, OSError):
            pass


def _sync_icache(begin: int, end: int) -> None:
    """Best effort on non-x86: libgcc's __clear_cache(begin, end)."""
    if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86"):
        return
    for name in ("libgcc_s.so.1", "libgcc_s.so"):
        try:
            fn = ctypes.CDLL(name).__clear_cache
        except (OSError, AttributeError):
            continue
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        fn(begin, end)
        return


def run(variant: str, page: str, compare: str) -> int:
    """Set up, emit "ready", call the compare-and-swap, emit "done"; the exit status."""
    code = VARIANTS[variant].code
    expected = STORED_VALUE if compare == "match" else DIFFERING_EXPECTED
    try:
        libc = _Libc()
        size = mmap.PAGESIZE
        data = libc.map_anonymous_rw(size)
        word = ctypes.c_uint32.from_address(data)
        word.value = STORED_VALUE
        if page == "ro":
            libc.protect(data, size, mmap.PROT_READ, "data page, PROT_READ")
        text = libc.map_anonymous_rw(size)
        ctypes.memmove(text, code, len(code))
        libc.protect(text, size, mmap.PROT_READ | mmap.PROT_EXEC, "code page, PROT_READ|PROT_EXEC")
        _sync_icache(text, text + len(code))
        proto = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32)
        cas = proto(text)
    except (_SetupError, OSError, AttributeError, TypeError) as e:
        _emit({"stage": "error", "error": str(e)})
        return EXIT_SETUP_ERROR
    _quiet_crash()
    _emit({"stage": "ready", "value_before": word.value})
    value_read = int(cas(data, expected, NEW_VALUE))
    _emit({"stage": "done", "value_read": value_read, "value_after": word.value})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pagerace.probe.child")
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("page", choices=["ro", "rw"])
    parser.add_argument("--compare", choices=["differ", "match"], default="differ")
    args = parser.parse_args(argv)
    return run(args.variant, args.page, args.compare)


if __name__ == "__main__":
    sys.exit(main())
