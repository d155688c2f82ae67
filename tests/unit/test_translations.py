"""The message catalogs (webapp/translations) cover every string in the code and templates.

Source strings are French; each other language in LANGUAGES (today: English) has
a catalog in webapp/translations/<lang>/LC_MESSAGES/. After adding or changing
a `_()`, `_l()`, `ngettext()` string, run from the repository root:

1. Extract the strings into the template:
       pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \\
           --no-location --sort-output --project=Quartier -o webapp/translations/messages.pot .
2. Update the catalogs from the template:
       pybabel update -i webapp/translations/messages.pot -d webapp/translations --ignore-obsolete
3. Translate: fill every empty `msgstr` in webapp/translations/en/LC_MESSAGES/messages.po,
   review and remove the `#, fuzzy` flags (fuzzy entries are guesses and are not used).
   Keep the placeholders (`%(name)s`, `%(num)d`) exactly as in the msgid.
4. Compile (commit both the .po and the .mo):
       pybabel compile -d webapp/translations

A new language: `pybabel init -i webapp/translations/messages.pot -d webapp/translations -l <lang>`
after adding it to LANGUAGES in webapp/config.py.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from webapp.config import load_config

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "webapp" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
KEYWORDS = ["_l", "lazy_gettext", "lazy_ngettext:1,2"]
HOW_TO = "Refresh the catalogs with the commands at the top of tests/unit/test_translations.py."

_CONFIG = load_config(str(ROOT / "instance"))
LOCALES = [code for code in _CONFIG["LANGUAGES"] if code != _CONFIG["BABEL_DEFAULT_LOCALE"]]

# A printf conversion as Python's `%` operator reads it: %(name)s, %d, %%, ...
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


def _po(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=locale)


def _forms(value) -> tuple:
    """A message's id or string as a tuple: one item, or the plural forms."""
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _label(msgid) -> str:
    return repr(_forms(msgid)[0])


def _report(title: str, items: list[str], hint: str = HOW_TO) -> str:
    return f"{title} ({len(items)}):\n  " + "\n  ".join(items) + f"\n{hint}"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages in the code right now, extracted exactly as step 1 does."""
    output = tmp_path_factory.mktemp("babel") / "messages.pot"
    args = ["pybabel", "--quiet", "extract", "-F", str(ROOT / "babel.cfg")]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    args += ["--no-location", "--sort-output", "-o", str(output), str(ROOT)]
    CommandLineInterface().run(args)
    with output.open("rb") as file:
        catalog = read_po(file)
    ids = {message.id for message in catalog if message.id}
    assert ids, "extraction found no messages: check babel.cfg"
    return ids


def test_the_template_is_current(extracted):
    with TEMPLATE.open("rb") as file:
        template = {message.id for message in read_po(file) if message.id}
    problems = [f"new in the code: {_label(msgid)}" for msgid in sorted(extracted - template, key=_label)]
    problems += [f"gone from the code: {_label(msgid)}" for msgid in sorted(template - extracted, key=_label)]
    assert not problems, _report("webapp/translations/messages.pot is out of date", problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_in_the_code_is_translated(extracted, locale):
    catalog = _po(locale)
    problems = []
    for msgid in sorted(extracted, key=_label):
        message = catalog.get(msgid)
        if message is None:
            problems.append(f"missing: {_label(msgid)}")
        elif _forms(message.id) != _forms(msgid):
            problems.append(f"plural changed (run step 2): {_label(msgid)}")
        elif message.fuzzy:
            problems.append(f"fuzzy (review, then remove the flag): {_label(msgid)}")
        elif not all(_forms(message.string)):
            problems.append(f"untranslated: {_label(msgid)}")
    assert not problems, _report(f"{locale}/LC_MESSAGES/messages.po does not cover the code", problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_matches_the_po_file(locale):
    po_catalog = _po(locale)
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as file:
        mo_catalog = read_mo(file)
    po = {_forms(m.id): _forms(m.string) for m in po_catalog if m.id and not m.fuzzy and all(_forms(m.string))}
    mo = {_forms(m.id): _forms(m.string) for m in mo_catalog if m.id}
    problems = [f"not compiled: {_label(msgid)}" for msgid in po if msgid not in mo]
    problems += [
        f"compiled translation differs: {_label(msgid)}" for msgid in po if msgid in mo and mo[msgid] != po[msgid]
    ]
    problems += [
        f"compiled, but untranslated, fuzzy or gone in the .po: {_label(msgid)}" for msgid in mo if msgid not in po
    ]
    if mo_catalog.plural_forms != po_catalog.plural_forms:
        problems.append(f"Plural-Forms: {mo_catalog.plural_forms!r} compiled, {po_catalog.plural_forms!r} in the .po")
    assert not problems, _report(f"{locale}/LC_MESSAGES/messages.mo is stale (run step 4)", problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale):
    problems = []
    for message in _po(locale):
        if not message.id or not all(_forms(message.string)):
            continue
        sources = _forms(message.id)
        for index, translation in enumerate(_forms(message.string)):
            source = sources[min(index, len(sources) - 1)]
            expected, found = Counter(PLACEHOLDER.findall(source)), Counter(PLACEHOLDER.findall(translation))
            if len(sources) > 1:  # a plural form may leave the count implicit ("one point")
                found.update({spec: expected[spec] for spec in expected if "(num)" in spec and spec not in found})
            if found != expected:
                problems.append(f"{_label(message.id)}: expects {sorted(expected)}, form {index} has {sorted(found)}")
            elif "%" in PLACEHOLDER.sub("", translation):
                problems.append(f"{_label(message.id)}: lone % in form {index} (write %% for a percent sign)")
    hint = "Fix these msgstr in the .po (a wrong name raises KeyError when the page renders), then run step 4."
    assert not problems, _report(f"placeholders differ in {locale}/LC_MESSAGES/messages.po", problems, hint)


def test_pages_are_french_by_default_and_english_with_the_language_cookie(client):
    french = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="fr">' in french
    assert "Connexion" in french
    assert "Se connecter" in french
    assert "Sign in" not in french

    client.set_cookie("lang", "en")
    english = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Sign in" in english
    assert "Forgotten your password?" in english
    assert "Password" in english  # a form label: lazy_gettext in Python code
    assert "Connexion" not in english
    assert "Mot de passe" not in english
