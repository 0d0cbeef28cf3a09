"""Imports and exports with their files in S3-compatible object storage (FILE_STORAGE=s3):
the S3 API is moto's server, spoken to over HTTP as a bucket would be. Nothing is written
to the machine's MEDIA_ROOT, and what the import is done with leaves the bucket."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from contacts.models import Contact
from crm.models import Organization, User
from crm.records import exports
from crm.records.models import ExportJob, ImportJob
from crm.tenancy import activate
from tests.conftest import unused_port
from tests.contacts.imports import csv_bytes
from tests.factories import ContactFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db]

BUCKET = "crm-files"
KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


@pytest.fixture
def bucket(spawn: Callable[..., Any], settings: Any, tmp_path: Path) -> Any:
    port = unused_port()
    server = spawn("-m", "moto.server", "-H", "127.0.0.1", "-p", str(port), env={})
    server.wait_for_output("Running on")
    url = f"http://127.0.0.1:{port}"
    s3 = boto3.resource("s3", endpoint_url=url, **KEYS)
    s3.create_bucket(Bucket=BUCKET)
    settings.MEDIA_ROOT = tmp_path / "media"  # must stay empty
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": url, "access_key": "test",
                    "secret_key": "test", "region_name": "us-east-1", "default_acl": None},
    }}  # fmt: skip
    return s3.Bucket(BUCKET)


def _keys(bucket: Any) -> list[str]:
    return sorted(item.key for item in bucket.objects.all())


def test_an_import_reads_its_file_from_the_bucket_and_removes_it_when_done(
    client: Client, rita: User, acme: Organization, bucket: Any, settings: Any
) -> None:
    client.force_login(rita)
    data = csv_bytes([["Name", "Email"], ["Ada Lovelace", "ada@example.com"]])
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/o/acme/contacts/import/", {"file": SimpleUploadedFile("p.csv", data)})
    with activate(acme):
        job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.UPLOADED
    assert _keys(bucket) == [job.file]
    assert bucket.Object(job.file).get()["Body"].read() == data
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(f"/o/acme/imports/{job.pk}/map/", {
            "column_0": "full_name", "column_1": "email", "mode": "upsert", "match_by": "email",
        })  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(f"/o/acme/imports/{job.pk}/commit/")
    with activate(acme):
        assert ImportJob.objects.get().status == ImportJob.Status.DONE
        assert Contact.objects.get().email == "ada@example.com"
    assert _keys(bucket) == []
    assert not Path(settings.MEDIA_ROOT).exists()


def test_an_export_is_stored_in_the_bucket_and_downloaded_through_the_app(
    client: Client, alice: User, acme: Organization, bucket: Any, settings: Any
) -> None:
    client.force_login(alice)
    with activate(acme):
        ContactFactory(org=acme, by=alice, email="grace@example.com")
    # A list longer than a direct download is exported so, by a worker (here, in-process).
    with activate(acme), TestCase.captureOnCommitCallbacks(execute=True):
        exports.export_job_create(org=acme, by=alice, record_kind="contact", fmt="csv", query="")
    with activate(acme):
        job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE
    assert _keys(bucket) == [job.file]
    download = client.get(f"/o/acme/exports/{job.pk}/download/")
    assert download.status_code == 200
    assert "grace@example.com" in download.getvalue().decode("utf-8-sig")
    assert not Path(settings.MEDIA_ROOT).exists()
