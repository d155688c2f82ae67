"""The contest pages: the public list and page, entering as a cardholder or a visitor, the rules, "My entries",
and the organiser's pages (editor, moderation, commitment, draw, figures, export) with their role checks."""

import csv
import html as html_module
import io
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import outbox_messages
from tests.factories import Factories
from webapp.auth.forms import EMAIL_WORDING
from webapp.domain import contests
from webapp.extensions import db
from webapp.models import AuditEntry, Consent, Contest, ContestEntry, ContestRules, ContestWinner, Customer

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
PRIZES = [("Panier garni du marché", 2), ("Bon d'achat de 50 €", 1)]


@pytest.fixture
def app_config():
    return {"FROZEN_NOW": NOW}


@pytest.fixture
def union(make):
    return make.union(name="Vitrines du Plateau")


def png_bytes(size=(64, 48), color=(200, 30, 30), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def new_contest(publish=True, **overrides) -> Contest:
    """A contest created and published two days ago, open from yesterday to a week from now."""
    return Factories(db.session).contest(NOW, publish, **{"prizes": PRIZES, **overrides})


def rules_version(contest) -> int:
    return contests.current_rules(db.session, contest).version


def visitor_form(contest, **changes) -> dict:
    data = {
        "rules_version": str(rules_version(contest)),
        "first_name": "Inès",
        "last_name": "Martin",
        "email": "ines.martin@example.org",
        "postcode": "69004",
        "town": "Lyon",
        "phone": "",
        "age_confirmed": "y",
        "rules_accepted": "y",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def page_text(response) -> str:
    """The page's HTML with character references resolved (messages are compared as people read them)."""
    return html_module.unescape(response.get_data(as_text=True))


# Public pages.


def test_list_and_contest_page_made_for_phones(client, app, union):
    contest = new_contest(image=png_bytes())
    slug, title = contest.slug, contest.title
    new_contest(publish=False, title="Brouillon secret")
    listing = page_text(client.get("/contests/"))
    assert title in listing and "Brouillon secret" not in listing
    assert f'href="/contests/{slug}"' in listing

    page = client.get(f"/contests/{slug}")
    assert page.status_code == 200
    html = page_text(page)
    assert "<h1>Grand jeu de l'été</h1>" in html
    assert "Panier garni du marché" in html and "2 ×" in html
    assert f"/contests/{slug}/image.png?v=1" in html
    assert "sans obligation d'achat" in html
    assert f'href="/contests/{slug}/rules"' in html and "version 1" in html
    assert 'name="viewport"' in html
    # The visitor's form: every field labelled, consents and the rules box unticked by default.
    for name in ("first_name", "last_name", "email", "postcode", "age_confirmed", "rules_accepted"):
        assert f'<label for="{name}"' in html, name
    for name in ("consent_email", "consent_sms", "consent_post", "rules_accepted", "public_name"):
        tag = re.search(rf'<input[^>]*id="{name}"[^>]*>', html).group(0)
        assert 'type="checkbox"' in tag and "checked" not in tag, tag
    with app.test_request_context():
        assert str(EMAIL_WORDING) in html
    # The rules of the current version are there right before the button.
    assert html.index("Le règlement du jeu (version 1)") < html.index("Je participe")
    assert html.index('id="rules_accepted"') < html.index("Je participe")

    image = client.get(f"/contests/{slug}/image.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")


def test_a_draft_is_hidden_from_the_public(client, union):
    draft = new_contest(publish=False)
    slug = draft.slug
    assert client.get(f"/contests/{slug}").status_code == 404
    assert client.get(f"/contests/{slug}/rules").status_code == 404
    assert client.post(f"/contests/{slug}/enter", data=visitor_form(draft)).status_code == 404
    assert client.get("/contests/no-such-contest").status_code == 404
    assert count(ContestEntry) == 0


def test_a_visitor_enters_becomes_a_prospect_and_gets_the_confirmation(client, app, union):
    contest = new_contest()
    slug = contest.slug
    response = client.post(f"/contests/{slug}/enter", data=visitor_form(contest, consent_email="y"))
    assert response.status_code == 302 and response.location == f"/contests/{slug}/merci"
    done = page_text(client.get(response.location))
    assert "Participation enregistrée" in done and "Grand jeu de l'été" in done

    entry = db.session.scalar(select(ContestEntry))
    person = db.session.get(Customer, entry.customer_id)
    assert (entry.status, entry.rules_version, entry.town, entry.postcode) == ("accepted", 1, "Lyon", "69004")
    assert (person.first_name, person.last_name, person.email, person.source) == (
        "Inès",
        "Martin",
        "ines.martin@example.org",
        "contest",
    )
    consents = {row.channel: row for row in db.session.scalars(select(Consent))}
    assert {channel: row.granted for channel, row in consents.items()} == {"email": True, "sms": False, "post": False}
    with app.test_request_context():
        assert consents["email"].wording == str(EMAIL_WORDING) and consents["email"].method == "contest"

    [message] = outbox_messages(app)
    assert message["To"] == "ines.martin@example.org"
    assert "Grand jeu de l'été" in message["Subject"] and message["Subject"].endswith("Vitrines du Plateau")
    text = message.get_body(("plain",)).get_content()
    assert "Bonjour Inès" in text and f"http://localhost/contests/{slug}" in text
    assert "Vitrines du Plateau" in message.get_body(("html",)).get_content()


def test_entering_never_depends_on_marketing_consent(client, union):
    contest = new_contest()
    response = client.post(f"/contests/{contest.slug}/enter", data=visitor_form(contest))
    assert response.status_code == 302
    assert count(ContestEntry) == 1
    db.session.rollback()
    assert not any(db.session.scalars(select(Consent.granted)))


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"first_name": ""}, "Indiquez votre prénom."),
        ({"last_name": ""}, "Indiquez votre nom."),
        ({"email": "pas-une-adresse"}, "Adresse e-mail invalide."),
        ({"email": ""}, "Indiquez votre adresse e-mail."),
        ({"postcode": "ABC"}, "Code postal invalide : cinq chiffres."),
        ({"phone": "12"}, "Numéro de téléphone invalide."),
        ({"age_confirmed": None}, "Ce jeu est réservé aux personnes ayant l'âge minimum"),
        ({"rules_accepted": None}, "Vous devez accepter le règlement pour participer."),
    ],
)
def test_bad_visitor_input_rerenders_in_french_and_writes_nothing(client, app, union, changes, message):
    contest = new_contest()
    response = client.post(f"/contests/{contest.slug}/enter", data=visitor_form(contest, **changes))
    html = page_text(response)
    assert response.status_code == 422
    assert message in html
    assert 'aria-invalid="true"' in html or 'class="field check has-error"' in html
    assert 'value="Martin"' in html or changes.get("last_name") == ""  # what was typed is kept
    assert (count(ContestEntry), count(Customer), count(Consent)) == (0, 0, 0)
    assert outbox_messages(app) == []


