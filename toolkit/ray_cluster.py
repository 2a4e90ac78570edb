"""Join a Ray cluster, or start a local one that talks over 127.0.0.1 only: for Ray Serve (toolkit.serve.ray_app)
and Ray Data jobs (toolkit.jobs.ray) alike."""

from __future__ import annotations

import logging
import os


def init_ray(address: str | None = None, num_cpus: int = 2) -> bool:
    """Join the Ray cluster at `address`, or start a local one on 127.0.0.1; True if this call started Ray."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report leaves the machine
    if address:
        ray.init(address=address, logging_level=logging.WARNING)
        return True
    # A single-node Ray on Linux advertises the machine's network address, even when told 127.0.0.1
    # (services.resolve_ip_for_localhost). Ray's own switch for one-machine Windows/macOS clusters makes
    # it use loopback; it is read when ray is imported, so it is set for the processes Ray starts and
    # on the module this process already imported.
    from ray._private import ray_constants

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING)
    return True
