"""A tiny HTTP/1.1 server on 127.0.0.1 for the http provider tests (no web framework needed).

Each server has a handler that turns a recorded `Request` into a `Reply`, or into None to never
answer (the request hangs until the server closes). Connections are kept alive as httpx expects.
`Servers` (the `servers` fixture) starts servers whose handler plays scripted `Replies` per path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

__all__ = [
    "Handler",
    "LocalHttpServer",
    "Replies",
    "Reply",
    "Request",
    "Servers",
    "closed_port",
    "ok",
]


@dataclass(frozen=True)
class Request:
    """One request as received."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header (names compared without case)."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass(frozen=True)
class Reply:
    """What the server answers."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Reply | None]

_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 404: "Not Found"}


class LocalHttpServer:
    """`async with LocalHttpServer(handler) as server:` serves on `server.url(path)`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        """How many requests reached `path`."""
        return sum(1 for request in self.requests if request.path == path)

    async def __aenter__(self) -> LocalHttpServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        line = await reader.readline()
        if not line:
            return False
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: list[tuple[str, str]] = []
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        request = Request(method, path, headers, b"")
        length = int(request.header("Content-Length") or 0)
        request = Request(method, path, headers, await reader.readexactly(length))
        self.requests.append(request)
        reply = self.handler(request)
        if reply is None:
            await asyncio.Event().wait()  # never answers; cancelled when the server closes
            return False
        head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
        head += [f"{name}: {value}" for name, value in reply.headers]
        head.append(f"Content-Length: {len(reply.body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)
        await writer.drain()
        return True


async def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (it was just released)."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return port


def ok(body: str = "", status: int = 200, headers: list[tuple[str, str]] | None = None) -> Reply:
    """A reply with a text body."""
    return Reply(status, body.encode(), headers or [])


class Replies:
    """A handler answering each path with its replies in order; the last one repeats."""

    def __init__(self, replies: dict[str, list[Reply | None]]) -> None:
        self.replies = replies
        self.seen: dict[str, int] = {}

    def __call__(self, request: Request) -> Reply | None:
        replies = self.replies.get(request.path, [Reply(404, b"no such path")])
        index = self.seen.get(request.path, 0)
        self.seen[request.path] = index + 1
        return replies[min(index, len(replies) - 1)]


class Servers:
    """Starts servers for one test; `close()` stops them all."""

    def __init__(self) -> None:
        self.running: list[LocalHttpServer] = []

    async def start(self, replies: dict[str, list[Reply | None]]) -> LocalHttpServer:
        """A server answering each path with its replies, in order."""
        server = await LocalHttpServer(Replies(replies)).__aenter__()
        self.running.append(server)
        return server

    async def close(self) -> None:
        for server in self.running:
            await server.__aexit__(None, None, None)
