"""Ray for the scale-out paths: importing it lazily, a session, and running tasks as they complete.

Nothing else in the toolkit imports Ray; the default paths never load it.
"""

import contextlib
import logging
import os
import socket
from typing import Callable, Iterable, Iterator, Optional

from inception_tools.errors import UserError

MAX_RETRIES = 3  # retries of a task whose worker died; errors raised by the task itself are not retried
CRASH_ENV = "INCEPTION_TOOLS_RAY_CRASH_ONCE"  # fault injection for the tests: see crash_once_if_armed


def import_ray():
    """The ``ray`` module, or a UserError telling how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError("scaling out needs Ray, an optional extra: pip install '.[ray]' (or pip install 'ray>=2.9')") \
            from None
    return ray


@contextlib.contextmanager
def session(address: str = "local", workers: Optional[int] = None) -> Iterator:
    """Connect to Ray for the duration of the block; yield the ``ray`` module.

    Args:
        address: "local" starts a Ray of this machine's own; otherwise the address of a running
            cluster's head (``HOST:6379``, or ``auto``).
        workers: local Ray only: CPUs (= concurrent one-CPU tasks) it offers; default all.

    A Ray already initialized in this process (a caller's own) is used as it is and left running.
    """
    ray = import_ray()
    if address != "local" and workers is not None:
        raise UserError("a number of workers applies to a local Ray only; a cluster offers the CPUs its nodes have")
    if address != "local":
        check_reachable(address)
    if ray.is_initialized():
        yield ray
        return
    options = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        if address == "local":
            ray.init(num_cpus=workers, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise UserError(f"cannot connect to Ray at {address}: {e}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def check_reachable(address: str, timeout: float = 5.0):
    """UserError unless ``HOST:PORT`` accepts a connection (Ray itself would retry for minutes)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return  # "auto", "ray://..." and the like: left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise UserError(f"cannot reach a Ray head at {address}: {e.strerror or e}; start one with "
                        "`ray start --head --port 6379`") from None


def cluster_cpus(ray) -> int:
    """CPUs the connected Ray offers (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def remote(ray, function: Callable):
    """``function`` as a one-CPU Ray task, retried when its worker dies."""
    return ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(function)


def as_completed(ray, tasks: dict) -> Iterable:
    """Yield ``(key, result)`` for ``tasks`` (ObjectRef -> key) in the order they finish.

    A UserError raised in a task comes back as a UserError; pending tasks are cancelled when the
    caller stops early (an error, Ctrl-C).
    """
    pending = dict(tasks)
    try:
        while pending:
            (ready,), _ = ray.wait(list(pending), num_returns=1)
            key = pending.pop(ready)
            try:
                result = ray.get(ready)
            except ray.exceptions.RayTaskError as e:
                if isinstance(e.cause, UserError):
                    raise UserError(f"on a Ray worker: {e.cause}") from None
                raise
            yield key, result
    finally:
        for ref in pending:
            ray.cancel(ref)


def crash_once_if_armed():
    """Fault injection for the tests: kill this worker once when the file named by ``$CRASH_ENV`` exists.

    The first task to rename the file away exits the process (as a killed worker would); Ray must
    retry its shard.
    """
    armed = os.environ.get(CRASH_ENV)
    if armed:
        try:
            os.rename(armed, armed + ".taken")
        except OSError:
            return
        os._exit(1)