def test_the_rules_must_be_the_current_version(client, union):
    contest = new_contest()
    form = visitor_form(contest)
    # The organiser adds a clause while the contest runs: a new version of the rules.
    contests.save_contest(
        db.session,
        contest,
        **{
            **{name: getattr(contest, name) for name in contests.STRUCTURAL},
            "description": contest.description,
            "rules_extra": "Les lots sont à retirer à la boutique du marché.",
            "prizes": PRIZES,
            "image": None,
            "by_id": None,
        },
        now=NOW,
    )
    db.session.commit()
    assert rules_version(contest) == 2
    response = client.post(f"/contests/{contest.slug}/enter", data=form)
    html = page_text(response)
    assert response.status_code == 422
    assert "Le règlement a changé depuis l'affichage de la page" in html
    assert 'name="rules_version" type="hidden" value="2"' in html
    assert "Les lots sont à retirer" in html  # the new text is shown before the button
    assert count(ContestEntry) == 0 and count(Customer) == 0


def test_a_cardholder_enters_in_one_tap(client, app, login, make, union):
    contest = new_contest()
    slug = contest.slug
    shopper = make.shopper(first_name="Chloé")
    shopper_id, customer_id, email = shopper.id, shopper.customer_id, shopper.email
    login(shopper)
    html = page_text(client.get(f"/contests/{slug}"))
    assert 'name="first_name"' not in html and 'name="email"' not in html
    assert "En participant, vous confirmez avoir au moins 18 ans et accepter le règlement du jeu (version 1)" in html
    response = client.post(f"/contests/{slug}/enter", data={"rules_version": "1"})
    assert response.status_code == 302
    entry = db.session.scalar(select(ContestEntry))
    assert (entry.customer_id, entry.account_id, entry.status) == (customer_id, shopper_id, "accepted")
    assert [message["To"] for message in outbox_messages(app)] == [email]

    again = client.post(f"/contests/{slug}/enter", data={"rules_version": "1"})
    assert again.status_code == 409 and "Vous avez déjà participé à ce jeu." in page_text(again)
    assert count(ContestEntry) == 1


