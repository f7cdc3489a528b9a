"""The CLI's contract: --version, --help, and bad usage is one line with exit status 2."""

import subprocess
import sys

from click.testing import CliRunner

from pagerace import __version__
from pagerace.cli.main import cli


def test_version() -> None:
    r = CliRunner().invoke(cli, ["--version"])
    assert r.exit_code == 0
    assert __version__ in r.output


def test_help_lists_commands() -> None:
    r = CliRunner().invoke(cli, ["--help"])
    assert r.exit_code == 0
    assert "memmap" in r.output


def test_unknown_command_is_one_line_exit_2() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "pagerace", "no-such-command"], capture_output=True, text=True
    )
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0
    assert "Traceback" not in p.stderr


def test_unwritable_output_is_one_line_exit_2(tmp_path: object) -> None:
    for args in (["check", "hvo-speculative-walker", "--html", "/nonexistent-dir/r.html"],
                 ["check", "hvo-speculative-walker", "--save-trace", "/nonexistent-dir/t.json"],
                 ["matrix", "hvo-speculative-walker", "--html", "/nonexistent-dir/r.html"]):
        p = subprocess.run([sys.executable, "-m", "pagerace", *args],
                           capture_output=True, text=True)
        assert p.returncode == 2, args
        assert p.stderr.strip().count("\n") == 0 and "Traceback" not in p.stderr
        assert "cannot write" in p.stderr
