"""Serving fixtures: a free local port, and one local Ray for the whole session (Ray starts slowly)."""

from __future__ import annotations

import os
import socket

import pytest

# Ray: no usage-stats upload and no dashboard, so nothing leaves 127.0.0.1.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")


def pytest_configure(config):
    # Registered here because pyproject.toml is not this package's to edit; not deselected by default.
    config.addinivalue_line("markers", "ray: starts a local Ray (Serve or Data); about a minute on 2 cores")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with 2 CPUs, started once for every Ray test and shut down at the end."""
    import ray

    from toolkit.serve.ray_app import init_ray

    init_ray(address=None, num_cpus=2)
    yield ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()
