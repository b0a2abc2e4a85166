"""``/settings/filters``: the viewer's filters (Mastodon's keyword and status
filters) to list, create, change and delete, and the "Muted words" box that makes
a hide filter of one word in every context. Each form saves through one service,
then redirects (303) with a message; errors answer 422 with the form."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tribune.core.errors import NotFound
from tribune.filters import selectors, services
from tribune.web.filter_forms import KEEP, FilterForm, MutedWordForm
from tribune.web.join import see_other
from tribune.web.settings_views import form_saved
from tribune.web.viewer import account_required


def _posted(request: HttpRequest, name: str) -> dict | None:
    return (
        request.POST
        if request.method == "POST" and request.POST.get("form") == name
        else None
    )


def _done(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return see_other(reverse("web:settings_filters"))


def _page(request: HttpRequest, template: str, title: str, **context) -> HttpResponse:
    failed = any(
        getattr(form, "is_bound", False) and form.errors
        for form in context.values()
        if hasattr(form, "errors")
    )
    return render(
        request,
        template,
        {"title": title, "nav": "settings", "tab": "filters", **context},
        status=422 if failed else 200,
    )


@account_required
def filters(request: HttpRequest) -> HttpResponse:
    """The viewer's filters, a muted word box and a new filter form."""
    viewer = request.viewer
    muted = MutedWordForm(_posted(request, "muted"), prefix="muted")
    form = FilterForm(_posted(request, "filter"), prefix="filter")
    if muted.is_bound and form_saved(
        muted,
        lambda: services.muted_word_create(
            account=viewer,
            word=muted.cleaned_data["word"],
            whole_word=muted.cleaned_data["whole_word"],
        ),
    ):
        return _done(request, _("The word is muted."))
    if form.is_bound and form_saved(
        form,
        lambda: services.filter_create(
            account=viewer,
            title=form.cleaned_data["title"],
            context=form.cleaned_data["context"],
            filter_action=form.cleaned_data["filter_action"],
            expires_in=form.cleaned_data["expires_in"] or None,
            keywords_attributes=form.keywords_attributes(),
        ),
    ):
        return _done(request, _("The filter has been created."))
    return _page(
        request,
        "web/settings_filters.html",
        _("Filters"),
        muted=muted,
        form=form,
        filters=selectors.filters_of(account=viewer),
    )


@account_required
def filter_edit(request: HttpRequest, filter_id: str) -> HttpResponse:
    """One filter to change: title, contexts, action, end; keywords removed or added."""
    viewer = request.viewer
    try:
        found = selectors.filter_get(account=viewer, filter_id=filter_id)
    except NotFound:
        raise Http404 from None
    keywords = list(found.keywords.all())
    initial = {
        "title": found.title,
        "context": found.context,
        "filter_action": found.filter_action,
        "whole_word": all(k.whole_word for k in keywords) if keywords else True,
    }
    form = FilterForm(
        _posted(request, "filter"), prefix="filter", existing=keywords, initial=initial
    )
    if form.is_bound and form_saved(
        form,
        lambda: services.filter_update(
            account=viewer,
            filter_id=found.pk,
            title=form.cleaned_data["title"],
            context=form.cleaned_data["context"],
            filter_action=form.cleaned_data["filter_action"],
            expires_in=(
                services.UNSET
                if form.cleaned_data["expires_in"] == KEEP
                else form.cleaned_data["expires_in"] or None
            ),
            keywords_attributes=form.keywords_attributes(),
        ),
    ):
        return _done(request, _("The filter has been saved."))
    return _page(
        request,
        "web/settings_filter_edit.html",
        _("Edit filter: %(title)s") % {"title": found.title},
        form=form,
        filter=found,
    )


@require_POST
@account_required
def filter_delete(request: HttpRequest, filter_id: str) -> HttpResponse:
    """Delete one of the viewer's filters."""
    try:
        services.filter_delete(account=request.viewer, filter_id=filter_id)
    except NotFound:
        raise Http404 from None
    return _done(request, _("The filter has been deleted."))
