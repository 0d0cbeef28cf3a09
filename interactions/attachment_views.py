"""An interaction's attachment, downloaded: only by a member who may see the interaction."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from crm import files
from crm.permissions import org_member
from crm.requests import OrgRequest
from interactions import attachments, selectors
from interactions.models import Attachment


@require_GET
@org_member("interaction.view")
def attachment_download(
    request: OrgRequest, interaction_id: int, attachment_id: int
) -> FileResponse:
    # Through the member's visible interactions: another organisation's, a colleague's the
    # member may not see and one in the Trash all answer the same 404 as a missing one.
    visible = selectors.interaction_list(request.membership).select_related(None)
    interaction = get_object_or_404(visible.only("pk"), pk=interaction_id)
    attachment = get_object_or_404(Attachment.objects, interaction=interaction, pk=attachment_id)
    try:
        content = files.open_file(attachment.stored_as)
    except FileNotFoundError:
        raise Http404("This attachment's file is gone.") from None
    # Always a download, never shown in the page: a sender's file is not this site's.
    response = FileResponse(
        content, as_attachment=True, filename=attachment.filename,
        content_type=attachments.download_type(attachment),
    )  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    patch_cache_control(response, private=True, no_store=True)
    return response
