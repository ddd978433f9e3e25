"""Checkpoints in an S3 bucket (rclone serve s3), as in production: the CLI
runs with PORTAL_STORAGE_URL=s3://bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from portal.documents.storage import S3Storage, checkpoint_key, checkpoint_prefix
from tests.integration.audit.conftest import Tamper, new_tenant
from tests.integration.audit.test_audit_keys import FORGED, checkpoint, name, record_orders, truncate, verify_lines
from tests.support.documents.rclone import RcloneS3, rclone_s3

Run = Any


@pytest.fixture(scope="module")
def s3_server() -> Iterator[RcloneS3]:
    with rclone_s3() as server:
        yield server


@pytest.fixture(scope="module")
def s3_env(s3_server: RcloneS3) -> dict[str, str]:
    bucket = s3_server.create_bucket("portal-audit")
    return {
        "PORTAL_STORAGE_URL": f"s3://{bucket}",
        "PORTAL_S3_ENDPOINT": s3_server.endpoint,
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        "AWS_REGION": s3_server.region,
    }


def test_checkpoints_in_a_bucket_catch_a_truncated_tail_and_a_forged_checkpoint(
    run: Run, tamper: Tamper, s3_server: RcloneS3, s3_env: dict[str, str]
) -> None:
    context = run(new_tenant)
    events = run(record_orders, context, 3)
    assert checkpoint(context, **s3_env).stdout.strip() == "portal: 1 audit checkpoints written"
    events += run(record_orders, context, 2)
    assert checkpoint(context, **s3_env).stdout.strip() == "portal: 1 audit checkpoints written"
    bucket = s3_env["PORTAL_STORAGE_URL"].removeprefix("s3://")
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=checkpoint_prefix(context.tenant_id))
    assert [item["Key"] for item in listed["Contents"]] == [checkpoint_key(context.tenant_id, 5), checkpoint_key(context.tenant_id, 3)]

    truncate(tamper, events, 4)
    code, lines = verify_lines(context, **s3_env)
    assert code == 1
    [line] = lines
    assert line.startswith(f"tenant {context.tenant_slug}: deleted: seq 5 missing after {name(events[3])}: the checkpoint of ")
    assert line.endswith("signed the chain up to seq 5")

    s3 = S3Storage(bucket, s3_server.endpoint, s3_server.region)
    s3.client = s3_server.client()
    newest = json.loads(run(s3.read_bytes, checkpoint_key(context.tenant_id, 5)))
    run(s3.put_bytes, checkpoint_key(context.tenant_id, 5), json.dumps({**newest, "seq": 4, "hash": events[3].hash}).encode())
    code, lines = verify_lines(context, **s3_env)
    assert lines[0] == f"tenant {context.tenant_slug}: forged: checkpoint {checkpoint_key(context.tenant_id, 5)}: {FORGED}"
    # The older checkpoint (seq 3) still holds and the chain agrees with it.
    assert lines[1:] == []
