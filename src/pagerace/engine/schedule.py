"""Schedules: the ordered list of choices that reproduces one execution exactly.

A choice is (thread, outcome): which thread takes the next step and, for a
nondeterministic op (`Choose`, or an `Atomic` with several outcomes), which outcome. The
text form is comma-separated tokens `T` or `T:O`, e.g. `0,0,1,1:1,0`, short enough to
paste into `pagerace check ... --replay SCHEDULE`.
"""

from __future__ import annotations

from dataclasses import dataclass


class ScheduleError(ValueError):
    """A schedule that cannot be parsed, or does not fit the program it is replayed on."""


@dataclass(frozen=True)
class Choice:
    thread: int
    outcome: int = 0

    def __str__(self) -> str:
        return f"{self.thread}" if self.outcome == 0 else f"{self.thread}:{self.outcome}"


@dataclass(frozen=True)
class Schedule:
    choices: tuple[Choice, ...]

    def __len__(self) -> int:
        return len(self.choices)

    def __str__(self) -> str:
        return ",".join(str(c) for c in self.choices)

    @property
    def threads(self) -> list[int]:
        return [c.thread for c in self.choices]

    def preemptions(self) -> int:
        """Context switches: positions where the running thread changes."""
        t = self.threads
        return sum(1 for a, b in zip(t, t[1:], strict=False) if a != b)

    @classmethod
    def of(cls, pairs: list[tuple[int, int]] | list[Choice]) -> Schedule:
        return cls(tuple(c if isinstance(c, Choice) else Choice(*c) for c in pairs))

    @classmethod
    def parse(cls, text: str) -> Schedule:
        text = text.strip()
        if not text:
            return cls(())
        out = []
        for tok in text.split(","):
            tok = tok.strip()
            thread, _, outcome = tok.partition(":")
            try:
                c = Choice(int(thread), int(outcome) if outcome else 0)
            except ValueError:
                raise ScheduleError(f"bad schedule token {tok!r} (expected T or T:O)") from None
            if c.thread < 0 or c.outcome < 0:
                raise ScheduleError(f"bad schedule token {tok!r} (negative)")
            out.append(c)
        return cls(tuple(out))
