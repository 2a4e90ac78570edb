"""The listening socket, bound before the app starts so that a taken port is one clear line, not a
traceback from inside uvicorn or Ray Serve."""

from __future__ import annotations

import errno
import socket

from toolkit.errors import ToolkitError


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
