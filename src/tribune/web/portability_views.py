"""One's own data: the import and export page (archive requests and downloads,
the CSV files, uploads to import and their results) and the moving page (aliases,
"moved to"); and the public check of a move statement (portability.moving)."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from tribune.accounts.selectors import account_uri
from tribune.core.errors import DomainError, NotFound
from tribune.federation.moves import account_aliases_name, account_move
from tribune.portability.exports import CSV_EXPORTS, export_csv, export_request
from tribune.portability.imports import import_create
from tribune.portability.models import RowResult
from tribune.portability.moving import move_statement, move_statement_check
from tribune.portability.selectors import (
    export_get,
    export_latest,
    import_get,
    import_rows,
    imports_of,
)
from tribune.web.errors import reason
from tribune.web.portability_forms import AliasesForm, ImportForm, MovedToForm
from tribune.web.settings_views import _bound, _page, _saved, form_saved
from tribune.web.viewer import account_required

ROWS_PER_PAGE = 200


@account_required
def import_export(request: HttpRequest) -> HttpResponse:
    """``/settings/import_export``: ask for an archive (once a week) and download
    it, download the CSV files, upload a file to import, see past imports."""
    account = request.viewer
    form = ImportForm(_bound(request, "import"),
                      request.FILES if _bound(request, "import") is not None else None)
    if form.is_bound and form_saved(form, lambda: import_create(
            account=account, kind=form.cleaned_data["kind"], mode=form.cleaned_data["mode"],
            upload=form.cleaned_data["file"], filename=form.cleaned_data["file"].name)):
        return _saved(request, _("Your file was received; it is being imported."),
                      "web:settings_import_export")
    export_error = ""
    if _bound(request, "export") is not None:
        try:
            export_request(account=account)
        except DomainError as error:
            export_error = reason(error)
        else:
            return _saved(request, _("Your archive is being prepared; it will be ready "
                                     "to download here."), "web:settings_import_export")
    response = _page(request, "web/settings_import_export.html", "import_export",
                     _("Import and export"), form=form, export=export_latest(account=account),
                     export_error=export_error, imports=imports_of(account=account),
                     csv_names=list(CSV_EXPORTS))
    if export_error:
        response.status_code = 422
    return response


@account_required
@require_safe
def export_download(request: HttpRequest, export_id: str) -> HttpResponse:
    """One's own finished archive, as a download; 404 for anyone else's."""
    try:
        export = export_get(account=request.viewer, export_id=export_id)
    except NotFound:
        raise Http404 from None
    if not export.file:
        raise Http404
    name = export.file.name.rsplit("/", 1)[-1]
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=name,
                        content_type="application/zip")


@account_required
@require_safe
def csv_download(request: HttpRequest, name: str) -> HttpResponse:
    """One of the CSV files of one's own data (``following_accounts.csv``...)."""
    if name not in CSV_EXPORTS:
        raise Http404
    response = HttpResponse(export_csv(account=request.viewer, name=name),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@account_required
@require_safe
def import_detail(request: HttpRequest, import_id: str) -> HttpResponse:
    """``/settings/imports/<id>``: an import's counts and its rows, a page of
    ``ROWS_PER_PAGE`` at a time, optionally only one result."""
    try:
        batch = import_get(account=request.viewer, import_id=import_id)
    except NotFound:
        raise Http404 from None
    result = request.GET.get("result", "")
    result = result if result in RowResult.values else ""
    page = request.GET.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 0 < len(page) < 7 else 1
    page = max(page, 1)
    rows = import_rows(batch=batch, offset=(page - 1) * ROWS_PER_PAGE,
                       limit=ROWS_PER_PAGE + 1, result=result or None)
    return render(request, "web/settings_import.html", {
        "title": _("Import"), "nav": "settings", "tab": "import_export", "batch": batch,
        "rows": rows[:ROWS_PER_PAGE], "result": result, "page": page,
        "next_page": page + 1 if len(rows) > ROWS_PER_PAGE else None,
        "previous_page": page - 1 if page > 1 else None, "results": RowResult.choices})


@account_required
def moving(request: HttpRequest) -> HttpResponse:
    """``/settings/moving``: one's other accounts (aliases) and where this one moved."""
    account = request.viewer
    aliases_form = AliasesForm(_bound(request, "aliases"), prefix="aliases",
                               initial={"aliases": "\n".join(account.also_known_as)})
    moved_form = MovedToForm(_bound(request, "moved"), prefix="moved",
                             initial={"moved_to": account.moved_to_uri})
    if aliases_form.is_bound and form_saved(aliases_form, lambda: account_aliases_name(
            account=account, aliases=aliases_form.cleaned_data["aliases"])):
        return _saved(request, _("Your aliases have been saved."), "web:settings_moving")
    if moved_form.is_bound and form_saved(moved_form, lambda: account_move(
            account=account, target_uri=moved_form.cleaned_data["moved_to"])):
        return _saved(request, _("Where your account moved has been saved."),
                      "web:settings_moving")
    return _page(request, "web/settings_moving.html", "moving", _("Moving"),
                 aliases_form=aliases_form, moved_form=moved_form,
                 own_uri=account_uri(account), statement=move_statement(account))


@require_safe
def move_statement_verify(request: HttpRequest) -> JsonResponse:
    """``/move-statements/verify?statement=...``: whether this instance signed the
    move statement and the move still stands (``{"valid", "account",
    "moved_to"}``), for the instance the account moved to."""
    return JsonResponse(move_statement_check(statement=request.GET.get("statement", "")))