def test_a_cardholders_only_contest_asks_visitors_to_sign_in(client, union):
    contest = new_contest(eligibility="cardholders")
    slug = contest.slug
    html = page_text(client.get(f"/contests/{slug}"))
    assert "Me connecter pour participer" in html and 'name="first_name"' not in html
    refused = client.post(f"/contests/{slug}/enter", data=visitor_form(contest))
    assert refused.status_code == 422 and "réservé aux titulaires de la carte" in page_text(refused)
    assert count(ContestEntry) == 0 and count(Customer) == 0


def test_question_contest_shows_the_question_and_requires_an_answer(client, login, make, union):
    contest = new_contest(entry_type="question", question="Quelle est la couleur du marché ?", answer="Vert")
    slug = contest.slug
    login(make.shopper())
    html = page_text(client.get(f"/contests/{slug}"))
    assert "Quelle est la couleur du marché ?" in html and '<label for="answer"' in html
    missing = client.post(f"/contests/{slug}/enter", data={"rules_version": "1", "answer": ""})
    assert missing.status_code == 422 and "Indiquez votre réponse." in page_text(missing)
    assert count(ContestEntry) == 0
    assert client.post(f"/contests/{slug}/enter", data={"rules_version": "1", "answer": " VERT "}).status_code == 302
    assert db.session.scalar(select(ContestEntry.answer_correct)) is True


def test_a_closed_contest_refuses_entries(client, app, union):
    contest = new_contest()
    slug, form = contest.slug, visitor_form(contest)
    app.config["FROZEN_NOW"] = NOW + timedelta(days=8)
    html = page_text(client.get(f"/contests/{slug}"))
    assert "Les participations sont closes" in html and 'name="first_name"' not in html
    response = client.post(f"/contests/{slug}/enter", data=form)
    assert response.status_code == 409 and "Ce jeu est terminé." in page_text(response)
    assert count(ContestEntry) == 0


def test_rules_page_with_versions(client, union):
    contest = new_contest(rules_extra="Première clause.")
    slug = contest.slug
    contests.save_contest(
        db.session,
        contest,
        **{
            **{name: getattr(contest, name) for name in contests.STRUCTURAL},
            "description": contest.description,
            "rules_extra": "Clause révisée.",
            "prizes": PRIZES,
            "image": None,
            "by_id": None,
        },
        now=NOW,
    )
    db.session.commit()
    current = page_text(client.get(f"/contests/{slug}/rules"))
    assert "Version 2" in current and "Clause révisée." in current and "Première clause." not in current
    assert "gratuite et sans obligation d'achat" in current
    assert f'href="/contests/{slug}/rules?version=1"' in current
    old = page_text(client.get(f"/contests/{slug}/rules?version=1"))
    assert "Première clause." in old and "Ce n'est pas la version en vigueur." in old
    assert client.get(f"/contests/{slug}/rules?version=9").status_code == 404


# Photo entries.


def photo_form(contest, data: bytes, filename="photo.png", **changes) -> dict:
    return {**visitor_form(contest, **changes), "photo": (io.BytesIO(data), filename)}


