"""A contest from entry to verified draw, on phones: a visitor enters a photo contest, the organiser approves
the entry, the contest ends, the organiser commits and draws, the winner's email reaches a real SMTP server,
and `flask --app webapp contests verify-draw` confirms the draw from the published data."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.e2e.support import PHONE, axe_violations, collect_errors, layout_width, sign_in
from tests.factories import PASSWORD
from tests.smtp import smtp_server
from webapp.extensions import db

pytestmark = pytest.mark.e2e


@pytest.fixture
def smtp(live):
    """A real SMTP server for the live app, which mails through it during the test only."""
    with smtp_server() as (url, handler):
        live.app.config["SMTP_URL"] = url
        yield handler
        live.app.config["SMTP_URL"] = ""


@pytest.fixture
def clock(live):
    """Move the live app's clock (the app's FROZEN_NOW); back to the real time afterwards."""

    def set_to(moment: datetime) -> None:
        live.app.config["FROZEN_NOW"] = moment

    yield set_to
    live.app.config.pop("FROZEN_NOW", None)


def holiday_photo(path) -> str:
    """A PNG made for the test: a sun over the sea."""
    image = Image.new("RGB", (900, 600), (70, 150, 220))
    drawing = ImageDraw.Draw(image)
    drawing.rectangle((0, 380, 900, 600), fill=(20, 80, 150))
    drawing.ellipse((620, 60, 780, 220), fill=(250, 210, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def page_problems(page) -> list[str]:
    width = layout_width(page)
    problems = [] if width["scrollWidth"] <= width["innerWidth"] else [f"horizontal overflow: {width}"]
    return problems + axe_violations(page)


def test_a_visitor_wins_a_photo_contest_and_the_draw_is_verified(
    live, make, page, browser, smtp, clock, runner, tmp_path
):
    moment = datetime.now(UTC)
    make.union(name="Vitrines des Pentes", address="1 place Sathonay, 69001 Lyon")
    contest = make.contest(
        moment,
        title="Concours photo de l'été",
        description="Envoyez votre plus belle photo de vacances.",
        ends_at=moment + timedelta(days=1),
        entry_type="photo",
        prizes=[("Un panier garni du marché", 1)],
    )
    organiser = make.staff(role="organiser")
    db.session.commit()
    contest_id, slug, ends_at, organiser_email = contest.id, contest.slug, contest.ends_at, organiser.email
    db.session.rollback()  # end the read transaction: SQLite would keep the live server waiting

    # A visitor without an account enters from their phone, with a photo.
    errors = collect_errors(page)
    page.goto("/contests/")
    page.get_by_role("link", name="Concours photo de l'été").click()
    expect(page).to_have_url(f"{live.url}/contests/{slug}")
    page.get_by_label("Prénom", exact=True).fill("Léa")
    page.get_by_label("Nom", exact=True).fill("Girard")
    page.get_by_label("Adresse e-mail", exact=True).fill("lea.girard@example.org")
    page.get_by_label("Code postal", exact=True).fill("69001")
    page.get_by_label("Ville (facultatif)").fill("Lyon")
    page.get_by_label("Votre photo (PNG ou JPEG, 2 Mo au plus)").set_input_files(holiday_photo(tmp_path / "mer.png"))
    page.get_by_label("Je confirme avoir au moins 18 ans.").check()
    page.get_by_label(re.compile("^J'accepte, si je gagne, que mon prénom")).check()
    marketing = page.get_by_role("group", name=re.compile("Recevoir nos offres"))
    for box in marketing.get_by_role("checkbox").all():
        expect(box).not_to_be_checked()
    page.get_by_label("J'ai lu et j'accepte le règlement du jeu.").check()
    page.get_by_role("button", name="Je participe").click()
    expect(page.get_by_role("heading", name="Participation enregistrée")).to_be_visible()
    expect(page.get_by_text("Elle sera vérifiée par notre équipe avant le tirage au sort.")).to_be_visible()
    assert errors == []

    # The organiser approves the entry from the moderation queue (another phone).
    staff = browser.new_context(**PHONE, base_url=live.url).new_page()
    sign_in(staff, organiser_email, PASSWORD)
    expect(staff).to_have_url(f"{live.url}/contests/manage/")
    staff.get_by_role("link", name="Concours photo de l'été").click()
    staff.get_by_role("link", name=re.compile(r"Modération \(1 en attente\)")).click()
    entry = staff.locator(".queue > li")
    expect(entry).to_have_count(1)
    expect(entry.get_by_role("img")).to_be_visible()
    assert entry.get_by_role("img").evaluate("img => img.naturalWidth") > 0  # the photo itself is served
    entry.get_by_role("checkbox").check()
    staff.get_by_role("button", name="Valider la sélection").click()
    expect(staff.get_by_text("1 participation(s) validée(s).")).to_be_visible()
    expect(staff.locator(".queue > li")).to_have_count(0)

    # The contest ends; the organiser freezes the list (the commitment is published), then draws.
    clock(ends_at + timedelta(minutes=5))
    staff.goto(f"/contests/manage/{contest_id}")
    staff.get_by_role("button", name="Figer la liste et publier l'engagement").click()
    expect(staff.get_by_text("Liste figée et engagement publié")).to_be_visible()
    page.goto(f"/contests/{slug}")
    commitment = page.locator(".hashes code").first.inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    staff.get_by_role("button", name="Lancer le tirage").click()
    expect(staff.get_by_text("Tirage effectué. 1 gagnant(s) prévenu(s) par e-mail.")).to_be_visible()
    expect(staff.locator(".winners li")).to_contain_text("Léa Girard")
    expect(staff.locator(".winners li")).to_contain_text("prévenu le")

    # The winner's email reached the SMTP server (after the entry's confirmation).
    subjects = [(to, message["Subject"]) for _sender, to, message in smtp.messages]
    assert [to for to, _subject in subjects] == [["lea.girard@example.org"], ["lea.girard@example.org"]], subjects
    won = smtp.messages[1][2]
    assert won["Subject"] == "Vous avez gagné au jeu « Concours photo de l'été » · Vitrines des Pentes"
    text = won.get_body(("plain",)).get_content()
    assert "Un panier garni du marché" in text and f"{live.url}/contests/{slug}" in text
    assert "Vitrines des Pentes" in won.get_body(("html",)).get_content()

    # The public page shows the seed, the winner as agreed, and how to verify; still fine at phone width.
    page.reload()
    hashes = page.locator(".hashes code")
    expect(hashes).to_have_count(3)
    assert hashes.nth(0).inner_text() == commitment
    seed = hashes.nth(2).inner_text()
    expect(page.locator(".winners li")).to_have_text("Léa G. (Lyon) — Un panier garni du marché")
    expect(page.get_by_text(f"flask --app webapp contests verify-draw {contest_id}")).to_be_visible()
    assert page_problems(page) == []

    # Anyone with the published data can recompute the draw.
    db.session.rollback()
    result = runner.invoke(args=["contests", "verify-draw", str(contest_id)])
    assert result.exit_code == 0, result.output
    assert seed in result.output and "[FAIL]" not in result.output
    staff.context.close()
