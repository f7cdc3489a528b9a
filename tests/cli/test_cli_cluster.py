"""`--cluster ADDRESS`: a local Dask scheduler and two workers on random free ports, a
small matrix and a split check on them, compared with the local result; and the one-line
errors when dask is missing or no scheduler answers."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pagerace.cli.main import cli

pytest.importorskip("distributed")
BIN = Path(sys.executable).parent
DASK = shutil.which("dask", path=str(BIN)) or shutil.which("dask")
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    if DASK is None:
        pytest.skip("no dask command")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0", "--no-show"], **common)]
    procs += [subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--nworkers", "1",
                                "--no-dashboard", "--host", "127.0.0.1"], **common)
              for _ in range(2)]
    try:
        from distributed import Client

        deadline = time.monotonic() + START_TIMEOUT
        with Client(address, timeout=START_TIMEOUT) as client:
            while len(client.nthreads()) < 2:
                if time.monotonic() > deadline:
                    pytest.fail("the Dask workers did not come up")
                time.sleep(0.2)
        yield address
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


MATRIX = ["matrix", "hvo-speculative-walker", "--param", "gen=G2", "--param", "arch=x86",
          "--json"]


def test_a_matrix_on_the_cluster_is_the_local_matrix(cluster: str) -> None:
    code, out, _ = run(*MATRIX, "--cluster", cluster)
    assert code == 0
    local_code, local, _ = run(*MATRIX, "--jobs", "1")
    strip = [("verdict", "violation", "schedule", "params")]
    got = [{k: c[k] for k in strip[0]} | {"executions": c["stats"]["executions"]}
           for c in json.loads(out)]
    want = [{k: c[k] for k in strip[0]} | {"executions": c["stats"]["executions"]}
            for c in json.loads(local)]
    assert got == want and len(got) == 3


@pytest.mark.parametrize("gen, code", [("G0", 1), ("G2", 0)])
def test_a_check_split_on_the_cluster_is_the_local_check(cluster: str, gen: str,
                                                         code: int) -> None:
    args = ["check", "hvo-speculative-walker", "--gen", gen, "--target", "unaligned", "--json"]
    got_code, out, _ = run(*args, "--cluster", cluster)
    want_code, local, _ = run(*args, "--jobs", "1")
    assert got_code == want_code == code
    got, want = json.loads(out), json.loads(local)
    assert got["stats"]["parallel"]["jobs"] == 2
    assert got["stats"]["parallel"]["subtrees"] >= 1
    for key in ("verdict", "violation", "schedule"):
        assert got[key] == want[key], key
    for key in ("executions", "sleep_blocked", "distinct_states", "steps"):
        assert got["stats"][key] == want["stats"][key], key


def test_no_scheduler_is_one_error_line() -> None:
    code, _, err = run("check", "hvo-speculative-walker", "--gen", "G2", "--cluster",
                       f"tcp://127.0.0.1:{free_port()}")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "no Dask scheduler answers" in lines[0]


def test_without_dask_is_one_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if missing
    code, _, err = run("matrix", "hvo-speculative-walker", "--cluster", "tcp://127.0.0.1:1")
    assert code == 2
    assert err.strip() == ("pagerace: error: --cluster needs dask distributed: pip install "
                           "'pagerace[cluster]'")