@pytest.mark.parametrize(
    "data,filename,message",
    [
        (b"", None, "Choisissez une photo."),
        (b"this is not an image at all", "photo.png", "Ce fichier n'est pas une image lisible."),
        (png_bytes(fmt="GIF"), "photo.gif", "Seules les images PNG et JPEG sont acceptées."),
        (png_bytes(fmt="GIF"), "photo.png", "Seules les images PNG et JPEG sont acceptées."),
        (None, "big.png", "Image trop lourde (2 Mo au plus)."),
    ],
)
def test_photo_upload_rejections(client, union, data, filename, message):
    contest = new_contest(entry_type="photo")
    if data is None:  # incompressible noise: over 2 MB as PNG
        noise = Image.frombytes("RGB", (1000, 800), os.urandom(1000 * 800 * 3))
        buffer = io.BytesIO()
        noise.save(buffer, format="PNG")
        data = buffer.getvalue()
        assert len(data) > 2 * 1024 * 1024
    form = visitor_form(contest) if filename is None else photo_form(contest, data, filename)
    response = client.post(f"/contests/{contest.slug}/enter", data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in page_text(response)
    assert (count(ContestEntry), count(Customer)) == (0, 0)


# "My entries".


def test_my_entries_shows_only_ones_own(client, login, make, union):
    first = new_contest(title="Jeu des cerises")
    second = new_contest(title="Jeu des abricots")
    alice, bob = make.shopper(first_name="Alice"), make.shopper(first_name="Bob")
    for shopper, contest in ((alice, first), (bob, second)):
        contests.enter_as_cardholder(
            db.session,
            contest,
            customer_id=shopper.customer_id,
            account_id=shopper.id,
            age_confirmed=True,
            rules_version=1,
            now=NOW,
        )
    db.session.commit()
    second_id = second.id
    login(alice)
    mine = page_text(client.get("/contests/mine"))
    assert "Jeu des cerises" in mine and "Jeu des abricots" not in mine
    assert "validée" in mine
    # Nothing else shows anybody's entries to a shopper.
    for path in (
        f"/contests/manage/{second_id}/moderation",
        f"/contests/manage/{second_id}/export.csv",
        f"/contests/manage/{second_id}/entries/1/photo.png",
    ):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/contests/{second.slug}/merci").status_code == 302  # no entry of hers to confirm


def test_my_entries_is_for_signed_in_shoppers(client):
    response = client.get("/contests/mine")
    assert response.status_code == 302 and "/auth/login" in response.location


# The organiser's pages.

ORGANISER_PAGES = [
    ("get", "/contests/manage/"),
    ("get", "/contests/manage/new"),
    ("get", "/contests/manage/{id}"),
    ("get", "/contests/manage/{id}/edit"),
    ("get", "/contests/manage/{id}/moderation"),
    ("get", "/contests/manage/{id}/figures"),
    ("get", "/contests/manage/{id}/export.csv"),
    ("post", "/contests/manage/{id}/moderation"),
    ("post", "/contests/manage/{id}/publish"),
    ("post", "/contests/manage/{id}/commit"),
    ("post", "/contests/manage/{id}/draw"),
]


@pytest.mark.parametrize("role", ["merchant", "shopper"])
def test_organiser_pages_are_refused_to_merchants_and_shoppers(client, login, make, union, role):
    contest = new_contest()
    contest_id = contest.id
    login(make.shopper() if role == "shopper" else make.staff(role="merchant"))
    for method, path in ORGANISER_PAGES:
        response = getattr(client, method)(path.format(id=contest_id))
        assert response.status_code == 403, (method, path)
    db.session.rollback()
    assert db.session.scalar(select(Contest.committed_at)) is None


@pytest.mark.parametrize("role", ["organiser", "admin"])
def test_organiser_pages_open_to_organisers_and_admins(client, login, make, union, role):
    contest = new_contest()
    contest_id = contest.id
    login(make.staff(role=role))
    for method, path in ORGANISER_PAGES:
        if method == "get":
            assert client.get(path.format(id=contest_id)).status_code == 200, path


def test_an_organiser_lands_on_the_contests(client, make, union):
    organiser = make.staff(role="organiser")
    response = client.post("/auth/login", data={"email": organiser.email, "password": "correct horse battery staple"})
    assert response.location == "/contests/manage/"
    assert "Jeux-concours" in page_text(client.get("/contests/manage/"))


def editor_form(**changes) -> dict:
    data = {
        "title": "Jeu de la rentrée",
        "description": "Des fournitures à gagner.",
        "starts_at": "2026-06-20T09:00",
        "ends_at": "2026-06-30T20:00",
        "eligibility": "everyone",
        "entry_type": "draw",
        "question": "",
        "answer": "",
        "entry_limit": "daily",
        "minimum_age": "16",
        "prizes-0-name": "Cartable",
        "prizes-0-quantity": "3",
        "prizes-1-name": "Trousse",
        "prizes-1-quantity": "10",
        "prizes-2-name": "",
        "prizes-2-quantity": "",
        "rules_extra": "",
    }
    data.update(changes)
    return data


def test_organiser_creates_edits_and_publishes_a_contest(client, login, make, union):
    organiser = make.staff(role="organiser")
    organiser_id = organiser.id
    login(organiser)
    editor = page_text(client.get("/contests/manage/new"))
    assert editor.count('name="prizes-') == 6 and 'type="datetime-local"' in editor
    more = client.post("/contests/manage/new", data={**editor_form(), "add_prize": "1"})
    assert more.status_code == 200 and 'name="prizes-3-name"' in page_text(more)
    assert count(Contest) == 0

    response = client.post(
        "/contests/manage/new",
        data={**editor_form(), "image": (io.BytesIO(png_bytes((800, 600))), "affiche.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    contest = db.session.scalar(select(Contest))
    assert response.location == f"/contests/manage/{contest.id}"
    # Typed in the union's time zone (Paris, summer time: UTC+2).
    assert contest.starts_at == datetime(2026, 6, 20, 7, 0, tzinfo=UTC)
    assert (contest.entry_limit, contest.minimum_age, contest.created_by_id) == ("daily", 16, organiser_id)
    assert [(p.name, p.quantity) for p in contests.prizes_of(db.session, contest)] == [("Cartable", 3), ("Trousse", 10)]
    assert contest.image_version == 1 and Image.open(io.BytesIO(contest.image_png)).format == "PNG"
    assert contest.published_at is None
    contest_id, slug = contest.id, contest.slug

    detail = page_text(client.get(f"/contests/manage/{contest_id}"))
    assert "Brouillon" in detail and "Publier" in detail
    edit = page_text(client.get(f"/contests/manage/{contest_id}/edit"))
    assert 'value="2026-06-20T09:00"' in edit and 'value="Cartable"' in edit

    assert client.post(f"/contests/manage/{contest_id}/publish").status_code == 302
    db.session.rollback()
    assert db.session.get(Contest, contest_id).published_at == NOW
    assert client.get(f"/contests/{slug}").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ContestRules)) == 1


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"title": ""}, "Donnez un titre."),
        ({"ends_at": "2026-06-19T09:00"}, "La fin du jeu doit être postérieure à son début."),
        (
            {"prizes-0-name": "", "prizes-0-quantity": "", "prizes-1-name": "", "prizes-1-quantity": ""},
            "au moins un lot",
        ),
        ({"prizes-1-name": ""}, "Chaque lot doit avoir un nom"),
        ({"prizes-0-quantity": "0"}, "Une quantité entre 1 et 10 000."),
        ({"entry_type": "question"}, "Un jeu à question demande une question."),
        ({"minimum_age": "120"}, "Un âge entre 0 et 99 ans."),
        ({"starts_at": ""}, "Indiquez la date et l'heure de début."),
        ({"starts_at": "demain"}, "pas une date/heure valide"),
    ],
)
def test_editor_bad_input_rerenders_and_writes_nothing(client, login, make, union, changes, message):
    login(make.staff(role="organiser"))
    response = client.post("/contests/manage/new", data=editor_form(**changes))
    assert response.status_code == 422
    assert message in page_text(response)
    assert count(Contest) == 0 and count(ContestRules) == 0


