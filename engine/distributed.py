"""Where the per-sample stages of a method run: here, or as tasks on a Ray cluster (issue 10 §1).

A method that shards hands its independent pieces of work to `inputs.executor.map(fn, items,
progress, fixed, shared)`: piece k is `fn(*fixed, *shared, items[k], progress_k)`. The local
executor runs them in order in this process, each with its share of the progress bar (what every
method did before). The Ray executor ships each `fixed` object once for the whole run (ray.put,
kept by identity: objects that never change) and `shared` once a call (what changes between
calls, e.g. a layer's nodes between EM iterations), runs one task a piece on the cluster's CPUs,
moves the bar as pieces come back, and cancels the rest on Cancel. Results come back in order,
so a reduction on the driver sees them as the local run does.
"""
from __future__ import annotations

import importlib.util
import logging

from engine.errors import BadInput
from engine.jobs import Progress

RAY_EXTRA = "pip install 'deepscope[ray]'"
FIXED_KEPT = 8  # fixed objects a Ray executor keeps on the cluster at once
log = logging.getLogger("deepscope")


class LocalExecutor:
    name = "local"

    def map(self, fn, items: list, progress: Progress, fixed: tuple = (), shared: tuple = ()) -> list:
        count = max(len(items), 1)
        return [fn(*fixed, *shared, item, progress.child(k / count, (k + 1) / count))
                for k, item in enumerate(items)]


LOCAL = LocalExecutor()


def _piece(fn, *args):
    """One piece on a Ray worker: its progress goes nowhere (the driver counts pieces)."""
    return fn(*args, Progress())


class RayExecutor:
    """Tasks on the Ray cluster at `address` ("auto": a running one here, else a local one)."""

    name = "ray"

    def __init__(self, address: str) -> None:
        import ray  # noqa: PLC0415 (optional: only with --ray)

        self.ray = ray
        if not ray.is_initialized():
            try:
                ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
            except ConnectionError:
                if address != "auto":
                    raise BadInput(f"no Ray cluster answers at {address}") from None
                ray.init(include_dashboard=False, logging_level=logging.WARNING)  # none running: start one here
        self.remote = ray.remote(num_cpus=1)(_piece)
        self.fixed: dict[int, tuple] = {}  # id → (object, its ref): kept alive while cached

    def put_fixed(self, value):
        if id(value) not in self.fixed:
            if len(self.fixed) >= FIXED_KEPT:  # the oldest goes (a graph's flipped maps change per iteration)
                self.fixed.pop(next(iter(self.fixed)))
            self.fixed[id(value)] = (value, self.ray.put(value))
        return self.fixed[id(value)][1]

    def map(self, fn, items: list, progress: Progress, fixed: tuple = (), shared: tuple = ()) -> list:
        refs = [self.put_fixed(v) for v in fixed] + [self.ray.put(v) for v in shared]
        pending = {self.remote.remote(fn, *refs, item): k for k, item in enumerate(items)}
        results = [None] * len(items)
        try:
            while pending:
                progress.step(len(items) - len(pending), len(items), f"{len(items) - len(pending)}/{len(items)} "
                              "pieces back from Ray")
                ready, _ = self.ray.wait(list(pending), num_returns=1, timeout=0.25)
                for ref in ready:
                    results[pending.pop(ref)] = self.ray.get(ref)
        except BaseException:
            for ref in pending:
                self.ray.cancel(ref, force=True)
            raise
        progress.step(1.0, 1.0, f"{len(items)} pieces back from Ray")
        return results


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def executor_for(address: str, method) -> LocalExecutor | RayExecutor:
    """The executor a run asked for (`--ray auto|ADDRESS`, empty: here). Without Ray installed, or
    for a method that does not shard, the local engine, with a message saying so."""
    if not address:
        return LOCAL
    if not method.shards:
        from engine.methods import METHODS  # noqa: PLC0415 (the registry imports this module)

        sharded = " and ".join(m.name for m in METHODS.values() if m.shards)
        log.warning("%s runs here: --ray shards %s", method.name, sharded)
        return LOCAL
    if not ray_installed():
        log.warning("Ray is not installed, so this runs here; to run on Ray: %s", RAY_EXTRA)
        return LOCAL
    return RayExecutor(address)
