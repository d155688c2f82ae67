"""Contests on a real database: every rule of entering, moderation, the verifiable draw, figures, export."""

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select, update

from tests.factories import Factories, contest_fields
from webapp.domain import cards, consent, contest_stats, contests, dedup, draws, moderation
from webapp.domain.accounts import InvalidEmail, InvalidPostcode
from webapp.domain.errors import (
    AlreadyEntered,
    ContestInvalid,
    ContestLocked,
    ContestNotOpen,
    DrawRefused,
    EntryRefused,
    InvalidImage,
    ModerationRefused,
)
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    Card,
    Consent,
    Contest,
    ContestDrawEntry,
    ContestEntry,
    ContestPrize,
    ContestRules,
    ContestWinner,
    Customer,
)

WORDING = {
    "email": "J'accepte de recevoir les offres de l'union par e-mail.",
    "sms": "J'accepte de recevoir les offres de l'union par SMS.",
    "post": "J'accepte de recevoir les offres de l'union par courrier.",
}
PRIZES = [("Panier garni", 2), ("Bon d'achat de 50 €", 1)]


@pytest.fixture(autouse=True)
def _database(request):
    """Every test runs on the test database; the concurrency tests on PostgreSQL (pg_app)."""
    if "pg_app" not in request.fixturenames:
        request.getfixturevalue("app")


def fields(now, **overrides):
    return contest_fields(now, **{"prizes": PRIZES, **overrides})


def new_contest(now, publish=True, **overrides) -> Contest:
    """A contest saved and published a day before its start; open from one day before `now` by default."""
    return Factories(db.session).contest(now, publish, **{"prizes": PRIZES, **overrides})


def version(contest) -> int:
    return contests.current_rules(db.session, contest).version


_visitor_numbers = iter(range(1, 10**6))


def visitor(contest, now, commit=True, **overrides) -> ContestEntry:
    n = next(_visitor_numbers)
    values = dict(
        first_name="Inès",
        last_name=f"Martin{n}",
        email=f"visitor{n}@example.net",
        phone="",
        postcode="69004",
        town="Lyon",
        address="",
        age_confirmed=True,
        rules_accepted=True,
        consents={"email": False, "sms": False, "post": False},
        consent_wording=WORDING,
        answer_text="",
        photo=None,
        public_name_consent=False,
        rules_version=version(contest),
    )
    values.update(overrides)
    entry = contests.enter_as_visitor(db.session, contest, now=now, **values)
    if commit:
        db.session.commit()
    return entry


def cardholder(contest, account, now, commit=True, **overrides) -> ContestEntry:
    values = dict(
        customer_id=account.customer_id,
        account_id=account.id,
        answer_text="",
        photo=None,
        age_confirmed=True,
        public_name_consent=False,
        rules_version=version(contest),
    )
    values.update(overrides)
    entry = contests.enter_as_cardholder(db.session, contest, now=now, **values)
    if commit:
        db.session.commit()
    return entry


