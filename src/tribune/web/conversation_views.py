"""Direct messages: the viewer's conversations (``tribune.conversations``), each
opened on its thread, which marks it read."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tribune.conversations import selectors, services
from tribune.core.errors import NotFound
from tribune.web.pages import _feed
from tribune.web.viewer import account_required, redirect_back


@account_required
def conversations(request: HttpRequest) -> HttpResponse:
    """The viewer's conversations, the most recent first, with who is in each, its
    last message and whether it is unread."""
    return _feed(request, template="web/conversations.html", cards=False, poll=False,
                 fetch=lambda c: selectors.conversations_page(account=request.viewer, cursor=c),
                 context={"title": _("Direct messages"), "nav": "conversations",
                          "item_template": "web/_conversation.html",
                          "empty": _("No direct messages yet. A post whose visibility is "
                                     "“Mentioned people only” starts one.")})


@account_required
def conversation(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Open a conversation: mark it read and show its thread at its last message."""
    try:
        services.conversation_read(account=request.viewer, conversation_id=conversation_id)
        row = selectors.conversation_get(account=request.viewer,
                                         conversation_id=conversation_id)
    except NotFound:
        raise Http404 from None
    last = row.last_status
    url = reverse("web:thread", args=[last.account.acct, last.pk])
    response = HttpResponseRedirect(f"{url}#status-{last.pk}")
    response.status_code = 303
    return response


@require_POST
@account_required
def conversation_remove(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Remove a conversation from the viewer's list (the messages stay)."""
    try:
        services.conversation_delete(account=request.viewer, conversation_id=conversation_id)
    except NotFound:
        raise Http404 from None
    return redirect_back(request, reverse("web:conversations"))
