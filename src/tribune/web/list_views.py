"""``/lists``: the viewer's lists (Mastodon's List) to create, read, change and
delete, with their members. Every write goes through ``tribune.lists.services``;
a list that is not the viewer's answers 404, as the API does. Forms redirect
(303) when saved and answer 422 with the page and its errors otherwise; the
member "Remove" buttons also work in place with htmx.

A list's timeline is read at request time (``lists.selectors.list_timeline_ids``)
and shown with the viewer's "home" filters, as Mastodon applies home filters to
lists (``FeedManager#filter_from_list?`` after ``filter_from_home?``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tribune.accounts.models import Account
from tribune.core.errors import DomainError, NotFound
from tribune.core.pagination import Cursor, Page
from tribune.graph import selectors as graph
from tribune.lists import selectors, services
from tribune.lists.models import TITLE_MAX_LENGTH, List, RepliesPolicy
from tribune.statuses.policy import removed_for
from tribune.statuses.selectors import statuses_by_ids
from tribune.timelines.selectors import collapse_reblogs
from tribune.web.errors import reason
from tribune.web.join import see_other
from tribune.web.pages import _feed
from tribune.web.viewer import account_required, redirect_back

CANDIDATES = 40  # followed accounts offered at once in "Add an account"

# Mastodon's web interface words for the replies policy ("Show replies to").
REPLIES_CHOICES = [
    (RepliesPolicy.FOLLOWED, gettext_lazy("Any followed account")),
    (RepliesPolicy.LIST, gettext_lazy("Members of the list")),
    (RepliesPolicy.NONE, gettext_lazy("No one")),
]


class ListForm(forms.Form):
    """A list's title, replies policy and exclusivity (Mastodon's list settings)."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=TITLE_MAX_LENGTH)
    replies_policy = forms.ChoiceField(
        label=gettext_lazy("Show replies to"),
        choices=REPLIES_CHOICES,
        initial=RepliesPolicy.LIST,
        widget=forms.RadioSelect,
    )
    exclusive = forms.BooleanField(
        label=gettext_lazy("Hide these posts from your home timeline"),
        required=False,
        help_text=gettext_lazy(
            "Posts of the list's members are shown in this list only."
        ),
    )


def _list_or_404(viewer: Account, list_id: str) -> List:
    try:
        return selectors.list_get(account=viewer, list_id=list_id)
    except NotFound:
        raise Http404 from None


def _save(form: forms.Form, call) -> object | None:
    """Run ``call()`` (a service) when ``form`` is valid and return its result;
    None with the service's error on the form otherwise."""
    if not form.is_valid():
        return None
    try:
        return call()
    except DomainError as error:
        form.add_error(None, reason(error))
        return None


def list_timeline_page(viewer: Account, found: List, cursor: Cursor) -> Page:
    """A page of ``found``'s timeline as Status rows, newest first: statuses
    removed by moderation left out for the viewer and repeated boosts collapsed,
    as the API's ``GET /api/v1/timelines/list/:id`` answers."""
    page = selectors.list_timeline_ids(list_=found, cursor=cursor)
    rows = [s for s in statuses_by_ids(page.items) if not removed_for(viewer, s)]
    page.items = collapse_reblogs(rows, lambda s: (s.pk, s.reblog_of_id))
    return page


@account_required
def lists(request: HttpRequest) -> HttpResponse:
    """The viewer's lists and a form to make a new one (then its page opens)."""
    viewer = request.viewer
    form = ListForm(request.POST if request.method == "POST" else None, prefix="list")
    if form.is_bound:
        created = _save(
            form,
            lambda: services.list_create(
                account=viewer,
                title=form.cleaned_data["title"],
                replies_policy=form.cleaned_data["replies_policy"],
                exclusive=form.cleaned_data["exclusive"],
            ),
        )
        if created is not None:
            messages.success(request, _("The list has been created."))
            return see_other(reverse("web:list", args=[created.pk]))
    return render(
        request,
        "web/lists.html",
        {
            "title": _("Lists"),
            "nav": "lists",
            "form": form,
            "lists": selectors.lists_of(account=viewer),
        },
        status=422 if form.is_bound else 200,
    )


def _candidates(viewer: Account, query: str, members: list[Account]) -> list[Account]:
    """Followed accounts that may be added: matching ``query`` (account search
    among followed accounts) or the most recently followed, without members."""
    if query:
        found = graph.account_search(
            query=query, viewer=viewer, following=True, limit=CANDIDATES
        )
    else:
        found = graph.following_page(
            account=viewer, viewer=viewer, cursor=Cursor(limit=CANDIDATES)
        ).items
    inside = {member.pk for member in members}
    return [account for account in found if account.pk not in inside]


