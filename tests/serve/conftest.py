"""Serving fixtures: a free local port, and one local Ray for the whole session (Ray starts slowly)."""

from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with 2 CPUs on 127.0.0.1 (no dashboard, no usage report), started once for every Ray test
    and shut down at the end."""
    import ray

    from toolkit.serve.ray_cluster import init_ray

    init_ray(address=None, num_cpus=2)
    yield ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()
