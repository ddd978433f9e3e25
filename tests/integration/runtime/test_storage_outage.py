"""The document storage going away under a running server (``rclone serve
s3`` killed): an upload fails with a message that says so (503, translated,
``Retry-After``), nothing of it is recorded, the documents already stored
are still listed, and /health names the storage."""

from __future__ import annotations

import functools
import os
import signal
from pathlib import Path
from uuid import uuid4

import httpx

from tests.support.documents import samples
from tests.support.documents.rclone import rclone_s3
from tests.support.live import Server, install, installation_env
from tests.support.postgres import PostgresCluster

get = functools.partial(httpx.get, timeout=120)
post = functools.partial(httpx.post, timeout=120)


def test_an_upload_while_storage_is_down_fails_clearly_and_saves_nothing(tmp_path: Path, pass_cluster: PostgresCluster | None) -> None:
    with rclone_s3() as s3:
        bucket = s3.create_bucket(f"outage-{uuid4().hex[:8]}")
        env = installation_env(
            tmp_path / "installation",
            pass_cluster,
            PORTAL_STORAGE_URL=f"s3://{bucket}",
            PORTAL_S3_ENDPOINT=s3.endpoint,
            AWS_ACCESS_KEY_ID=s3.access_key,
            AWS_SECRET_ACCESS_KEY=s3.secret_key,
            AWS_REGION=s3.region,
        )
        world = install(env)
        server = Server(env)
        server.start()
        try:
            auth = {"authorization": f"Bearer {server.token(world.emails['admin'], world.slug)}"}
            fields = {"attached_type": "supplier", "attached_id": world.suppliers[0], "category": "photo", "title": "stored"}
            picture = {"file": ("a.png", samples.png(), "image/png")}
            stored = post(f"{server.base}/api/v1/documents", data=fields, files=picture, headers=auth)
            assert stored.status_code == 201, stored.text

            os.kill(s3.pid, signal.SIGKILL)

            refused = post(
                f"{server.base}/api/v1/documents",
                data={**fields, "title": "lost"},
                files={"file": ("b.png", samples.png(color=(200, 10, 10)), "image/png")},
                headers={**auth, "accept-language": "en"},
            )
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "storage_unavailable"
            assert "Nothing was saved" in refused.json()["error"]["message"]
            assert int(refused.headers["retry-after"]) > 0
            # In the installation's language (zh_CN) when the caller names none.
            again = post(
                f"{server.base}/api/v1/documents",
                data={**fields, "title": "lost again"},
                files={"file": ("c.png", samples.png(color=(10, 200, 10)), "image/png")},
                headers=auth,
            )
            assert again.status_code == 503
            assert again.json()["error"]["message"] == "文件存储暂时无法连接，本次内容未保存，请稍后重试。"
            listed = get(f"{server.base}/api/v1/documents", headers=auth)
            assert listed.status_code == 200
            assert [item["id"] for item in listed.json()["items"]] == [stored.json()["id"]]
            health = get(f"{server.base}/health")
            assert health.status_code == 503
            assert health.json()["failed"] == ["storage"]
            logged = [event for event in server.events("storage_unavailable") if event["path"] == "/api/v1/documents"]
            assert len(logged) == 2
        finally:
            server.stop()
