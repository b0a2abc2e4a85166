"""The French catalogue: complete, compiled, and holding every string the code marks
for translation; pages follow Accept-Language and the account's own setting."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.test import Client

import tribune

SOURCE = Path(tribune.__file__).resolve().parent
PO = SOURCE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def entries():
    return [e for e in polib.pofile(str(PO)) if not e.obsolete]


def test_every_french_entry_is_translated_and_keeps_its_placeholders():
    found = entries()
    assert len(found) > 150
    for entry in found:
        assert "fuzzy" not in entry.flags, entry.msgid
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert text.strip(), f"untranslated: {entry.msgid!r}"
            sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
            assert sorted(PLACEHOLDER.findall(text)) in [
                sorted(PLACEHOLDER.findall(s)) for s in sources], entry.msgid


def test_the_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in entries():
        if entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 5) == entry.msgstr_plural[1]
        elif entry.msgctxt:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


def test_the_catalogue_holds_every_string_marked_in_the_code(tmp_path):
    if shutil.which("xgettext") is None:
        if os.environ.get("TRIBUNE_REQUIRE_SERVICES") == "1":
            pytest.fail("xgettext (GNU gettext) is required to extract messages")
        pytest.skip("xgettext (GNU gettext) is not installed")
    copy = tmp_path / "tribune"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "var"))
    subprocess.run(
        ["django-admin", "makemessages", "-l", "fr", "--add-location", "file"],
        cwd=copy, check=True, capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tribune.settings"},
    )
    extracted = polib.pofile(str(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    wanted = {(e.msgctxt, e.msgid) for e in extracted if not e.obsolete}
    have = {(e.msgctxt, e.msgid) for e in entries()}
    assert wanted - have == set(), "run makemessages and translate the new strings"
    assert have - wanted == set(), "the catalogue holds strings the code no longer uses"


@pytest.mark.django_db
def test_pages_follow_accept_language():
    french = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    response = french.get("/auth/sign_in")
    assert response["Content-Language"] == "fr"
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Se connecter" in html and "Mot de passe" in html
    english = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en-GB")
    assert "Se connecter" not in english.get("/auth/sign_in").content.decode()


@pytest.mark.django_db(transaction=True)
def test_dates_and_numbers_are_localised(make_account):
    from tribune.statuses.services import status_create

    author = make_account("auteur")
    status_create(account=author, text="bonjour")
    html = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="fr").get("/@auteur").content.decode()
    assert "maintenant" in html or "il y a" in html  # naturaltime, in French
    assert re.search(r"Inscrit·e le \d{1,2} \w+ \d{4}", html)  # DATE_FORMAT "j F Y"
