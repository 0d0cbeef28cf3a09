"""Where the files of imports and exports live: Django's default storage, which web and
workers share. A folder (MEDIA_ROOT, a named volume in the compose stack) by default, or
S3-compatible object storage through django-storages (FILE_STORAGE=s3).

Names are relative: <organisation id>/imports/<token>.csv. Reading code that needs a
path on this machine (openpyxl, the CSV reader) takes one from `local_copy`.
"""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

from django.core.files import File
from django.core.files.storage import Storage, storages


def storage() -> Storage:
    return storages["default"]


def save(name: str, content: IO[bytes]) -> None:
    """Store `content` under `name`, replacing nothing: names carry a random token."""
    stored = storage().save(name, File(content))
    if stored != name:  # a storage that renamed it would leave the job pointing nowhere
        storage().delete(stored)
        raise FileExistsError(name)


def delete(names: list[str]) -> None:
    """Delete these files; one already gone is no error."""
    store = storage()
    for name in names:
        if name:
            store.delete(name)


def exists(name: str) -> bool:
    return bool(name) and storage().exists(name)


def open_file(name: str) -> IO[bytes]:
    """The stored file, to read (and stream in a response); FileNotFoundError if it is gone."""
    if not exists(name):
        raise FileNotFoundError(name)
    return storage().open(name, "rb")


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """The stored file as a path on this machine: the file itself in a folder storage, else
    a download into a temporary folder, deleted after the block. FileNotFoundError if the
    file is gone."""
    if not exists(name):
        raise FileNotFoundError(name)
    store = storage()
    try:
        local: Path | None = Path(store.path(name))
    except NotImplementedError:  # not a folder: object storage has no local path
        local = None
    if local is not None:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="crm-") as folder:
        copy = Path(folder) / Path(name).name
        with store.open(name, "rb") as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        yield copy


def older_than(folder: str, moment: datetime) -> list[str]:
    """The names of the files directly in `folder` last written before `moment`."""
    store = storage()
    try:
        _, names = store.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in names]
    return [name for name in found if store.get_modified_time(name) < moment]
