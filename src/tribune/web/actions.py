"""Form posts of the interface: compose, edit, delete, the buttons under a post and
on a profile. Every one calls a domain service; none writes a model.

Each action works as a plain form post (303 back to where it came from, so it works
without JavaScript) and, when htmx sent it, answers the fragment that replaces the
button bar in place."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tribune.accounts.selectors import account_get
from tribune.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from tribune.graph import services as graph
from tribune.graph.selectors import follow_requests_count
from tribune.media import services as media
from tribune.scheduling import services as scheduling
from tribune.statuses import polls, selectors
from tribune.statuses import services as statuses
from tribune.statuses.policy import quote_refusal
from tribune.timelines.services import feed_add_status
from tribune.web.cards import cards_for
from tribune.web.errors import reason
from tribune.web.forms import ComposeForm, EditForm
from tribune.web.throttle import limited_message
from tribune.web.viewer import account_required, redirect_back

STATUS_ACTIONS: dict[str, Callable] = {
    "favourite": statuses.favourite_create,
    "unfavourite": statuses.favourite_delete,
    "reblog": statuses.reblog_create,
    "unreblog": statuses.reblog_delete,
    "bookmark": statuses.bookmark_create,
    "unbookmark": statuses.bookmark_delete,
    "pin": statuses.pin_create,
    "unpin": statuses.pin_delete,
}

ACCOUNT_ACTIONS: dict[str, Callable] = {
    "follow": graph.follow_create,
    "unfollow": graph.follow_delete,
    "block": graph.block_create,
    "unblock": graph.block_delete,
    "mute": graph.mute_create,
    "unmute": graph.mute_delete,
}


def _status_or_404(request: HttpRequest, status_id: str):
    try:
        status = selectors.status_get_visible(status_id=status_id, viewer=request.viewer)
    except NotFound:
        raise Http404 from None
    return status.reblog_of if status.reblog_of_id else status


def _error_page(request: HttpRequest, error: DomainError) -> HttpResponse:
    if isinstance(error, RateLimited):
        return render(request, "web/error.html", {"title": _("That did not work"),
                                                  "message": limited_message(error)},
                      status=429)
    status = 403 if isinstance(error, Forbidden) else 422
    return render(request, "web/error.html", {"title": _("That did not work"),
                                              "message": reason(error)}, status=status)


@require_POST
@account_required
def status_action(request: HttpRequest, status_id: str, action: str) -> HttpResponse:
    """Favourite, reblog, bookmark a post or undo it (``action`` from STATUS_ACTIONS)."""
    service = STATUS_ACTIONS.get(action)
    if service is None:
        raise Http404
    try:
        status = _status_or_404(request, status_id)
    except Http404:
        if not request.htmx:
            raise
        # Deleted (or hidden) since the page was loaded: say so where the buttons were.
        return HttpResponse(format_html(
            '<footer class="actions"><p class="action-error" role="alert">{}</p></footer>',
            _("This post is no longer available.")))
    try:
        service(account=request.viewer, status=status)
    except (Forbidden, ValidationFailed, Conflict, RateLimited) as exc:
        if request.htmx:  # the button bar stays, with the reason beside it
            card = cards_for([status], request.viewer)[0]
            message = limited_message(exc) if isinstance(exc, RateLimited) else reason(exc)
            return render(request, "web/_actions.html", {"card": card, "error": message})
        return _error_page(request, exc)
    if request.htmx:
        status.refresh_from_db(fields=["favourites_count", "reblogs_count", "replies_count"])
        card = cards_for([status], request.viewer)[0]
        return render(request, "web/_actions.html", {"card": card})
    return redirect_back(request)


@require_POST
@account_required
def compose(request: HttpRequest) -> HttpResponse:
    """Post a status from any compose box, or keep it for later when a time is
    given (then on to the scheduled posts); errors come back on a compose page (429
    when the account's posting budget is spent, 422 otherwise)."""
    viewer = request.viewer
    code = 422
    in_reply_to = quoted = None
    if reply_id := request.POST.get("in_reply_to_id"):
        in_reply_to = _status_or_404(request, reply_id)
    if quoted_id := request.POST.get("quoted_status_id"):
        quoted = _status_or_404(request, quoted_id)
    form = ComposeForm(viewer, request.POST, request.FILES, in_reply_to=in_reply_to,
                       quoted=quoted)
    if form.is_valid():
        uploaded: list[int] = []
        try:
            # The same path as an app: each picture through media_create, then the post.
            for field, upload, description in form.uploads():
                try:
                    uploaded.append(media.media_create(account=viewer, upload=upload,
                                                       description=description,
                                                       process_now=True).pk)
                except ValidationFailed as exc:
                    form.add_error(field, reason(exc))
                    raise
            poll = None
            if options := form.poll_options():
                poll = polls.poll_spec(options=options,
                                       expires_in=form.cleaned_data["poll_duration"],
                                       multiple=form.cleaned_data["poll_multiple"],
                                       hide_totals=form.cleaned_data["poll_hide_totals"])
            reply_policy = form.cleaned_data["reply_policy"] or None
            local_only = form.cleaned_data["local_only"]
            quote_policy = form.cleaned_data["quote_approval_policy"] or None
            if form.cleaned_data["scheduled_at"]:
                scheduling.scheduled_status_create(
                    account=viewer, text=form.cleaned_data["text"],
                    spoiler_text=form.cleaned_data["spoiler_text"],
                    visibility=form.cleaned_data["visibility"],
                    in_reply_to_id=form.cleaned_data["in_reply_to_id"] or None,
                    media_ids=uploaded or None, poll=poll, reply_policy=reply_policy,
                    local_only=local_only, quoted_status_id=quoted.pk if quoted else None,
                    quote_approval_policy=quote_policy,
                    scheduled_at=form.cleaned_data["scheduled_at"])
                return _see_other(reverse("web:scheduled_statuses"))
            status = statuses.status_create(
                account=viewer, text=form.cleaned_data["text"],
                spoiler_text=form.cleaned_data["spoiler_text"],
                visibility=form.cleaned_data["visibility"],
                in_reply_to_id=form.cleaned_data["in_reply_to_id"] or None,
                media_ids=uploaded or None, poll=poll, reply_policy=reply_policy,
                local_only=local_only, quoted_status_id=quoted.pk if quoted else None,
                quote_approval_policy=quote_policy,
            )
        except NotFound:
            form.add_error(None, _("The post you are replying to or quoting is gone."))
        except ValidationFailed as exc:
            if not form.errors:
                form.add_error(None, reason(exc))
        except (Forbidden, Unavailable) as exc:  # restricted account; storage down
            form.add_error(None, reason(exc))
        except RateLimited as exc:  # the same budget as the API's (statuses.services)
            form.add_error(None, limited_message(exc))
            code = 429
        else:
            # Read your own writes: the post is on the author's home feed before the
            # redirect lands; followers get it from the fan-out task (idempotent).
            feed_add_status(status_id=status.pk, reblog_of_id=None, account_ids=[viewer.pk])
            if in_reply_to is not None:
                return _see_other(f"/@{in_reply_to.account.username}/{in_reply_to.pk}"
                                  f"#status-{status.pk}")
            if quoted is not None:  # from the quote page: on to the new post
                return _see_other(f"/@{viewer.username}/{status.pk}")
            return redirect_back(request)
        for media_id in uploaded:  # nothing was posted: the pictures go too
            media.media_delete(account=viewer, media_id=media_id)
    return render(request, "web/compose.html", _compose_context(form, viewer), status=code)


def _compose_context(form: ComposeForm, viewer) -> dict:
    """The compose page's context: the form, and the quoted post's card if any."""
    quoted_card = cards_for([form.quoted], viewer)[0] if form.quoted is not None else None
    return {"title": _("Quote a post") if form.quoted is not None else _("New post"),
            "compose": form, "quoted_card": quoted_card}


@account_required
def quote_compose(request: HttpRequest, status_id: str) -> HttpResponse:
    """The compose page for quoting a post, shown above the form (its id in a
    hidden field); 403 with the reason when its quote policy leaves the viewer out."""
    quoted = _status_or_404(request, status_id)
    if refusal := quote_refusal(request.viewer, quoted):
        return _error_page(request, Forbidden(refusal))
    return render(request, "web/compose.html",
                  _compose_context(ComposeForm(request.viewer, quoted=quoted), request.viewer))


@require_POST
@account_required
def quote_detach(request: HttpRequest, status_id: str) -> HttpResponse:
    """Remove the viewer's post from the post ``status_id`` that quotes it
    (``statuses.services.quote_revoke``); the quoting post then shows a
    placeholder."""
    quoting = _status_or_404(request, status_id)
    quote = selectors.status_quote(quoting)
    if quote is None or quote.quoted_status_id is None:
        raise Http404
    try:
        quoted = selectors.status_get_own(status_id=quote.quoted_status_id,
                                          account=request.viewer)
        statuses.quote_revoke(account=request.viewer, status=quoted,
                              quoting_status_id=quoting.pk)
    except NotFound:
        raise Http404 from None
    return redirect_back(request)


@require_POST
@account_required
def poll_vote(request: HttpRequest, status_id: str) -> HttpResponse:
    """Vote in a post's poll with the chosen options (``choice``, one or more option
    indexes); htmx gets the poll with its results in place, a plain form post goes
    back to where it came from. A refused vote says why (422)."""
    status = _status_or_404(request, status_id)
    poll = selectors.status_poll(status)
    if poll is None:
        raise Http404
    try:
        polls.poll_vote(account=request.viewer, poll=poll, choices=request.POST.getlist("choice"))
    except (Forbidden, ValidationFailed) as exc:
        if request.htmx:
            card = cards_for([status], request.viewer)[0]
            return render(request, "web/_status_poll.html", {"card": card, "error": reason(exc)},
                          status=422)
        return _error_page(request, exc)
    if request.htmx:
        fresh = selectors.status_get_visible(status_id=status.pk, viewer=request.viewer)
        return render(request, "web/_status_poll.html",
                      {"card": cards_for([fresh], request.viewer)[0]})
    return redirect_back(request)


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@account_required
def edit(request: HttpRequest, username: str, status_id: str) -> HttpResponse:
    """Edit one's own post; the previous version stays in its history."""
    try:
        status = selectors.status_get_own(status_id=status_id, account=request.viewer)
    except NotFound:
        raise Http404 from None
    if status.reblog_of_id:
        raise Http404
    url = f"/@{status.account.username}/{status.pk}"
    if request.method == "POST":
        form = EditForm(request.POST)
        if form.is_valid():
            try:
                statuses.status_update(account=request.viewer, status=status,
                                       text=form.cleaned_data["text"],
                                       spoiler_text=form.cleaned_data["spoiler_text"])
            except (ValidationFailed, Forbidden) as exc:
                form.add_error(None, reason(exc))
            else:
                return _see_other(url)
        code = 422
    else:
        form = EditForm(initial={"text": status.text, "spoiler_text": status.spoiler_text})
        code = 200
    return render(request, "web/edit.html", {"title": _("Edit post"), "form": form,
                                             "status": status, "cancel_url": url},
                  status=code)


@require_POST
@account_required
def delete(request: HttpRequest, status_id: str) -> HttpResponse:
    """Delete one's own post. htmx gets an empty answer (the post disappears)."""
    try:
        status = selectors.status_get_own(status_id=status_id, account=request.viewer)
    except NotFound:
        raise Http404 from None
    statuses.status_delete(account=request.viewer, status=status)
    if request.htmx:
        current = urlsplit(request.headers.get("HX-Current-URL", "")).path
        if current.rstrip("/").endswith(f"/{status.pk}"):  # its own page is gone too
            response = HttpResponse(status=204)
            response["HX-Redirect"] = f"/@{request.viewer.username}"
            return response
        return HttpResponse("")
    profile = f"/@{request.viewer.username}"
    back = redirect_back(request, profile)
    # Never send someone back to the page of the post they just deleted.
    if f"/{status.pk}" in back["Location"]:
        return _see_other(profile)
    return back


@require_POST
@account_required
def account_action(request: HttpRequest, account_id: str, action: str) -> HttpResponse:
    """Follow (or ask to), unfollow, block, unblock, mute, unmute an account."""
    service = ACCOUNT_ACTIONS.get(action)
    if service is None:
        raise Http404
    try:
        target = account_get(account_id=account_id)
    except NotFound:
        raise Http404 from None
    try:
        service(account=request.viewer, target=target)
    except DomainError as exc:
        return _error_page(request, exc)
    return redirect_back(request, f"/@{target.acct}")


@require_POST
@account_required
def follow_request_answer(request: HttpRequest, account_id: str, answer: str) -> HttpResponse:
    """Accept or reject one follow request."""
    if answer not in ("authorize", "reject"):
        raise Http404
    try:
        requester = account_get(account_id=account_id)
        if answer == "authorize":
            graph.follow_request_authorize(account=request.viewer, requester=requester)
        else:
            graph.follow_request_reject(account=request.viewer, requester=requester)
    except NotFound:
        raise Http404 from None
    if request.htmx:
        if follow_requests_count(account=request.viewer) == 0:
            return HttpResponse(format_html('<p class="empty">{}</p>',
                                            _("No pending follow requests.")))
        return HttpResponse("")
    return redirect_back(request, "/follow_requests")
