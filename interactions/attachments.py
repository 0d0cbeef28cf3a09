"""An interaction's attachments: the files that came with an inbound email, kept under the
organisation's prefix (crm.files) and deleted with their interaction.

Files and rows cannot share a transaction, so their order does the work. A message's files
are written inside the transaction that files it, after its interaction's row and before
their own rows: a rollback can leave a file that no row names (`undone_on_error` deletes it
again; only a failed COMMIT would leave one behind), never a row that names no file.
Deleting goes the other way: the rows first, the files once that is committed.
"""

import io
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from crm import files
from crm.models import Organization
from interactions import mail_in
from interactions.mail_text import one_line
from interactions.models import Attachment, Interaction

# The types the download view sends as they were declared. Anything else goes as
# application/octet-stream: a browser must never take a sender's HTML, SVG or script for
# a page of this site, even one it was told to download.
SAFE_TYPES = frozenset({
    "application/pdf", "application/zip", "application/rtf", "application/msword",
    "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "image/tiff",
    "audio/mpeg", "audio/ogg", "audio/wav", "video/mp4", "video/quicktime",
    "text/plain", "text/csv", "text/calendar", "message/rfc822",
})  # fmt: skip
UNKNOWN_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Selection:
    """Which of a message's attachments are kept, and the names of those that are not."""

    kept: tuple[mail_in.Attachment, ...]
    skipped: tuple[str, ...]


def attachments_select(found: Sequence[mail_in.Attachment]) -> Selection:
    """Each attachment up to INBOUND_ATTACHMENT_MAX_BYTES, the first
    INBOUND_ATTACHMENT_MAX_COUNT of those; the rest are named, not kept."""
    kept: list[mail_in.Attachment] = []
    skipped: list[str] = []
    for attachment in found:
        too_big = len(attachment.content) > settings.INBOUND_ATTACHMENT_MAX_BYTES
        if too_big or len(kept) >= settings.INBOUND_ATTACHMENT_MAX_COUNT:
            skipped.append(display_name(attachment.filename))
        else:
            kept.append(attachment)
    return Selection(tuple(kept), tuple(skipped))


def attachments_store(
    *, org: Organization, interaction: Interaction, attachments: Sequence[mail_in.Attachment],
    written: list[str],
) -> list[Attachment]:  # fmt: skip
    """Keep these files of a newly filed interaction: each file, then all their rows in one
    INSERT. Each name written is added to `written` as soon as it is, for the caller to
    delete if its transaction fails."""
    rows = []
    for attachment in attachments:
        # Never the sender's file name: a random one, under the organisation's prefix.
        name = f"{org.pk}/attachments/{secrets.token_urlsafe(24)}"
        files.save(name, io.BytesIO(attachment.content))
        written.append(name)
        row = Attachment(
            org=org, interaction=interaction, filename=display_name(attachment.filename),
            content_type=_declared_type(attachment.content_type),
            size=len(attachment.content), stored_as=name,
        )  # fmt: skip
        rows.append(row)
    return Attachment.objects.bulk_create(rows) if rows else []


@contextmanager
def undone_on_error() -> Iterator[list[str]]:
    """A list for the names of the files written in the block, deleted again if the block
    raises: run the block's writes in a transaction (or savepoint) inside it, whose rollback
    has then taken the rows that named them."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        files.delete(written)
        raise


def interactions_purge(*, org: Organization, kind: Any, ids: list[int]) -> None:
    """Delete these interactions for good (the Trash's purge), their attachments' rows with
    them, and their files once that is committed."""
    names = list(
        Attachment.objects.filter(interaction_id__in=ids).values_list("stored_as", flat=True)
    )
    Interaction.objects.filter(pk__in=ids).delete()
    if names:
        # robust: a file left behind by a storage error must not fail the purge committed.
        transaction.on_commit(lambda: files.delete(names), robust=True)


def display_name(filename: str) -> str:
    """A file name as a page shows it: one line, at most what the row holds. mail_in has
    already made it a bare name, with no path or control characters."""
    return one_line(filename)[: Attachment._meta.get_field("filename").max_length] or "attachment"


def download_type(attachment: Attachment) -> str:
    """The type the download view declares: the stored one if it is safe, else a download."""
    return attachment.content_type if attachment.content_type in SAFE_TYPES else UNKNOWN_TYPE


def _declared_type(content_type: str) -> str:
    limit = Attachment._meta.get_field("content_type").max_length or 100
    return content_type if len(content_type) <= limit else UNKNOWN_TYPE
