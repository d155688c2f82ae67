"""Printed letters and posters: real PDFs from WeasyPrint, read back with pypdf and pypdfium2."""

import gettext
import io

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image, ImageDraw
from pypdf import PdfReader

from webapp.domain.printing import (
    Brand,
    DoesNotFit,
    Letter,
    brand_of,
    letters_pdf,
    postal_town_line,
    poster_pdf,
)
from webapp.models import Union

MM = 72 / 25.4  # PDF points per millimetre
SUBJECT = "La fête des vitrines"
FOOTER = "Pour ne plus recevoir nos courriers, écrivez à l'union ou changez vos choix dans Mon compte."
RECIPIENTS = [
    ("Éloïse Lœuvre", "12 rue d'Austerlitz", "69004", "Lyon", "69004 LYON"),
    ("Noël Hâvre-Bérard", "3 impasse des Tanneurs & Cie", "42000", "Saint-Étienne", "42000 SAINT-ETIENNE"),
    ("Jean <b>Gras</b>", "7 quai <i>Perrache</i>", "13001", "marseille", "13001 MARSEILLE"),
]
BODY = "<p>Venez à la <strong>fête</strong> du quartier samedi.</p><p>Un café vous attend.</p>"


def logo_png() -> bytes:
    image = Image.new("RGBA", (240, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 150, 150), fill=(31, 58, 147, 255))
    draw.rectangle((110, 50, 230, 110), fill=(228, 87, 46, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def long_text(length: int) -> str:
    return ("Marché de Noël des commerçants du centre-ville, animations et cadeaux chez vous. " * 10)[:length]


def long_brand() -> Brand:
    """The longest identity the settings accept: name 120, tagline 200 characters, a three-line address."""
    return Brand(
        name=long_text(120),
        address="Hôtel de ville\n1 place des Arts\n69400 Villefranche-sur-Saône",
        primary_color="#7a1f3a",
        accent_color="#1b6b3a",
        logo_png=logo_png(),
        tagline=long_text(200),
    )


def make_brand(logo: bytes | None = b"") -> Brand:
    return Brand(
        name="Les Vitrines du Gros Caillou",
        address="12 place de la Croix-Rousse\n69004 Lyon",
        primary_color="#1f3a93",
        accent_color="#e4572e",
        logo_png=logo_png() if logo == b"" else logo,
        tagline="Les commerçants de votre quartier",
    )


def make_letters(body_html: str = BODY) -> list[Letter]:
    return [
        Letter(
            name=name, street=street, postcode=postcode, town=town, body_html=body_html, greeting="Madame, Monsieur,"
        )
        for name, street, postcode, town, _ in RECIPIENTS
    ]


def render_letters(brand: Brand | None = None, letters: list[Letter] | None = None, **options) -> bytes:
    return letters_pdf(
        brand or make_brand(),
        make_letters() if letters is None else letters,
        subject=SUBJECT,
        place_and_date="Lyon, le 15 juin 2026",
        signature="Marie Durand\nPrésidente",
        legal_footer=FOOTER,
        **options,
    )


def render_poster(brand: Brand | None = None, size: str = "A4", url: str = "https://quartier.example/jeux/12") -> bytes:
    return poster_pdf(
        brand or make_brand(),
        size=size,
        title="Grand jeu de l'été",
        text="Gagnez un panier garni de nos commerçants.",
        call_to_action="Flashez le code et participez !",
        qr_url=url,
    )


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def image_objects(pdf: bytes) -> set[int]:
    """Object numbers of the raster images the pages draw, through nested form XObjects."""
    found: set[int] = set()

    def walk(resources, seen):
        xobjects = resources.get("/XObject") if resources else None
        for ref in (xobjects or {}).values():
            if ref.idnum in seen:
                continue
            seen.add(ref.idnum)
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                found.add(ref.idnum)
            elif obj.get("/Subtype") == "/Form":
                walk(obj.get("/Resources"), seen)

    for page in PdfReader(io.BytesIO(pdf)).pages:
        walk(page.get("/Resources"), set())
    return found


def text_in_box(pdf: bytes, page_number: int, left_mm: float, top_mm: float, width_mm: float, height_mm: float):
    """The text pdfium finds inside a rectangle given from the sheet's top-left corner, as on a ruler."""
    page = pdfium.PdfDocument(pdf)[page_number]
    height = page.get_height()
    return page.get_textpage().get_text_bounded(
        left=left_mm * MM,
        right=(left_mm + width_mm) * MM,
        top=height - top_mm * MM,
        bottom=height - (top_mm + height_mm) * MM,
    )


# Letters


def test_one_page_per_recipient_with_address_subject_and_letterhead():
    texts = page_texts(render_letters())

    assert len(texts) == len(RECIPIENTS)
    for text, (name, street, _, _, town_line) in zip(texts, RECIPIENTS, strict=True):
        assert name in text
        assert street in text
        assert town_line in text
        assert f"Objet : {SUBJECT}" in text
        assert "Les Vitrines du Gros Caillou" in text
        assert "12 place de la Croix-Rousse" in text
        assert "Lyon, le 15 juin 2026" in text
        assert "Madame, Monsieur," in text
        assert "Présidente" in text
        assert FOOTER.split(",")[0] in text


def test_a_recipient_appears_on_no_other_page():
    texts = page_texts(render_letters())

    for index, text in enumerate(texts):
        for other, (name, street, *_rest, town_line) in enumerate(RECIPIENTS):
            if other != index:
                assert name not in text
                assert street not in text
                assert town_line not in text


def test_the_address_sits_in_the_envelope_window():
    pdf = render_letters()

    for index, (name, street, _, _, town_line) in enumerate(RECIPIENTS):
        window = text_in_box(pdf, index, left_mm=110, top_mm=50, width_mm=100, height_mm=45)
        assert window.splitlines() == [name, street, town_line]
        # Nothing of the address shows above the window, where the letterhead is.
        assert name not in text_in_box(pdf, index, left_mm=0, top_mm=0, width_mm=210, height_mm=49)
        # The legal footer is in the bottom margin of every sheet, below the letter.
        bottom = " ".join(text_in_box(pdf, index, left_mm=0, top_mm=277, width_mm=210, height_mm=20).split())
        assert bottom == FOOTER


def test_a_long_letterhead_ends_above_the_window():
    pdf = render_letters(long_brand(), make_letters()[:1])

    name, street, _, _, town_line = RECIPIENTS[0]
    assert text_in_box(pdf, 0, left_mm=110, top_mm=50, width_mm=100, height_mm=45).splitlines() == [
        name,
        street,
        town_line,
    ]
    letterhead = text_in_box(pdf, 0, left_mm=0, top_mm=0, width_mm=210, height_mm=49)
    assert "69400 Villefranche-sur-Saône" in letterhead  # its last line, not cut off


def test_the_body_is_html_while_names_and_addresses_are_text():
    body = "<p>Venez à la <strong>fête</strong> du quartier.</p><script>document.write('piège')</script>"
    texts = page_texts(render_letters(letters=make_letters(body)))

    for text in texts:
        assert "Venez à la fête du quartier." in text
        assert "<strong>" not in text
        assert "<p>" not in text
        assert "piège" not in text
    # The caller's names are data: printed literally, never interpreted as markup.
    assert "Jean <b>Gras</b>" in texts[2]
    assert "7 quai <i>Perrache</i>" in texts[2]
    assert "Tanneurs & Cie" in texts[1]


def test_the_logo_is_embedded_once_for_the_whole_mailing():
    assert len(image_objects(render_letters())) == 1
    assert image_objects(render_letters(make_brand(logo=None))) == set()


def test_printing_fetches_nothing_but_its_own_data(tmp_path):
    local = tmp_path / "tracker.png"
    local.write_bytes(logo_png())
    body = f'<p>Bonjour</p><img src="{local.as_uri()}" alt=""><img src="http://127.0.0.1:9/pixel.png" alt="">'

    pdf = render_letters(make_brand(logo=None), make_letters(body))

    assert image_objects(pdf) == set()
    assert "Bonjour" in page_texts(pdf)[0]


def test_fixed_labels_follow_the_translations_given():
    class English(gettext.NullTranslations):
        def gettext(self, message):
            return {"Objet :": "Subject:"}.get(message, message)

    texts = page_texts(render_letters(translations=English()))

    assert f"Subject: {SUBJECT}" in texts[0]
    assert "Objet :" not in texts[0]


def test_a_letter_running_onto_a_second_sheet_is_refused():
    letters = make_letters()
    letters[1] = Letter(name="Long", street="1 rue", postcode="69001", town="Lyon", body_html="<p>Texte.</p>" * 80)

    with pytest.raises(DoesNotFit) as caught:
        render_letters(letters=letters)
    assert caught.value.params == {"document": "letter", "index": 1}


def test_an_empty_mailing_is_refused():
    with pytest.raises(ValueError, match="no letters"):
        render_letters(letters=[])


def test_the_town_line_follows_la_poste():
    assert postal_town_line("69004", "Lyon") == "69004 LYON"
    assert postal_town_line(" 42000 ", "Saint-Étienne") == "42000 SAINT-ETIENNE"
    assert postal_town_line("59000", "  Lille   Centre ") == "59000 LILLE CENTRE"


# Posters


@pytest.mark.parametrize(("size", "width", "height"), [("A4", 595.3, 841.9), ("A3", 841.9, 1190.6)])
def test_poster_size_title_and_a_large_centred_qr_leading_to_the_url(size, width, height):
    url = "https://quartier.example/jeux/12-grand-jeu-ete?utm_source=affiche"
    pdf = render_poster(size=size, url=url)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(width, abs=1)
    assert float(box.height) == pytest.approx(height, abs=1)
    text = reader.pages[0].extract_text()
    assert "Grand jeu de l'été" in text
    assert "Flashez le code et participez !" in text
    assert url in text.replace("\n", "")
    assert "Les Vitrines du Gros Caillou" in text

    image = pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil().convert("RGB")
    codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [code.text for code in codes] == [url]
    corners = codes[0].position
    xs = [corners.top_left.x, corners.top_right.x, corners.bottom_left.x, corners.bottom_right.x]
    assert max(xs) - min(xs) > 0.35 * image.width
    assert (min(xs) + max(xs)) / 2 == pytest.approx(image.width / 2, rel=0.03)


def test_poster_carries_the_logo_only_when_there_is_one():
    assert len(image_objects(render_poster())) == 1
    assert image_objects(render_poster(make_brand(logo=None))) == set()


@pytest.mark.parametrize("size", ["A5", "a4", "Letter", ""])
def test_unknown_poster_size_is_refused(size):
    with pytest.raises(ValueError, match="size"):
        render_poster(size=size)


@pytest.mark.parametrize("size", ["A4", "A3"])
def test_the_longest_texts_the_back_office_accepts_fit_on_the_poster(size):
    url = "https://quartier-villefranche.example.fr/jeux/le-grand-marche-de-noel-des-commercants-2026"
    pdf = poster_pdf(
        long_brand(), size=size, title=long_text(80), text=long_text(400), call_to_action=long_text(80), qr_url=url
    )

    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    image = pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil().convert("RGB")
    assert [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)] == [url]


def test_a_poster_longer_than_its_sheet_is_refused():
    with pytest.raises(DoesNotFit):
        poster_pdf(
            make_brand(),
            size="A4",
            title="Titre",
            text="Un texte bien trop long. " * 300,
            call_to_action="Go",
            qr_url="x",
        )


# The brand


def test_brand_of_the_union_settings():
    union = Union(
        name="Union de Test",
        tagline=None,
        address="1 place du Test, 69004 Lyon",
        primary_color="#1f3a93",
        accent_color="#8a2be2",
        logo_png=b"\x89PNG...",
    )

    assert brand_of(union) == Brand(
        name="Union de Test",
        address="1 place du Test, 69004 Lyon",
        primary_color="#1f3a93",
        accent_color="#8a2be2",
        logo_png=b"\x89PNG...",
        tagline="",
    )


@pytest.mark.parametrize("color", ["red", "#12345", "#1f3a93;} body { display: none"])
def test_only_plain_colours_reach_the_css(color):
    with pytest.raises(ValueError, match="colour"):
        Brand(name="U", address="", primary_color=color, accent_color="#e4572e", logo_png=None)