def png_bytes(size=(40, 30), color=(200, 30, 30), fmt="PNG", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def close(contest):
    """The moment just after the contest's end."""
    return contest.ends_at + timedelta(minutes=1)


# Dates and states.


def test_states_follow_publication_and_dates(now):
    contest = new_contest(now, publish=False, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(days=1))
    assert contests.contest_state(contest, now) == "draft"
    contests.publish_contest(db.session, contest, now)
    db.session.commit()
    assert contests.contest_state(contest, now) == "upcoming"
    assert contests.contest_state(contest, contest.starts_at) == "open"
    assert contests.contest_state(contest, contest.ends_at - timedelta(microseconds=1)) == "open"
    assert contests.contest_state(contest, contest.ends_at) == "ended"


def test_entering_is_refused_before_the_start_after_the_end_and_in_a_draft(now):
    draft = new_contest(now, publish=False)
    with pytest.raises(ContestNotOpen) as refused:
        visitor(draft, now)
    assert refused.value.state == "draft"
    db.session.rollback()
    upcoming = new_contest(now, title="Plus tard", starts_at=now + timedelta(hours=2))
    with pytest.raises(ContestNotOpen) as refused:
        visitor(upcoming, now)
    assert refused.value.state == "upcoming"
    db.session.rollback()
    contest = new_contest(now, title="Bientôt fini", ends_at=now + timedelta(hours=1))
    visitor(contest, contest.ends_at - timedelta(seconds=1))
    with pytest.raises(ContestNotOpen) as refused:
        visitor(contest, contest.ends_at)
    assert refused.value.state == "ended"
    db.session.rollback()
    assert count(ContestEntry) == 1


@pytest.mark.parametrize(
    "overrides,reason",
    [
        ({"title": "  "}, "title"),
        ({"ends_at": "start"}, "dates"),
        ({"starts_at": datetime(2026, 6, 1, 10, 0)}, "dates"),
        ({"eligibility": "friends"}, "eligibility"),
        ({"entry_type": "lottery"}, "entry_type"),
        ({"entry_limit": "weekly"}, "entry_limit"),
        ({"prizes": []}, "prizes"),
        ({"prizes": [("Panier", 0)]}, "prize_quantity"),
        ({"prizes": [("  ", 1)]}, "prize_name"),
        ({"entry_type": "question", "question": "", "answer": "Lyon"}, "question"),
        ({"entry_type": "question", "question": "Quelle ville ?", "answer": " ? "}, "answer"),
        ({"minimum_age": 100}, "minimum_age"),
        ({"minimum_age": -1}, "minimum_age"),
    ],
)
def test_invalid_contests_are_refused_and_nothing_is_written(now, overrides, reason):
    values = fields(now, **overrides)
    if values["ends_at"] == "start":
        values["ends_at"] = values["starts_at"]
    with pytest.raises(ContestInvalid) as refused:
        contests.save_contest(db.session, None, now=now, **values)
    assert refused.value.reason == reason
    db.session.rollback()
    assert count(Contest) == 0 and count(ContestPrize) == 0


def test_slugs_are_unique_and_readable(now):
    first = new_contest(now, title="Grand jeu d'Été : 100 % gagnant !")
    second = new_contest(now, title="Grand jeu d'été 100 % gagnant")
    assert first.slug == "grand-jeu-d-ete-100-gagnant"
    assert second.slug == "grand-jeu-d-ete-100-gagnant-2"
    assert contests.contest_by_slug(db.session, second.slug).id == second.id


def test_listed_contests_show_open_and_recent_ones_only(now):
    open_contest = new_contest(now, title="Ouvert")
    new_contest(now, publish=False, title="Brouillon")
    old = new_contest(now, title="Ancien", starts_at=now - timedelta(days=90), ends_at=now - timedelta(days=60))
    recent = new_contest(now, title="Récent", starts_at=now - timedelta(days=20), ends_at=now - timedelta(days=10))
    listed = [c.id for c in contests.listed_contests(db.session, now)]
    assert listed == [open_contest.id, recent.id]
    assert old.id not in listed


# Rules (règlement).


def test_rules_are_generated_and_versioned_when_their_text_changes(make, now):
    make.union(name="Les Vitrines du Plateau", address="Place de la Croix-Rousse, 69004 Lyon")
    contest = new_contest(now, publish=False, starts_at=now + timedelta(days=1), minimum_age=16)
    rules = contests.current_rules(db.session, contest)
    assert rules.version == 1
    text = rules.text
    for expected in (
        "Les Vitrines du Plateau, Place de la Croix-Rousse, 69004 Lyon",
        "gratuite et sans obligation d'achat",
        "jamais subordonnée à l'acceptation de recevoir des messages commerciaux",
        "au moins 16 ans",
        "Panier garni (quantité : 2)",
        "Bon d'achat de 50 € (quantité : 1)",
        "verify-draw",
        "SHA-256",
        "Données personnelles",
    ):
        assert expected in text, expected
    assert "mardi 16 juin 2026 à 12h00" in text  # Europe/Paris, summer time

    same = dict(fields(now, starts_at=now + timedelta(days=1), minimum_age=16))
    contests.save_contest(db.session, contest, now=now, **same)
    db.session.commit()
    assert contests.current_rules(db.session, contest).version == 1  # same text: no new version

    contests.save_contest(db.session, contest, now=now, **{**same, "description": "Autre description"})
    db.session.commit()
    assert contests.current_rules(db.session, contest).version == 1  # the description is not in the rules

    contests.save_contest(db.session, contest, now=now, **{**same, "rules_extra": "Lots à retirer en boutique."})
    db.session.commit()
    current = contests.current_rules(db.session, contest)
    assert current.version == 2 and "Lots à retirer en boutique." in current.text
    assert contests.rules_version(db.session, contest, 1).text == text


def test_an_entry_made_on_outdated_rules_is_refused(now):
    contest = new_contest(now)
    shown = version(contest)
    contests.save_contest(db.session, contest, now=now, **fields(now, rules_extra="Article ajouté."))
    db.session.commit()
    with pytest.raises(EntryRefused) as refused:
        visitor(contest, now, rules_version=shown)
    assert refused.value.reason == "rules_outdated"
    db.session.rollback()
    entry = visitor(contest, now, rules_version=shown + 1)
    assert entry.rules_version == shown + 1


def test_after_the_start_only_description_rules_text_and_image_change(now):
    contest = new_contest(now)
    for change in (
        {"title": "Autre titre"},
        {"ends_at": now + timedelta(days=30)},
        {"entry_limit": "daily"},
        {"minimum_age": 12},
        {"prizes": [("Panier garni", 3)]},
    ):
        with pytest.raises(ContestLocked) as refused:
            contests.save_contest(db.session, contest, now=now, **fields(now, **change))
        assert refused.value.reason == "started"
        db.session.rollback()
    image = png_bytes()
    contests.save_contest(
        db.session, contest, now=now, **fields(now, description="Nouvelle description", rules_extra="Précision.")
    )
    contests.save_contest(db.session, contest, now=now, **fields(now, image=image))
    db.session.commit()
    db.session.refresh(contest)
    assert contest.title == "Grand jeu de l'été" and contest.description == "Gagnez des paniers du marché."
    assert contest.image_version == 1 and contest.image_png.startswith(b"\x89PNG")
    assert [(p.name, p.quantity) for p in contests.prizes_of(db.session, contest)] == PRIZES


def test_nothing_changes_after_the_commitment(make, now):
    contest = new_contest(now)
    cardholder(contest, make.shopper(), now)
    draws.commit_draw(db.session, contest, close(contest))
    db.session.commit()
    with pytest.raises(ContestLocked) as refused:
        contests.save_contest(db.session, contest, now=close(contest), **fields(now, description="Changée"))
    assert refused.value.reason == "committed"


def test_images_are_reencoded_without_metadata_and_bad_files_refused(now):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "secret@example.org")
    contest = new_contest(now, publish=False, image=png_bytes((3000, 2000), pnginfo=info))
    with Image.open(io.BytesIO(contest.image_png)) as image:
        assert image.format == "PNG" and max(image.size) <= 1200
        assert "Author" not in image.info
    exif = Image.Exif()
    exif[0x0112] = 6  # camera held upright: rotate 90° for display
    exif[0x010E] = "GPS 45.77,4.83"
    photo = png_bytes((60, 20), fmt="JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(contests.reencode_image(photo))) as upright:
        assert upright.size == (20, 60) and not upright.getexif()
    for data, reason in ((b"GIF89a....", "unreadable"), (png_bytes(fmt="GIF"), "format")):
        with pytest.raises(InvalidImage) as refused:
            contests.reencode_image(data)
        assert refused.value.reason == reason
    with pytest.raises(InvalidImage):
        contests.save_contest(db.session, contest, now=now, **fields(now, image=b"not an image"))


# Eligibility, age, rules acceptance.


def test_cardholders_only_contests_refuse_visitors_and_people_without_an_active_card(make, now):
    contest = new_contest(now, eligibility="cardholders")
    with pytest.raises(EntryRefused) as refused:
        visitor(contest, now)
    assert refused.value.reason == "cardholders_only"
    db.session.rollback()
    shopper = make.shopper()
    assert cardholder(contest, shopper, now).status == "accepted"
    lost = make.shopper(first_name="Bruno")
    cards.revoke_cards(db.session, lost.customer_id, now)
    db.session.commit()
    with pytest.raises(EntryRefused) as refused:
        cardholder(contest, lost, now)
    assert refused.value.reason == "cardholders_only"
    db.session.rollback()
    assert count(ContestEntry) == 1 and count(Customer) == 2


def test_the_minimum_age_must_be_confirmed(make, now):
    adults = new_contest(now, minimum_age=18)
    with pytest.raises(EntryRefused) as refused:
        visitor(adults, now, age_confirmed=False)
    assert refused.value.reason == "age"
    db.session.rollback()
    with pytest.raises(EntryRefused):
        cardholder(adults, make.shopper(), now, age_confirmed=False)
    db.session.rollback()
    everyone = new_contest(now, title="Pour tous", minimum_age=0)
    assert visitor(everyone, now, age_confirmed=False).age_confirmed is False
    assert count(ContestEntry) == 1


def test_visitors_must_accept_the_rules_and_give_valid_details(now):
    contest = new_contest(now)
    with pytest.raises(EntryRefused) as refused:
        visitor(contest, now, rules_accepted=False)
    assert refused.value.reason == "rules_not_accepted"
    db.session.rollback()
    with pytest.raises(EntryRefused) as refused:
        visitor(contest, now, last_name="  ")
    assert refused.value.reason == "name"
    db.session.rollback()
    with pytest.raises(InvalidEmail):
        visitor(contest, now, email="not-an-address")
    db.session.rollback()
    with pytest.raises(InvalidPostcode):
        visitor(contest, now, postcode="6900")
    db.session.rollback()
    assert count(ContestEntry) == 0 and count(Customer) == 0


def test_entering_never_needs_marketing_consent(now):
    contest = new_contest(now)
    entry = visitor(contest, now, consents={})
    assert entry.status == "accepted"
    entry = visitor(contest, now, consents={"email": False, "sms": False, "post": False})
    assert entry.status == "accepted"


# Per-person limits.


def test_once_per_contest_whatever_the_way_in(make, now):
    contest = new_contest(now)
    shopper = make.shopper(email="alice@example.org")
    cardholder(contest, shopper, now)
    with pytest.raises(AlreadyEntered) as refused:
        cardholder(contest, shopper, now + timedelta(days=1))
    assert refused.value.limit == "once"
    db.session.rollback()
    with pytest.raises(AlreadyEntered):  # the same person as a visitor (matched on the email)
        visitor(contest, now + timedelta(days=2), email="Alice@Example.org")
    db.session.rollback()
    visitor(contest, now, email="zoe@example.net")
    with pytest.raises(AlreadyEntered):
        visitor(contest, now + timedelta(hours=3), email="ZOE@example.net")
    db.session.rollback()
    assert count(ContestEntry) == 2


def test_once_a_day_in_the_union_time_zone(make, now):
    contest = new_contest(now, entry_limit="daily")
    shopper = make.shopper()
    late = datetime(2026, 6, 15, 21, 59, tzinfo=UTC)  # 23:59 in Lyon
    first = cardholder(contest, shopper, late)
    assert (first.limit_key, str(first.entered_on)) == ("2026-06-15", "2026-06-15")
    with pytest.raises(AlreadyEntered) as refused:
        cardholder(contest, shopper, datetime(2026, 6, 15, 6, 0, tzinfo=UTC))
    assert refused.value.limit == "daily"
    db.session.rollback()
    after_midnight = cardholder(contest, shopper, datetime(2026, 6, 15, 22, 1, tzinfo=UTC))  # 00:01 the 16th
    assert after_midnight.limit_key == "2026-06-16"
    assert count(ContestEntry) == 2


def _concurrent(app, count_, work):
    barrier = threading.Barrier(count_)
    outcomes = [None] * count_

    def run(index):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[index] = work(index)
            except Exception as error:  # noqa: BLE001 - recorded for the assertion
                db.session.rollback()
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_simultaneous_entries_of_one_cardholder_count_once(pg_app, now):
    make = Factories(db.session)
    contest = new_contest(now)
    shopper = make.shopper()
    contest_id, customer_id, account_id, shown = contest.id, shopper.customer_id, shopper.id, version(contest)

    def work(_index):
        entry = contests.enter_as_cardholder(
            db.session,
            db.session.get(Contest, contest_id),
            customer_id=customer_id,
            account_id=account_id,
            age_confirmed=True,
            rules_version=shown,
            now=now,
        )
        db.session.commit()
        return entry.id

    outcomes = _concurrent(pg_app, 10, work)
    assert sum(isinstance(o, int) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, AlreadyEntered) for o in outcomes if not isinstance(o, int)), outcomes
    db.session.expire_all()
    assert count(ContestEntry) == 1


