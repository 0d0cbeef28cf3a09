"""Uploads: a file larger than the setting is refused while it arrives, not after."""

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading files past IMPORT_MAX_BYTES in all (a request carries one at most:
    DATA_UPLOAD_MAX_NUMBER_FILES) and marks the request, so the view can say the file is
    too large instead of writing gigabytes to a temporary file first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.IMPORT_MAX_BYTES:
            if self.request is not None:
                self.request.upload_too_large = True  # type: ignore[attr-defined]
            # Read the rest of the body and drop it, so that the page can still answer.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers build the file
