"""Printed direct marketing: letters for window envelopes and posters, always on the union's letterhead.

Plain Python (no Flask): the templates in `templates/print/` are rendered by an
environment of our own and turned into PDF bytes by WeasyPrint, so that the back
office, the worker and the command line print the same documents.

Rendering is offline: the only resources a document may load are `data:` URIs
(the logo and the QR code are embedded that way). Any other URL, for instance an
image in a caller's body HTML, is refused instead of being fetched from the
network or the file system.

Fixed labels are marked `{{ _("...") }}` in the templates; pass a gettext or Babel
`Translations` object (in a request: `flask_babel.get_translations()`) to print
them in another language. The texts themselves come from the caller.
"""

from __future__ import annotations

import base64
import gettext
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from jinja2 import Environment, FileSystemLoader
from weasyprint import HTML

from webapp.domain.errors import DomainError
from webapp.domain.qrcodes import qr_svg

if TYPE_CHECKING:
    from webapp.models import Union

PRINT_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "print"
POSTER_SIZES = ("A4", "A3")
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


class DoesNotFit(DomainError):
    """A letter longer than its one page, or a poster longer than its sheet: shorten the text.

    A mailing must stay one sheet per recipient: the sheets are folded into window
    envelopes in order, so a second page would land in the next person's envelope.
    `params`: `document` ("letter" or "poster"), and for a letter its `index` in the mailing.
    """

    code = "does_not_fit"


class Translations(Protocol):
    """What the templates need of a translations object (gettext's or Babel's)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@dataclass(frozen=True)
class Brand:
    """The union's identity as printed: a snapshot, so a long print job needs no database session."""

    name: str
    address: str
    primary_color: str
    accent_color: str
    logo_png: bytes | None
    tagline: str = ""

    def __post_init__(self) -> None:
        # The colours go into the documents' CSS: only plain #rrggbb may get there.
        for color in (self.primary_color, self.accent_color):
            if not _COLOR_RE.match(color or ""):
                raise ValueError(f"not a #rrggbb colour: {color!r}")


def brand_of(union: Union) -> Brand:
    """The printable brand of the union's settings row (loads its deferred logo)."""
    return Brand(
        name=union.name,
        address=union.address or "",
        primary_color=union.primary_color,
        accent_color=union.accent_color,
        logo_png=union.logo_png or None,
        tagline=union.tagline or "",
    )


@dataclass(frozen=True)
class Letter:
    """One recipient's letter. `body_html` must already be sanitised: it is printed as HTML."""

    name: str
    street: str
    postcode: str
    town: str
    body_html: str
    greeting: str = ""

    @property
    def town_line(self) -> str:
        return postal_town_line(self.postcode, self.town)


def postal_town_line(postcode: str, town: str) -> str:
    """The last line of a French postal address: "69004 LYON".

    La Poste's addressing standard (NF Z 10-011) asks for the town in capitals,
    without accents, after the five-digit postcode, separated by one space.
    """
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", town) if not unicodedata.combining(ch))
    bare = bare.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    return f"{postcode.strip()} {' '.join(bare.upper().split())}"


def letters_pdf(
    brand: Brand,
    letters: Iterable[Letter],
    *,
    subject: str,
    place_and_date: str,
    signature: str,
    legal_footer: str,
    translations: Translations | None = None,
) -> bytes:
    """One PDF for a whole mailing: one A4 page per recipient, in the order given.

    Raises DoesNotFit when a letter would run onto a second page, ValueError when
    there is no letter. All the letters are laid out in one HTML document (a page
    break after each), and the logo is one CSS background shared by every page, so
    WeasyPrint decodes and embeds it once however many letters there are.
    """
    letters = list(letters)
    if not letters:
        raise ValueError("no letters to print")
    html = _render(
        "letters.html",
        translations,
        brand=brand,
        logo_uri=_png_uri(brand.logo_png),
        letters=letters,
        subject=subject,
        place_and_date=place_and_date,
        signature=signature,
        legal_footer=legal_footer,
    )
    document = _document(html)
    # Each letter's section carries an id, so a page where no letter starts is a continuation page.
    for number, page in enumerate(document.pages):
        if f"letter-{number}" not in page.anchors:
            raise DoesNotFit("letter longer than one page", document="letter", index=number - 1)
    return document.write_pdf()


def poster_pdf(
    brand: Brand,
    *,
    size: str,
    title: str,
    text: str,
    call_to_action: str,
    qr_url: str,
    translations: Translations | None = None,
) -> bytes:
    """A one-page poster or flyer (A4 or A3) whose QR code leads to `qr_url`, printed in clear under it.

    Raises ValueError for another size, DoesNotFit when the texts do not fit on the sheet.
    """
    if size not in POSTER_SIZES:
        raise ValueError(f"unknown poster size {size!r}: one of {', '.join(POSTER_SIZES)}")
    qr_uri = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(qr_url).encode()).decode("ascii")
    html = _render(
        "poster.html",
        translations,
        brand=brand,
        logo_uri=_png_uri(brand.logo_png),
        size=size,
        title=title,
        text=text,
        call_to_action=call_to_action,
        qr_uri=qr_uri,
        qr_url=qr_url,
    )
    document = _document(html)
    if len(document.pages) != 1:
        raise DoesNotFit("poster longer than one sheet", document="poster")
    return document.write_pdf()


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """Built once per process (it caches the compiled templates); never modified after."""
    env = Environment(
        loader=FileSystemLoader(PRINT_TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_null_translations()
    return env


def _render(template: str, translations: Translations | None, **context) -> str:
    # The translations go into the render context, not into the shared environment:
    # the i18n extension's `_` looks `gettext` up in the context, so concurrent
    # renders in different languages cannot see each other's catalog.
    translations = translations or gettext.NullTranslations()
    return (
        _environment()
        .get_template(template)
        .render(gettext=translations.gettext, ngettext=translations.ngettext, **context)
    )


def _png_uri(data: bytes | None) -> str | None:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii") if data else None


def _document(html: str):
    return HTML(string=html, url_fetcher=_offline_fetcher()).render()


def _offline_fetcher():
    """A WeasyPrint URL fetcher that serves `data:` URIs only."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # WeasyPrint before the URLFetcher class: fetchers were plain functions
        from weasyprint import default_url_fetcher

        def fetch(url: str, *args, **kwargs):
            if not url.lower().startswith("data:"):
                raise ValueError(f"printing is offline, not fetched: {url[:80]}")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"})