def test_simultaneous_entries_of_one_new_visitor_make_one_prospect_and_one_entry(pg_app, now):
    contest = new_contest(now)
    contest_id, shown = contest.id, version(contest)

    def work(index):
        entry = contests.enter_as_visitor(
            db.session,
            db.session.get(Contest, contest_id),
            first_name="Léo",
            last_name="Simultané",
            email="Leo.Simultane@example.net" if index % 2 else "leo.simultane@example.net",
            phone="06 12 34 56 78",
            postcode="69004",
            age_confirmed=True,
            rules_accepted=True,
            consents={"email": True},
            consent_wording=WORDING,
            rules_version=shown,
            now=now,
        )
        db.session.commit()
        return entry.id

    outcomes = _concurrent(pg_app, 8, work)
    assert sum(isinstance(o, int) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, AlreadyEntered) for o in outcomes if not isinstance(o, int)), outcomes
    db.session.expire_all()
    assert count(Customer) == 1 and count(ContestEntry) == 1


# Answers.


@pytest.mark.parametrize(
    "given,correct",
    [
        ("La Croix-Rousse", True),
        ("  la   croix rousse ", True),
        ("LA CROIX-ROUSSE", True),
        ("la croix-roussé", True),
        ("La Croix Rousse !", True),
        ("Fourvière", False),
        ("La Croix", False),
    ],
)
def test_answers_are_compared_without_case_accents_or_spaces(now, given, correct):
    contest = new_contest(
        now, entry_type="question", question="Quel quartier surplombe Lyon ?", answer="la Croix-Rousse"
    )
    entry = visitor(contest, now, answer_text=given)
    assert entry.answer_correct is correct
    assert entry.status == "accepted" and entry.answer_text == " ".join(given.split())


