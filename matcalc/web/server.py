"""``matcalc serve``: run the playground with uvicorn on a local address."""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import webbrowser
from typing import TextIO

from matcalc.errors import WebError

from .app import LOOPBACK, Settings, create_app
from .workers import Limits


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, so that the port is known (port 0 picks a free one) and a port in use
    is reported before anything starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WebError(f"serve: cannot use the address {host!r}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise WebError(f"serve: cannot listen on {host}:{port} ({exc.strerror}); choose another "
                       f"port with --port") from None
    sock.listen(128)
    return sock


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_of(sock: socket.socket) -> str:
    """The page's address for a bound socket."""
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    if host in ("0.0.0.0", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/"


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          limits: Limits | None = None, out: TextIO = sys.stdout) -> int:
    """Serve the playground until interrupted; print its address once it is ready."""
    try:
        import uvicorn
    except ImportError:
        raise WebError("matcalc serve needs the web extra: pip install 'matcalc-symbolic[web]'") \
            from None
    sock = _bind(host, port)
    url = url_of(sock)
    hosts = LOOPBACK if _is_loopback(host) else ("*",)

    def ready() -> None:
        print(f"matcalc playground: {url}  (Ctrl+C stops it)", file=out, flush=True)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    app = create_app(Settings(limits=limits or Limits(), allowed_hosts=hosts, on_ready=ready))
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
