"""Run the app with uvicorn: one process, one verified model, graceful stop on SIGTERM."""

from __future__ import annotations

import logging
import signal
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

from toolkit.config import ServeConfig
from toolkit.errors import ToolkitError
from toolkit.serve.sockets import bind_socket


def wait_until_ready(url: str, process=None, timeout: float = 60, interval: float = 0.2) -> None:
    """Poll `url`/ready until the service answers 200 (loaded, verified, warmed up). `process`, the
    server's subprocess.Popen where the caller started one, ends the wait early when it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            errors = process.stderr.read() if process.stderr else ""
            raise ToolkitError(f"the server exited with {process.returncode}: {errors}")
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet, or 503 while it warms up
        time.sleep(interval)
    raise ToolkitError(f"{url} was not ready in {timeout:g} s")


@contextmanager
def sigterm_is_a_clean_stop():
    """Make a SIGTERM that uvicorn has already handled end the process with exit code 0.

    uvicorn stops gracefully on SIGTERM and then re-raises the signal (encode/uvicorn#1600) so that
    the default handler kills the process; a no-op handler installed here receives it instead.
    """
    try:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    except ValueError:  # not the main thread: uvicorn installs no handlers there either
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(cfg: ServeConfig) -> None:
    """Serve a bundle over HTTP until SIGTERM or Ctrl-C, on uvicorn or, with `cfg.ray`, on Ray Serve; in-flight
    requests are answered before it returns (within `cfg.shutdown_timeout` on uvicorn)."""
    cfg.check()
    if cfg.ray:
        from toolkit.serve.ray_app import serve_ray

        return serve_ray(cfg)
    import uvicorn
    from uvicorn.config import LOG_LEVELS

    from toolkit.serve.app import app_for

    sock = bind_socket(cfg.host, cfg.port)  # first: a port in use fails before the model is loaded
    try:
        app = app_for(cfg)
        # A client that never finishes sending its body would hold a graceful stop forever without the timeout.
        config = uvicorn.Config(app, log_level=cfg.log_level, access_log=not cfg.no_access_log,
                                timeout_graceful_shutdown=cfg.shutdown_timeout, lifespan="on")
        server = uvicorn.Server(config)
        logging.getLogger("toolkit").setLevel(LOG_LEVELS[cfg.log_level])  # as uvicorn's own loggers
        # uvicorn announces its address only for sockets it binds itself; its logger is configured by now
        logging.getLogger("uvicorn.error").info("serving %s on http://%s:%d (API at /openapi.json%s; stop with "
                                                "Ctrl-C or SIGTERM)", cfg.bundle, cfg.host, sock.getsockname()[1],
                                                ", /docs" if cfg.docs else "")
        with sigterm_is_a_clean_stop():
            server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise ToolkitError(f"the server on {cfg.host}:{cfg.port} did not start; the log above says why.")