def test_question_text_and_photo_entries_need_their_content(now):
    question = new_contest(now, entry_type="question", question="Combien ?", answer="Trois")
    text = new_contest(now, title="Texte", entry_type="text")
    photo = new_contest(now, title="Photo", entry_type="photo")
    for contest, reason in ((question, "answer"), (text, "text"), (photo, "photo")):
        with pytest.raises(EntryRefused) as refused:
            visitor(contest, now, answer_text="   ")
        assert refused.value.reason == reason
        db.session.rollback()
    with pytest.raises(EntryRefused) as refused:
        visitor(text, now, answer_text="x" * 2001)
    assert refused.value.reason == "too_long"
    db.session.rollback()
    assert visitor(text, now, answer_text="Mon plus beau souvenir du marché").status == "pending"
    entry = visitor(photo, now, photo=png_bytes((2400, 1600)))
    assert entry.status == "pending"
    with Image.open(io.BytesIO(entry.photo_png)) as image:
        assert image.format == "PNG" and image.size == (1200, 800)
    assert count(ContestEntry) == 2


# Duplicate flags.


def flags_of(entry) -> list[str]:
    db.session.refresh(entry)
    return contests.split_flags(entry.flags)


def test_gmail_dots_and_plus_tags_are_flagged_as_duplicates_on_both_entries(now):
    contest = new_contest(now)
    first = visitor(contest, now, email="jean.dupont+jeux@gmail.com")
    second = visitor(contest, now, email="JeanDupont@googlemail.com")
    other = visitor(contest, now, email="jean.dupont@example.net")
    assert flags_of(first) == ["duplicate_email"] and flags_of(second) == ["duplicate_email"]
    assert flags_of(other) == []
    assert count(Customer) == 3  # different addresses: different people, only flagged
    assert {first.status, second.status} == {"accepted"}  # shown to the moderator, not dropped


def test_same_phone_and_same_address_are_flagged(make, now):
    contest = new_contest(now)
    # Two people of the shared file who share a phone (a couple, say).
    make.customer(email="paul@example.org", phone="+33612345678")
    make.customer(email="lea@example.org", phone="+33612345678")
    paul = visitor(contest, now, email="paul@example.org", phone="06 12 34 56 78")
    lea = visitor(contest, now, email="lea@example.org", phone="0612345678")
    assert flags_of(paul) == ["duplicate_phone"] and flags_of(lea) == ["duplicate_phone"]
    home = visitor(contest, now, address="12, Bd de la Croix-Rousse", postcode="69004")
    again = visitor(contest, now, address="12 boulevard de la Croix Rousse", postcode="69004")
    elsewhere = visitor(contest, now, address="12 boulevard de la Croix Rousse", postcode="69001")
    assert flags_of(home) == ["duplicate_address"] and flags_of(again) == ["duplicate_address"]
    assert flags_of(elsewhere) == []


def test_disposable_email_domains_are_flagged(now):
    contest = new_contest(now)
    assert flags_of(visitor(contest, now, email="someone@yopmail.com")) == ["disposable_email"]
    assert flags_of(visitor(contest, now, email="x@eu.mailinator.com")) == ["disposable_email"]
    assert flags_of(visitor(contest, now, email="someone@orange.fr")) == []


def test_a_persons_own_daily_entries_are_not_duplicates(make, now):
    contest = new_contest(now, entry_limit="daily")
    shopper = make.shopper()
    cardholder(contest, shopper, now)
    second = cardholder(contest, shopper, now + timedelta(days=1))
    assert flags_of(second) == []


# Visitors become prospects, never duplicates.


def test_a_new_visitor_becomes_a_prospect_with_each_consent_recorded(now):
    contest = new_contest(now)
    entry = visitor(
        contest,
        now,
        first_name="  Éloïse ",
        last_name="Lœuvre",
        email="Eloise@Example.NET",
        phone="06 98 76 54 32",
        consents={"email": True, "sms": False, "post": False},
    )
    person = db.session.get(Customer, entry.customer_id)
    assert (person.first_name, person.last_name, person.email, person.phone, person.postcode, person.source) == (
        "Éloïse",
        "Lœuvre",
        "eloise@example.net",
        "+33698765432",
        "69004",
        "contest",
    )
    rows = db.session.scalars(select(Consent).where(Consent.customer_id == person.id).order_by(Consent.channel)).all()
    assert [(c.channel, c.granted, c.method, c.wording) for c in rows] == [
        ("email", True, "contest", WORDING["email"]),
        ("post", False, "contest", WORDING["post"]),
        ("sms", False, "contest", WORDING["sms"]),
    ]


