"""Run the app with uvicorn: one process, one verified model, graceful stop on SIGTERM."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.serve.batching import MAX_BATCH_SIZE, MAX_WAIT_MS
from toolkit.serve.limits import Limits


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


def bind_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (uvicorn listens on it), or a one-line ToolkitError naming the port."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as error:
        raise ToolkitError(f"cannot listen on {host}:{port}: {host!r} is not a known host ({error.strerror}); "
                           "pass --host 127.0.0.1 or an address of this machine.") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    # SO_REUSEADDR lets a restarted server take a port whose old connections are in TIME_WAIT; it does not
    # let two servers listen on one port (on Linux a live listener still makes bind fail).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ToolkitError(f"port {port} on {host} is already in use; stop the process listening there or "
                               "pass --port with a free port.") from None
        raise ToolkitError(f"cannot listen on {host}:{port} ({error.strerror}); pass another --host or "
                           "--port.") from None
    sock.set_inheritable(True)
    return sock


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


def serve(bundle_dir: str | Path, host: str = "127.0.0.1", port: int = 8080, variant: str | None = None,
          threads: int | None = None, max_batch_size: int = MAX_BATCH_SIZE, max_wait_ms: float = MAX_WAIT_MS,
          limits: Limits = Limits(), aggregation: str | None = None, log_level: str = "info",
          engine: str | None = None) -> None:
    """Serve a bundle over HTTP until SIGTERM or Ctrl-C; in-flight requests are answered before it returns."""
    import uvicorn

    from toolkit.serve.app import create_app

    sock = bind_socket(host, port)  # first: a port in use fails before the model is loaded
    try:
        app = create_app(bundle_dir, variant=variant, threads=threads, max_batch_size=max_batch_size,
                         max_wait_ms=max_wait_ms, limits=limits, aggregation=aggregation, engine=engine)
        config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=None, lifespan="on")
        server = uvicorn.Server(config)
        # uvicorn announces its address only for sockets it binds itself; its logger is configured by now
        logging.getLogger("uvicorn.error").info("serving %s on http://%s:%d (API at /docs; stop with Ctrl-C or "
                                                "SIGTERM)", bundle_dir, host, sock.getsockname()[1])
        with sigterm_is_a_clean_stop():
            server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise ToolkitError(f"the server on {host}:{port} did not start; the log above says why.")
