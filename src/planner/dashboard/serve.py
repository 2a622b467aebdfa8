"""``planner dashboard``: the dashboard served to a browser on this machine, and to nothing else.

The same settings wherever it is started: every Streamlit option that matters is set here, and
no ``config.toml`` is read — neither the working folder's ``.streamlit/config.toml`` nor the
user's ``~/.streamlit/`` — so a project folder cannot widen what the server accepts. The server
listens on 127.0.0.1 only; a request whose ``Host`` is not this server's own loopback name and
port is refused (a web page on another site that makes its name resolve to 127.0.0.1, "DNS
rebinding", sends its own name and is refused), and every response forbids framing.

Streamlit serves its app with Starlette; ``streamlit.starlette.App`` takes middleware, which is
where the ``Host`` check and the headers are added, in front of every route Streamlit has (the
page, its assets, ``/_stcore/*`` and the WebSocket).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

# the script Streamlit runs for each session (inside the package, so it ships in the wheel)
APP = Path(__file__).resolve().parent / "entry" / "dashboard.py"
ADDRESS = "127.0.0.1"
NAMES = ("127.0.0.1", "localhost")  # the names a browser on this machine reaches it by
DEFAULT_PORT = 8501
UPLOAD_MB = 1  # a scenario file is at most 1 MB (planner.scenario.loading.MAX_BYTES)

# frames are refused twice: X-Frame-Options for older browsers, CSP for the others
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)

SETTINGS: dict[str, Any] = {
    "server.address": ADDRESS,
    "server.headless": True,
    "server.maxUploadSize": UPLOAD_MB,
    "server.allowedHosts": list(NAMES),  # Streamlit's own check (the WebSocket only, any port)
    "server.enableCORS": True,
    "server.enableXsrfProtection": True,
    "server.enableStaticServing": False,
    "server.enableAgentApi": False,
    "server.baseUrlPath": "",
    "server.runOnSave": False,
    "server.fileWatcherType": "none",
    "browser.gatherUsageStats": False,
    "browser.serverAddress": ADDRESS,
    # "none": an unexpected error shows that it happened, not its message or code; Streamlit's
    # legacy `false` would mean "stacktrace"
    "client.showErrorDetails": "none",
    "client.toolbarMode": "minimal",
    "client.showSidebarNavigation": False,
    "global.developmentMode": False,
    # widgets that show one setting in two places are kept in step through Session State on
    # purpose (planner.dashboard.state.sync); Streamlit would log a warning for each
    "global.disableWidgetStateDuplicationWarning": True,
    "runner.magicEnabled": False,
    "theme.base": "light",
    "theme.primaryColor": "#1f3f8f",
}


class ServeError(Exception):
    """The dashboard cannot be served as asked (the port is taken, say): one line for the user."""


def host_allowed(headers: list[tuple[bytes, bytes]], port: int) -> bool:
    """Is the request addressed to this server by a loopback name and its own port?

    Exactly one ``Host`` header, naming 127.0.0.1 or localhost and the port listened on."""
    hosts = [v for k, v in headers if k.lower() == b"host"]
    if len(hosts) != 1:
        return False
    try:
        host = hosts[0].decode("ascii").strip().lower()
    except UnicodeDecodeError:
        return False
    return host in {f"{name}:{port}" for name in NAMES}


class LoopbackOnly:
    """ASGI middleware: refuse a request for any other ``Host`` (403, or a WebSocket closed
    before it opens, which the server answers with 403) and forbid framing every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):  # the server's lifespan events
            await self.app(scope, receive, send)
            return
        server = scope.get("server") or (None, None)
        if server[1] is None or not host_allowed(list(scope.get("headers", [])), server[1]):
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await _forbidden(send)
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _forbidden(send: Send) -> None:
    body = b"Forbidden: this dashboard answers only to 127.0.0.1 and localhost on its own port\n"
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ADDRESS, port))
        except OSError:
            return False
    return True


def _ignore_config_files() -> None:
    """Make Streamlit read no ``config.toml`` (nor ``secrets.toml``): the settings above are all
    the server has, wherever it was started from."""
    from streamlit import config

    if not callable(getattr(config, "get_config_files", None)):
        raise ServeError(
            "this version of Streamlit reads its config files in a way planner does not know; "
            "install the version pyproject.toml names"
        )
    config.get_config_files = lambda file_name: []


def run(port: int = DEFAULT_PORT) -> None:
    """Serve the dashboard at http://127.0.0.1:PORT until interrupted (Ctrl+C)."""
    if not 1 <= port <= 65535:
        raise ServeError(f"--port {port}: a port is a whole number from 1 to 65535")
    if not _port_is_free(port):
        raise ServeError(f"--port {port}: {ADDRESS}:{port} is in use; choose another port")
    from starlette.middleware import Middleware
    from streamlit.starlette import App

    _ignore_config_files()
    # Streamlit takes the script it was started with from argv[0] (the folder it puts first on
    # sys.path, and where it would look for a script-level config) and passes argv[1:] to it
    sys.argv = [str(APP)]
    App(APP, middleware=[Middleware(LoopbackOnly)]).run(config={**SETTINGS, "server.port": port})