def test_a_visitor_is_matched_on_email_or_phone_and_never_overwrites(make, now):
    contest = new_contest(now)
    by_email = make.customer(first_name="Camille", last_name=None, email="camille@example.org", postcode="69001")
    by_phone = make.customer(first_name="Hugo", last_name="Bernard", email=None, phone="+33611223344")
    one = visitor(contest, now, first_name="Usurpateur", last_name="Rivière", email="CAMILLE@example.org")
    two = visitor(contest, now, first_name="H.", last_name="B.", email="hugo@example.net", phone="06 11 22 33 44")
    assert (one.customer_id, two.customer_id) == (by_email.id, by_phone.id)
    db.session.refresh(by_email)
    db.session.refresh(by_phone)
    assert (by_email.first_name, by_email.last_name, by_email.postcode) == ("Camille", "Rivière", "69001")
    assert (by_phone.first_name, by_phone.last_name, by_phone.email) == ("Hugo", "Bernard", "hugo@example.net")
    assert by_email.source == "signup"
    assert count(Customer) == 2


def test_a_known_persons_consent_is_not_withdrawn_by_an_unticked_box(make, now):
    contest = new_contest(now)
    person = make.customer(email="fidele@example.org")
    consent.record_consents(
        db.session, person.id, {"email": True}, method="form", wordings={"email": "oui"}, now=now - timedelta(days=9)
    )
    db.session.commit()
    visitor(contest, now, email="fidele@example.org", consents={"email": False, "sms": True, "post": False})
    assert consent.current_consents(db.session, person.id) == {"email": True, "sms": True, "post": False}


def test_merged_and_erased_records_are_not_matched(make, now):
    contest = new_contest(now)
    survivor = make.customer(email="vrai@example.org")
    absorbed = make.customer(email="double@example.org")
    dedup.merge_people(db.session, survivor.id, absorbed.id, by_id=None, now=now)
    db.session.commit()
    entry = visitor(contest, now, email="double@example.org")
    assert entry.customer_id not in (absorbed.id,)


# Moderation.


def test_moderation_records_who_and_when_and_needs_a_reason_to_reject(make, now):
    contest = new_contest(now, entry_type="text")
    organiser = make.staff("organiser")
    entries = [visitor(contest, now, answer_text=f"Texte {i}") for i in range(4)]
    later = now + timedelta(hours=1)
    with pytest.raises(ModerationRefused) as refused:
        moderation.moderate(
            db.session, contest, [entries[0].id], approve=False, reason=" ", by_id=organiser.id, now=later
        )
    assert refused.value.reason == "reason_required"
    db.session.rollback()
    assert (
        moderation.moderate(
            db.session, contest, [entries[0].id, entries[1].id], approve=True, by_id=organiser.id, now=later
        )
        == 2
    )
    assert (
        moderation.moderate(
            db.session, contest, [entries[2].id], approve=False, reason="Hors sujet", by_id=organiser.id, now=later
        )
        == 1
    )
    db.session.commit()
    statuses = {e.id: (e.status, e.moderated_by_id, e.moderated_at, e.rejection_reason) for e in map(_fresh, entries)}
    assert statuses[entries[0].id] == ("accepted", organiser.id, later, "")
    assert statuses[entries[2].id] == ("rejected", organiser.id, later, "Hors sujet")
    assert statuses[entries[3].id] == ("pending", None, None, "")
    logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contest_moderate")).all()
    assert [(a.account_id, a.object_id, a.detail["status"], a.detail["entries"]) for a in logged] == [
        (organiser.id, contest.id, "accepted", sorted([entries[0].id, entries[1].id])),
        (organiser.id, contest.id, "rejected", [entries[2].id]),
    ]


def _fresh(entry):
    db.session.refresh(entry)
    return entry


def test_only_organisers_and_admins_moderate_and_only_their_contests_entries(make, now):
    contest = new_contest(now, entry_type="text")
    other = new_contest(now, title="Autre jeu", entry_type="text")
    mine = visitor(contest, now, answer_text="A")
    theirs = visitor(other, now, answer_text="B")
    for account in (make.staff("merchant"), make.shopper(first_name="Zoé")):
        with pytest.raises(ModerationRefused) as refused:
            moderation.moderate(db.session, contest, [mine.id], approve=True, by_id=account.id, now=now)
        assert refused.value.reason == "forbidden"
        db.session.rollback()
    admin = make.staff("admin")
    changed = moderation.moderate(db.session, contest, [mine.id, theirs.id], approve=True, by_id=admin.id, now=now)
    db.session.commit()
    assert changed == 1
    assert (_fresh(mine).status, _fresh(theirs).status) == ("accepted", "pending")


