"""pagerace's command-line entry point: a click group plus one module per command.

Exit status: 0 no violation, 1 violation found, 2 bad usage or bad input (one error line,
never a traceback), 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from pagerace import __version__
from pagerace.cli.errors import BadInput


class PageraceGroup(click.Group):
    """The group whose `main` maps every bad-input error to one line and exit status 2
    (and interrupts to 130), so that the same contract holds for the installed command
    and for click's CliRunner in tests."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            rv = super().main(args=args, prog_name=prog_name or "pagerace",
                              complete_var=complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.exceptions.Abort:
            _fail("interrupted", 130)
        except click.ClickException as e:
            _fail(f"error: {e.format_message()}", 2)
        except BadInput as e:
            _fail(f"error: {e}", 2)
        except OSError as e:  # an output file that cannot be written, and the like
            where = f"{e.filename}: " if e.filename else ""
            _fail(f"error: {where}{e.strerror or e}", 2)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        sys.exit(rv if isinstance(rv, int) else 0)


def _fail(message: str, status: int) -> NoReturn:
    click.echo(f"pagerace: {' '.join(message.split())}", err=True)
    sys.exit(status)


@click.group(cls=PageraceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pagerace")
def cli() -> None:
    """pagerace: can this race happen?

    An executable model of the Linux kernel's struct-page / vmemmap layer (HVO, RCU,
    speculative references, virtio-mem, memory hot-remove) with a systematic
    concurrency checker that explores the interleavings of simulated CPUs.
    """


def _register() -> None:
    from pagerace.cli import (
        check_cmd,
        list_cmd,
        litmus_cmd,
        matrix_cmd,
        memmap_cmd,
        probe_cmd,
        replay_cmd,
    )

    cli.add_command(list_cmd.list_scenarios)
    cli.add_command(check_cmd.check)
    cli.add_command(litmus_cmd.litmus)
    cli.add_command(matrix_cmd.matrix)
    cli.add_command(memmap_cmd.memmap)
    cli.add_command(probe_cmd.probe)
    cli.add_command(replay_cmd.replay)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (exits with its status; see PageraceGroup)."""
    cli.main(args=argv, prog_name="pagerace")
