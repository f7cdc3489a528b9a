"""Where the work runs: this machine's processes, or an existing Dask cluster.

`local_pool(jobs)` is a standard-library process pool whose workers ignore SIGINT
(Ctrl-C is the parent's to handle). `cluster_pool(address)` connects to a running Dask
distributed scheduler (`dask scheduler` plus `dask worker`s) and returns its
`concurrent.futures`-style executor and the number of worker threads; dask is imported
only then (the optional dependency `pagerace[cluster]`). Either way the caller sees one
`Executor`, so matrix cells and exploration subtrees are submitted the same way.

Every failure to get a cluster is a `ClusterError` (a ValueError) with one line: dask
not installed, or no scheduler answering at the address in `CONNECT_TIMEOUT` seconds.

Leaves out: starting a cluster (that is the cluster's administrator's), and shipping the
code: the workers must be able to import pagerace (the same installation or image).
"""

from __future__ import annotations

import importlib
import signal
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

CONNECT_TIMEOUT = 10.0  # seconds to wait for a scheduler to answer


class ClusterError(ValueError):
    """No cluster to run on; the message is one line."""


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def local_pool(jobs: int) -> Iterator[Executor]:
    with ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_sigint) as pool:
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def cluster_pool(address: str) -> Iterator[tuple[Executor, int]]:
    """(executor, worker threads) of the Dask scheduler at `address`."""
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise ClusterError("--cluster needs dask distributed: pip install "
                           "'pagerace[cluster]'") from None
    try:
        client: Any = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ClusterError(f"no Dask scheduler answers at {address}: {first}") from None
    try:
        threads = sum(client.nthreads().values())
        if threads < 1:
            raise ClusterError(f"the Dask scheduler at {address} has no workers")
        executor: Executor = client.get_executor(pure=False)
        yield executor, threads
    finally:
        client.close()


__all__ = ["CONNECT_TIMEOUT", "ClusterError", "cluster_pool", "local_pool"]
