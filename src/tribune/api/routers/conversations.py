"""Conversations: the caller's threads of direct posts (Mastodon's
Api::V1::ConversationsController, docs: methods/conversations.md)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Router

from tribune.api.auth import read, write
from tribune.api.base import cursor, link_header, responses
from tribune.api.presenters import conversations_out
from tribune.api.schemas import Conversation
from tribune.conversations import selectors, services

router = Router(tags=["conversations"])


@router.get("/v1/conversations", response=responses(list[Conversation]),
            auth=read("statuses"))
def conversation_list(request, response: HttpResponse, max_id: str | None = None,
                      since_id: str | None = None, min_id: str | None = None,
                      limit: int | None = None):
    """The caller's conversations, the most recent first (20 by default, 40 at
    most), paged by the id of their last status."""
    viewer = request.auth.require_account()
    page = selectors.conversations_page(account=viewer,
                                        cursor=cursor(max_id, since_id, min_id, limit))
    link_header(request, response, page)
    return conversations_out(page.items, viewer)


@router.delete("/v1/conversations/{conversation_id}", response=responses(dict[str, Any]),
               auth=write("conversations"))
def conversation_delete(request, conversation_id: str):
    """Remove a conversation for the caller only (the statuses stay)."""
    services.conversation_delete(account=request.auth.require_account(),
                                 conversation_id=conversation_id)
    return {}


@router.post("/v1/conversations/{conversation_id}/read", response=responses(Conversation),
             auth=write("conversations"))
def conversation_read(request, conversation_id: str):
    """Mark a conversation read; the answer is the conversation."""
    viewer = request.auth.require_account()
    services.conversation_read(account=viewer, conversation_id=conversation_id)
    row = selectors.conversation_get(account=viewer, conversation_id=conversation_id)
    return conversations_out([row], viewer)[0]