def test_the_queue_pages_by_id_filters_flags_and_shows_the_person(make, now):
    contest = new_contest(now, entry_type="photo")
    entries = [visitor(contest, now, photo=png_bytes(), last_name=f"Nom{i:02d}") for i in range(7)]
    flagged = visitor(contest, now, photo=png_bytes(), email="triche@yopmail.com")
    first = moderation.moderation_queue(db.session, contest.id, limit=3)
    assert [row.id for row in first] == [e.id for e in entries[:3]]
    second = moderation.moderation_queue(db.session, contest.id, limit=3, after_id=first[-1].id)
    assert [row.id for row in second] == [e.id for e in entries[3:6]]
    row = first[0]
    assert (row.first_name, row.last_name, row.postcode, row.has_photo, row.status) == (
        "Inès",
        "Nom00",
        "69004",
        True,
        "pending",
    )
    only_flagged = moderation.moderation_queue(db.session, contest.id, flagged_only=True)
    assert [(r.id, r.flags) for r in only_flagged] == [(flagged.id, "disposable_email")]
    assert moderation.queue_counts(db.session, contest.id) == {
        "pending": 8,
        "accepted": 0,
        "rejected": 0,
        "flagged": 1,
        "total": 8,
    }
    assert moderation.entry_photo(db.session, contest.id, entries[0].id).startswith(b"\x89PNG")
    assert moderation.moderation_queue(db.session, contest.id, status="accepted") == []


# The draw.


def _ended_contest_with_entries(make, now, **overrides):
    contest = new_contest(now, **overrides)
    shoppers = [make.shopper(first_name=f"Gagnant{i}") for i in range(6)]
    for shopper in shoppers:
        cardholder(contest, shopper, now)
    return contest, shoppers


def test_the_commitment_waits_for_the_end_and_for_moderation(make, now):
    contest = new_contest(now, entry_type="text")
    organiser = make.staff("organiser")
    entry = visitor(contest, now, answer_text="Mon texte")
    with pytest.raises(DrawRefused) as refused:
        draws.commit_draw(db.session, contest, now, by_id=organiser.id)
    assert refused.value.reason == "not_ended"
    db.session.rollback()
    with pytest.raises(DrawRefused) as refused:
        draws.commit_draw(db.session, contest, close(contest), by_id=organiser.id)
    assert refused.value.reason == "pending_entries"
    db.session.rollback()
    with pytest.raises(DrawRefused) as refused:
        draws.commit_draw(db.session, contest, close(contest), by_id=make.staff("merchant").id)
    assert refused.value.reason == "forbidden"
    db.session.rollback()
    with pytest.raises(DrawRefused) as refused:
        draws.run_draw(db.session, contest, close(contest))
    assert refused.value.reason == "not_committed"
    db.session.rollback()
    moderation.moderate(db.session, contest, [entry.id], approve=True, by_id=organiser.id, now=close(contest))
    draws.commit_draw(db.session, contest, close(contest), by_id=organiser.id)
    db.session.commit()
    assert contests.contest_state(contest, close(contest)) == "committed"


def test_the_frozen_list_holds_only_eligible_entries_and_cannot_change(make, now):
    contest = new_contest(now, entry_type="question", question="Quelle rivière ?", answer="Saône")
    organiser = make.staff("organiser")
    right = visitor(contest, now, answer_text="saone")
    wrong = visitor(contest, now, answer_text="Rhône")
    rejected = visitor(contest, now, answer_text="Saône")
    moderation.moderate(db.session, contest, [rejected.id], approve=False, reason="Fraude", by_id=organiser.id, now=now)
    erased = visitor(contest, now, answer_text="Saône")
    db.session.execute(update(Customer).where(Customer.id == erased.customer_id).values(erased_at=now))
    db.session.commit()
    at = close(contest)
    draws.commit_draw(db.session, contest, at, by_id=organiser.id)
    db.session.commit()
    assert draws.frozen_list(db.session, contest.id) == [(right.id, right.customer_id)]
    assert contest.entries_hash == draws.frozen_list_hash([(right.id, right.customer_id)])
    assert len(contest.seed_commitment) == 64 and contest.seed_commitment != contest.seed
    assert draws.seed_commitment(bytes.fromhex(contest.seed)) == contest.seed_commitment

    with pytest.raises(ModerationRefused) as refused:
        moderation.moderate(db.session, contest, [wrong.id], approve=True, by_id=organiser.id, now=at)
    assert refused.value.reason == "committed"
    db.session.rollback()
    with pytest.raises(DrawRefused) as again:
        draws.commit_draw(db.session, contest, at, by_id=organiser.id)
    assert again.value.reason == "already_committed"
    db.session.rollback()
    with pytest.raises(ContestNotOpen):
        visitor(contest, at, answer_text="Saône")
    db.session.rollback()
    assert draws.frozen_list(db.session, contest.id) == [(right.id, right.customer_id)]


def test_the_draw_gives_each_prize_unit_then_reserves_and_nobody_twice(make, now):
    contest = new_contest(now, entry_limit="daily")
    organiser = make.staff("organiser")
    people = [make.shopper(first_name=f"P{i}") for i in range(5)]
    for day in range(4):
        for shopper in people:
            cardholder(contest, shopper, now + timedelta(days=day))
    at = close(contest)
    draws.commit_draw(db.session, contest, at, by_id=organiser.id)
    winners = draws.run_draw(db.session, contest, at, reserves=1, by_id=organiser.id)
    db.session.commit()
    prizes = contests.prizes_of(db.session, contest)
    assert [(w.rank, w.prize_id, w.reserve) for w in winners] == [
        (1, prizes[0].id, False),
        (2, prizes[0].id, False),
        (3, prizes[1].id, False),
        (4, None, True),
    ]
    assert len({w.customer_id for w in winners}) == 4
    assert contests.contest_state(contest, at) == "drawn"
    with pytest.raises(DrawRefused) as refused:
        draws.run_draw(db.session, contest, at)
    assert refused.value.reason == "already_drawn"
    db.session.rollback()
    assert draws.verify_draw(db.session, contest.id).ok


