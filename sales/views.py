"""A deal's pages: add, read, edit, move, win, lose, reopen and delete."""

from django.http import Http404, HttpResponse

from crm.requests import OrgRequest


def _todo(request: OrgRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


deal_new = deal_detail = deal_edit = deal_move = deal_won = deal_lost = _todo
deal_reopen = deal_delete = _todo