def _detail(
    request: HttpRequest,
    found: List,
    *,
    form: ListForm | None = None,
    add_error: str | None = None,
) -> HttpResponse:
    viewer = request.viewer
    failed = add_error is not None or (form is not None and bool(form.errors))
    if form is None:
        form = ListForm(
            prefix="list",
            initial={
                "title": found.title,
                "replies_policy": found.replies_policy,
                "exclusive": found.exclusive,
            },
        )
    context = {
        "title": found.title,
        "nav": "lists",
        "list": found,
        "empty": _("No posts here yet. Add accounts you follow to this list."),
    }
    fragment = request.htmx and request.GET.get("part") in ("more", "new")
    if not fragment:  # "load more" and polling answer the feed's fragment only
        members = selectors.list_members_page(list_=found, cursor=None).items
        query = request.GET.get("q", "").strip()[:100]
        context.update(
            {
                "form": form,
                "members": members,
                "query": query,
                "add_error": add_error,
                "candidates": _candidates(viewer, query, members),
            }
        )
    response = _feed(
        request,
        template="web/list.html",
        filter_context="home",
        fetch=lambda c: list_timeline_page(viewer, found, c),
        context=context,
    )
    if failed:
        response.status_code = 422
    return response


@account_required
def list_detail(request: HttpRequest, list_id: str) -> HttpResponse:
    """A list's timeline with its settings and members; a post saves the settings."""
    viewer = request.viewer
    found = _list_or_404(viewer, list_id)
    if request.method != "POST":
        return _detail(request, found)
    form = ListForm(request.POST, prefix="list")
    saved = _save(
        form,
        lambda: services.list_update(
            account=viewer,
            list_id=found.pk,
            title=form.cleaned_data["title"],
            replies_policy=form.cleaned_data["replies_policy"],
            exclusive=form.cleaned_data["exclusive"],
        ),
    )
    if saved is None:
        return _detail(request, found, form=form)
    messages.success(request, _("The list has been saved."))
    return see_other(reverse("web:list", args=[found.pk]))


@account_required
def list_delete(request: HttpRequest, list_id: str) -> HttpResponse:
    """Ask to confirm, then delete the list (its members stay followed)."""
    viewer = request.viewer
    found = _list_or_404(viewer, list_id)
    if request.method != "POST":
        return render(
            request,
            "web/list_delete.html",
            {
                "title": _("Delete list %(title)s") % {"title": found.title},
                "nav": "lists",
                "list": found,
            },
        )
    try:
        services.list_delete(account=viewer, list_id=found.pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The list has been deleted."))
    return see_other(reverse("web:lists"))


def _member(account_id: str) -> Account:
    try:
        return selectors.accounts_named([account_id])[0]
    except NotFound:
        raise Http404 from None


@require_POST
@account_required
def list_account_add(request: HttpRequest, list_id: str) -> HttpResponse:
    """Add one followed account (``account_id``) to the list."""
    viewer = request.viewer
    found = _list_or_404(viewer, list_id)
    member = _member(request.POST.get("account_id", ""))
    try:
        services.list_accounts_add(account=viewer, list_id=found.pk, members=[member])
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        return _detail(request, found, add_error=reason(error))
    messages.success(
        request,
        _("%(name)s has been added to the list.")
        % {"name": member.display_name or member.username},
    )
    return see_other(reverse("web:list", args=[found.pk]))


@require_POST
@account_required
def list_account_remove(
    request: HttpRequest, list_id: str, account_id: str
) -> HttpResponse:
    """Take one account out of the list; with htmx the answer is empty (the row
    goes away in place)."""
    viewer = request.viewer
    found = _list_or_404(viewer, list_id)
    member = _member(account_id)
    try:
        services.list_accounts_remove(
            account=viewer, list_id=found.pk, members=[member]
        )
    except NotFound:
        raise Http404 from None
    if request.htmx:
        return HttpResponse("")
    messages.success(
        request,
        _("%(name)s has been removed from the list.")
        % {"name": member.display_name or member.username},
    )
    return see_other(reverse("web:list", args=[found.pk]))


@require_POST
@account_required
def account_lists_set(request: HttpRequest, account_id: str) -> HttpResponse:
    """From a profile: put the account in exactly the viewer's lists ticked
    (``lists``), adding and removing through the services, then go back."""
    viewer = request.viewer
    member = _member(account_id)
    wanted = set(request.POST.getlist("lists"))
    current = {
        str(found.pk)
        for found in selectors.lists_with_member(account=viewer, member=member)
    }
    try:
        with transaction.atomic():  # all the ticks or none
            for found in selectors.lists_of(account=viewer):
                key = str(found.pk)
                if key in wanted and key not in current:
                    services.list_accounts_add(
                        account=viewer, list_id=found.pk, members=[member]
                    )
                elif key in current and key not in wanted:
                    services.list_accounts_remove(
                        account=viewer, list_id=found.pk, members=[member]
                    )
    except DomainError as error:
        return render(
            request,
            "web/error.html",
            {"title": _("That did not work"), "message": reason(error)},
            status=422,
        )
    messages.success(request, _("The lists have been saved."))
    return redirect_back(request, reverse("web:profile", args=[member.acct]))