def test_fewer_people_than_prizes_gives_each_person_one_prize(make, now):
    contest = new_contest(now, prizes=[("Lot", 5)])
    make_two = [make.shopper(first_name="A"), make.shopper(first_name="B")]
    for shopper in make_two:
        cardholder(contest, shopper, now)
    draws.commit_draw(db.session, contest, close(contest))
    winners = draws.run_draw(db.session, contest, close(contest))
    db.session.commit()
    assert sorted(w.customer_id for w in winners) == sorted(s.customer_id for s in make_two)
    assert not any(w.reserve for w in winners)
    assert draws.verify_draw(db.session, contest.id).ok


def test_two_records_merged_into_one_person_cannot_both_win(make, now):
    contest = new_contest(now, prizes=[("Lot", 2)])
    first = make.customer(email="un@example.org")
    second = make.customer(email="deux@example.org")
    visitor(contest, now, email="un@example.org")
    visitor(contest, now, email="deux@example.org")
    dedup.merge_people(db.session, first.id, second.id, by_id=None, now=now)
    db.session.commit()
    draws.commit_draw(db.session, contest, close(contest))
    assert {person for _entry, person in draws.frozen_list(db.session, contest.id)} == {first.id}
    winners = draws.run_draw(db.session, contest, close(contest))
    db.session.commit()
    assert [w.customer_id for w in winners] == [first.id]


def test_no_eligible_entry_means_nothing_to_commit(now):
    contest = new_contest(now)
    with pytest.raises(DrawRefused) as refused:
        draws.commit_draw(db.session, contest, close(contest))
    assert refused.value.reason == "no_eligible_entries"
    db.session.rollback()
    assert count(ContestDrawEntry) == 0 and db.session.get(Contest, contest.id).committed_at is None


def _drawn(make, now, **overrides):
    contest, shoppers = _ended_contest_with_entries(make, now, **overrides)
    draws.commit_draw(db.session, contest, close(contest))
    draws.run_draw(db.session, contest, close(contest), reserves=1)
    db.session.commit()
    return contest, shoppers


def test_verify_draw_confirms_an_honest_draw(make, runner, now):
    contest, _ = _drawn(make, now)
    result = runner.invoke(args=["contests", "verify-draw", str(contest.id)])
    assert result.exit_code == 0, result.output
    assert "[FAIL]" not in result.output and result.output.count("[OK]") == 4
    assert contest.seed in result.output and "draw is verified" in result.output


def test_verify_draw_detects_a_tampered_winner(make, runner, now):
    contest, _ = _drawn(make, now)
    winners = db.session.scalars(select(ContestWinner).where(ContestWinner.contest_id == contest.id)).all()
    drawn = {w.entry_id for w in winners}
    loser = db.session.scalar(
        select(ContestEntry).where(ContestEntry.contest_id == contest.id, ContestEntry.id.not_in(drawn))
    )
    winners[0].entry_id, winners[0].customer_id = loser.id, loser.customer_id
    db.session.commit()
    result = runner.invoke(args=["contests", "verify-draw", str(contest.id)])
    assert result.exit_code == 1, result.output
    assert "[FAIL] winners recomputed from the seed: rank 1" in result.output
    assert "does NOT match" in result.output


def test_verify_draw_detects_a_tampered_seed_or_list(make, runner, now):
    contest, _ = _drawn(make, now)
    honest_seed = contest.seed
    contest.seed = "00" * 32
    db.session.commit()
    result = runner.invoke(args=["contests", "verify-draw", str(contest.id)])
    assert result.exit_code == 1 and "[FAIL] seed matches the commitment" in result.output
    contest.seed = honest_seed
    db.session.execute(
        update(ContestDrawEntry)
        .where(ContestDrawEntry.contest_id == contest.id, ContestDrawEntry.position == 0)
        .values(customer_id=ContestDrawEntry.customer_id + 1000)
    )
    db.session.commit()
    result = runner.invoke(args=["contests", "verify-draw", str(contest.id)])
    assert result.exit_code == 1 and "[FAIL] frozen list matches the hash" in result.output
    missing = runner.invoke(args=["contests", "verify-draw", "999999"])
    assert missing.exit_code == 1 and "no contest" in missing.output


def test_verify_draw_refuses_a_contest_not_drawn_yet(make, runner, now):
    contest, _ = _ended_contest_with_entries(make, now)
    draws.commit_draw(db.session, contest, close(contest))
    db.session.commit()
    result = runner.invoke(args=["contests", "verify-draw", str(contest.id)])
    assert result.exit_code == 1 and "not been committed and drawn" in result.output


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.lists(
        st.tuples(
            st.integers(0, 5),  # person
            st.sampled_from(["accepted", "rejected", "pending"]),
            st.sampled_from([True, False]),  # right answer
        ),
        min_size=1,
        max_size=25,
    ),
    units=st.integers(1, 4),
)
def test_property_only_eligible_entries_and_one_prize_per_person(app, now, entries, units):
    """Random statuses, answers and daily entries: winners are always eligible, distinct people, verified."""
    make = Factories(db.session)
    contest = new_contest(
        now, entry_type="question", question="Q ?", answer="oui", entry_limit="daily", prizes=[("Lot", units)]
    )
    organiser = make.staff("organiser")
    people = [make.customer(email=f"p{i}-{contest.id}@example.org") for i in range(6)]
    days: dict[int, int] = {}
    eligible = set()
    for person, status, right in entries:
        day = days[person] = days.get(person, -1) + 1
        if day > 6:
            continue
        entry = visitor(
            contest, now + timedelta(days=day), email=people[person].email, answer_text="oui" if right else "non"
        )
        if status != "accepted":
            moderation.moderate(
                db.session, contest, [entry.id], approve=False, reason="test", by_id=organiser.id, now=now
            )
            db.session.commit()
        elif right:
            eligible.add(entry.id)
    if not eligible:
        with pytest.raises(DrawRefused):
            draws.commit_draw(db.session, contest, close(contest))
        db.session.rollback()
        return
    draws.commit_draw(db.session, contest, close(contest))
    winners = draws.run_draw(db.session, contest, close(contest))
    db.session.commit()
    assert {w.entry_id for w in winners} <= eligible
    assert len({w.customer_id for w in winners}) == len(winners)
    eligible_people = {db.session.get(ContestEntry, entry_id).customer_id for entry_id in eligible}
    assert sum(not w.reserve for w in winners) == min(units, len(eligible_people))
    assert draws.verify_draw(db.session, contest.id).ok