@pytest.mark.parametrize(
    "data,filename,message",
    [
        (b"GIF89a not really", "affiche.gif", "Seules les images PNG et JPEG sont acceptées."),
        (b"%PDF-1.4 not an image", "affiche.png", "Ce fichier n'est pas une image lisible."),
        (png_bytes(fmt="GIF"), "affiche.png", "Seules les images PNG et JPEG sont acceptées."),
    ],
)
def test_editor_image_upload_rejections(client, login, make, union, data, filename, message):
    login(make.staff(role="organiser"))
    response = client.post(
        "/contests/manage/new",
        data={**editor_form(), "image": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and message in page_text(response)
    assert count(Contest) == 0


def test_a_started_contest_keeps_its_structure(client, login, make, union):
    contest = new_contest()
    contest_id = contest.id
    login(make.staff(role="organiser"))
    local = {
        "starts_at": "2026-06-14T12:00",  # NOW - 1 day, in Paris time
        "ends_at": "2026-06-22T12:00",
        "title": contest.title,
        "description": "Nouvelle description.",
        "entry_limit": "once",
        "minimum_age": "18",
        "prizes-0-name": PRIZES[0][0],
        "prizes-0-quantity": "2",
        "prizes-1-name": PRIZES[1][0],
        "prizes-1-quantity": "1",
    }
    changed = client.post(f"/contests/manage/{contest_id}/edit", data=editor_form(**{**local, "minimum_age": "12"}))
    assert changed.status_code == 422 and "Le jeu a commencé" in page_text(changed)
    db.session.rollback()
    assert db.session.get(Contest, contest_id).minimum_age == 18
    allowed = client.post(f"/contests/manage/{contest_id}/edit", data=editor_form(**local))
    assert allowed.status_code == 302
    db.session.rollback()
    assert db.session.get(Contest, contest_id).description == "Nouvelle description."


# Moderation, commitment and draw through the pages.


def test_moderation_then_commitment_and_draw_through_the_pages(client, app, login, make, union, runner):
    contest = new_contest(entry_type="photo", prizes=[("Panier garni du marché", 1)])
    contest_id, slug = contest.id, contest.slug
    people = [
        ("Inès", "Martin", "ines.martin@gmail.com", "y"),
        ("Tom", "Durand", "inesmartin+jeux@googlemail.com", None),  # the same mailbox, Gmail-folded
        ("Zoé", "Bernard", "zoe.bernard@example.org", None),
    ]
    for first, last, email, public in people:
        form = photo_form(contest, png_bytes(color=(10, 120, 40)), first_name=first, last_name=last, email=email)
        if public:
            form["public_name"] = public
        response = client.post(f"/contests/{slug}/enter", data=form, content_type="multipart/form-data")
        assert response.status_code == 302, page_text(response)[:2000]
    by_name = dict(db.session.execute(select(Customer.first_name, ContestEntry.id).join(ContestEntry)).all())
    ines_id, tom_id, zoe_id = by_name["Inès"], by_name["Tom"], by_name["Zoé"]
    assert set(db.session.scalars(select(ContestEntry.status))) == {"pending"}

    organiser = make.staff(role="organiser")
    organiser_id = organiser.id
    login(organiser)
    queue = page_text(client.get(f"/contests/manage/{contest_id}/moderation"))
    assert queue.count('name="entry"') == 3
    assert queue.count("Même e-mail qu'une autre personne") == 2
    assert f"/contests/manage/{contest_id}/entries/{ines_id}/photo.png" in queue
    flagged = page_text(client.get(f"/contests/manage/{contest_id}/moderation?flagged=1"))
    assert flagged.count('name="entry"') == 2
    photo = client.get(f"/contests/manage/{contest_id}/entries/{ines_id}/photo.png")
    assert photo.status_code == 200 and photo.mimetype == "image/png"

    # A rejection needs a reason.
    refused = client.post(f"/contests/manage/{contest_id}/moderation", data={"one": f"reject:{tom_id}"})
    assert refused.status_code == 302
    assert "Indiquez le motif du refus" in page_text(client.get(refused.location))
    db.session.rollback()
    assert db.session.get(ContestEntry, tom_id).status == "pending"
    client.post(
        f"/contests/manage/{contest_id}/moderation",
        data={"one": f"reject:{tom_id}", f"reason-{tom_id}": "Doublon de la participation de Inès"},
    )
    # The draw waits for the end and for every entry to be moderated.
    early = client.post(f"/contests/manage/{contest_id}/commit")
    assert "Le tirage n'est possible qu'après la fin du jeu." in page_text(client.get(early.location))
    response = client.post(
        f"/contests/manage/{contest_id}/moderation", data={"bulk": "approve", "entry": [str(ines_id), str(zoe_id)]}
    )
    assert "2 participation(s) validée(s)." in page_text(client.get(response.location))
    db.session.rollback()
    rejected = db.session.get(ContestEntry, tom_id)
    assert (rejected.status, rejected.rejection_reason, rejected.moderated_by_id) == (
        "rejected",
        "Doublon de la participation de Inès",
        organiser_id,
    )
    assert db.session.get(ContestEntry, ines_id).status == "accepted"

    # The contest ends: freeze and commit, then draw.
    app.config["FROZEN_NOW"] = NOW + timedelta(days=7, hours=1)
    assert client.post(f"/contests/manage/{contest_id}/commit").status_code == 302
    db.session.rollback()
    committed = db.session.get(Contest, contest_id)
    commitment, entries_hash, seed = committed.seed_commitment, committed.entries_hash, committed.seed
    public = page_text(client.get(f"/contests/{slug}"))
    assert commitment in public and entries_hash in public and seed not in public
    late = client.post(f"/contests/manage/{contest_id}/moderation", data={"bulk": "approve", "entry": [str(tom_id)]})
    assert "la modération est close" in page_text(client.get(late.location))

    assert client.post(f"/contests/manage/{contest_id}/draw").status_code == 302
    db.session.rollback()
    winner = db.session.scalar(select(ContestWinner).where(ContestWinner.reserve.is_(False)))
    assert winner.entry_id in (ines_id, zoe_id) and winner.notified_at is not None
    winner_person = db.session.get(Customer, winner.customer_id)
    [mail] = [m for m in outbox_messages(app) if "Vous avez gagné" in m["Subject"]]
    assert mail["To"] == winner_person.email
    assert "Panier garni du marché" in mail.get_body(("plain",)).get_content()

    public = page_text(client.get(f"/contests/{slug}"))
    assert seed in public and f"flask --app webapp contests verify-draw {contest_id}" in public
    expected = "Inès M. (Lyon)" if winner.entry_id == ines_id else "Gagnant·e anonyme"
    assert expected in public and "Bernard" not in public and "Martin" not in public
    detail = page_text(client.get(f"/contests/manage/{contest_id}"))
    assert winner_person.email in detail and "prévenu le" in detail

    result = runner.invoke(args=["contests", "verify-draw", str(contest_id)])
    assert result.exit_code == 0, result.output
    assert "[FAIL]" not in result.output


def test_export_is_formula_safe_and_audited(client, login, make, union):
    contest = new_contest()
    contest_id = contest.id
    client.post(f"/contests/{contest.slug}/enter", data=visitor_form(contest, town="=HYPERLINK(1)"))
    organiser = make.staff(role="organiser")
    organiser_id = organiser.id
    login(organiser)
    response = client.get(f"/contests/manage/{contest_id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2 and rows[1][3:6] == ["Inès", "Martin", "ines.martin@example.org"]
    assert "'=HYPERLINK(1)" in rows[1]
    db.session.rollback()
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert (audit.account_id, audit.object_type, audit.object_id, audit.detail["rows"]) == (
        organiser_id,
        "contest",
        contest_id,
        1,
    )


def test_figures_page(client, login, make, union):
    contest = new_contest()
    contest_id = contest.id
    for n, postcode in enumerate(("69004", "69004", "69001")):
        client.post(
            f"/contests/{contest.slug}/enter",
            data=visitor_form(contest, email=f"person{n}@example.org", postcode=postcode),
        )
    login(make.staff(role="organiser"))
    html = page_text(client.get(f"/contests/manage/{contest_id}/figures"))
    assert "Participations par jour" in html and "<svg" in html
    assert re.search(r"Nouveaux prospects</dt><dd>3<", html)
    assert re.search(r'<th scope="row">69004</th><td class="num">2</td>', html)