def test_public_winners_show_a_name_only_with_consent(make, now):
    make.union(name="Union", address="")
    from webapp.models import ZonePostcode

    db.session.add(ZonePostcode(postcode="69001", label="Lyon 1er", residents=30000))
    db.session.commit()
    contest = new_contest(now, prizes=[("Lot", 3)])
    visitor(contest, now, first_name="Amélie", last_name="poulain", public_name_consent=True, town="Lyon 4e")
    visitor(contest, now, first_name="Jules", last_name="Vernes", public_name_consent=True, town="", postcode="69001")
    visitor(contest, now, first_name="Secret", last_name="Agent", public_name_consent=False)
    assert draws.public_winners(db.session, contest) == []
    draws.commit_draw(db.session, contest, close(contest))
    draws.run_draw(db.session, contest, close(contest), reserves=0)
    db.session.commit()
    shown = sorted(w.display for w in draws.public_winners(db.session, contest))
    assert shown == ["Amélie P. (Lyon 4e)", "Gagnant·e anonyme", "Jules V. (Lyon 1er)"]


def test_my_entries_show_status_and_outcome(make, now):
    contest = new_contest(now, prizes=[("Lot", 1)])
    other = new_contest(now, title="Autre", entry_type="text")
    shopper = make.shopper()
    cardholder(contest, shopper, now)
    cardholder(other, shopper, now, answer_text="Un texte")
    draws.commit_draw(db.session, contest, close(contest))
    draws.run_draw(db.session, contest, close(contest))
    db.session.commit()
    rows = contests.entries_of_customer(db.session, shopper.customer_id)
    assert [(r.title, r.status, bool(r.won), r.prize_name) for r in rows] == [
        ("Autre", "pending", False, None),
        ("Grand jeu de l'été", "accepted", True, "Lot"),
    ]


# Figures and export.


def test_figures_match_hand_counted_values(make, now):
    earlier = new_contest(now, title="Jeu précédent")
    contest = new_contest(now, entry_limit="daily")
    returning = visitor(earlier, now, email="revient@example.net", postcode="69001")  # first entry elsewhere
    shopper = make.shopper(postcode="69004")
    db.session.execute(
        update(Card).where(Card.customer_id == shopper.customer_id).values(issued_at=now - timedelta(days=60))
    )
    known = make.customer(email="connu@example.org", postcode="69009")
    day1, day2, day3 = now, now + timedelta(days=1), now + timedelta(days=2)
    new_a = visitor(contest, day1, email="a@example.net", postcode="69004")
    visitor(contest, day2, email="a@example.net", postcode="69004")  # same person, next day
    visitor(contest, day1, email="b@example.net", postcode="69001")
    visitor(contest, day2, email="connu@example.org", postcode="69009")  # known person, not a new prospect
    visitor(contest, day3, email="revient@example.net", postcode="69001")  # prospect of the earlier contest
    cardholder(contest, shopper, day3)
    # After entering, prospect A takes a card; the known person had one before entering.
    cards.issue_card(db.session, new_a.customer_id, day2 + timedelta(hours=2))
    cards.issue_card(db.session, known.id, now - timedelta(days=30))
    db.session.commit()

    figures = contest_stats.contest_figures(db.session, contest)
    assert (figures.entries, figures.people, figures.accepted) == (6, 5, 6)
    assert contest_stats.entries_per_day(db.session, contest) == [
        (day1.date(), 2),
        (day2.date(), 2),
        (day3.date(), 2),
    ]
    assert contest_stats.new_prospects(db.session, contest) == 2  # a and b
    assert contest_stats.new_prospects(db.session, earlier) == 1  # revient
    assert contest_stats.entrants_who_took_a_card(db.session, contest) == 1
    assert contest_stats.entrants_by_postcode(db.session, contest) == [("69001", 2), ("69004", 2), ("69009", 1)]
    assert returning.customer_id != new_a.customer_id


def test_export_is_safe_against_formula_injection_and_audited(make, now):
    contest = new_contest(now, entry_type="text")
    organiser = make.staff("organiser")
    visitor(contest, now, first_name='=HYPERLINK("http://x")', last_name="@SUM(A1)", answer_text="+1+2")
    visitor(contest, now, first_name="Nina", last_name="Normal", answer_text="-cmd|' /C calc'!A0")
    data, rows = contest_stats.export_entries(db.session, contest, by_id=organiser.id, now=now)
    db.session.commit()
    assert rows == 2 and data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == list(contest_stats.EXPORT_HEADER)
    first, second = table[1], table[2]
    assert first[3] == '\'=HYPERLINK("http://x")' and first[4] == "'@SUM(A1)" and first[9] == "'+1+2"
    assert second[9] == "'-cmd|' /C calc'!A0" and second[3] == "Nina"
    assert not any(cell[:1] in "=+-@" for row in table[1:] for cell in row if cell)
    audit_entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert (audit_entry.account_id, audit_entry.object_id, audit_entry.detail["rows"]) == (organiser.id, contest.id, 2)


def test_rules_rows_are_kept_per_version(now):
    contest = new_contest(now, publish=False)
    assert count(ContestRules) == 1 and contests.current_rules(db.session, contest).contest_id == contest.id
