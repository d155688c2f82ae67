"""The main pages on a small phone (360 px): no sideways scrolling, no WCAG 2.1 A/AA violation
found by axe-core; and the card works without JavaScript and stays light."""

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import new_key
from tests.e2e.support import axe_violations, layout_width, sign_in
from tests.factories import PASSWORD
from webapp.domain import cards, contests, visits
from webapp.domain.visits import CreditRules
from webapp.extensions import db

NARROW = {"viewport": {"width": 360, "height": 740}}
pytestmark = [pytest.mark.e2e, pytest.mark.browser_context_args(**NARROW)]  # for `page` and `new_context`
CARD_PAGE_BUDGET = 30 * 1024  # bytes: HTML + app.css + brand.css, uncompressed


@dataclass(frozen=True)
class People:
    shopper_email: str
    merchant_email: str
    card_number: str
    card_code: str


@pytest.fixture
def people(live, make) -> People:
    """A shop with its merchant, and a shopper with a card that already has one visit."""
    shop = make.shop(name="Fromagerie de la Croix-Rousse")
    merchant = make.staff(shop=shop)
    shopper = make.shopper(first_name="Camille")
    card = make.active_card(shopper)
    visits.credit_visit(
        db.session,
        card=card,
        shop_id=shop.id,
        amount_cents=1250,
        idempotency_key=new_key(),
        now=datetime.now(UTC),
        rules=CreditRules(points_per_euro=1, cooldown_minutes=10),
        credited_by_id=merchant.id,
    )
    db.session.commit()
    people = People(
        shopper_email=shopper.email,
        merchant_email=merchant.email,
        card_number=card.number,
        card_code=cards.card_code(live.app.config["CARD_SIGNING_KEY"], card.number, card.version),
    )
    db.session.rollback()  # end the read transaction: SQLite would keep the live server waiting
    return people


def check(page, path: str) -> list[str]:
    """Problems of one page: HTTP error, horizontal overflow, axe violations."""
    response = page.goto(path)
    problems = []
    if response is None or response.status >= 400:
        problems.append(f"HTTP {response.status if response else '?'}")
    width = layout_width(page)
    if width["innerWidth"] != NARROW["viewport"]["width"] or width["scrollWidth"] > width["innerWidth"]:
        problems.append(f"horizontal overflow: {width}")
    problems += axe_violations(page)
    return [f"{path} {problem}" for problem in problems]


def assert_no_problems(problems: list[str]) -> None:
    assert not problems, "\n" + "\n".join(problems)


def test_public_pages(live, page):
    assert_no_problems([problem for path in ("/", "/auth/signup", "/auth/login") for problem in check(page, path)])


def test_shopper_pages(people, page):
    sign_in(page, people.shopper_email, PASSWORD)
    problems = check(page, "/card")
    expect(page.locator(".visits li")).to_have_count(1)
    problems += check(page, "/account")
    assert_no_problems(problems)


def test_merchant_pages(people, page):
    sign_in(page, people.merchant_email, PASSWORD)
    problems = check(page, "/counter/")
    expect(page.get_by_role("button", name="Scanner la carte")).to_be_visible()  # camera API present
    problems += check(page, f"/c/{people.card_code}")
    expect(page.get_by_label("Montant de l'achat (€)")).to_be_visible()
    problems += check(page, "/counter/today")
    expect(page.locator(".visits li")).to_have_count(1)
    assert_no_problems(problems)


def test_card_without_javascript_is_complete_and_light(people, live, new_context):
    context = new_context(java_script_enabled=False)
    context.route("**/*", lambda route: route.continue_())  # routing turns the HTTP cache off
    page = context.new_page()
    sign_in(page, people.shopper_email, PASSWORD)

    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/card")
    page.wait_for_load_state("load")

    expect(page.locator("figure.qr svg")).to_be_visible()
    number = people.card_number
    expect(page.locator(".card-number")).to_have_text(f"{number[:4]} {number[4:8]} {number[8:]}")
    expect(page.locator("[data-testid=points]")).to_have_text("12 points")

    sizes = {response.url.removeprefix(live.url): len(response.body()) for response in responses}
    assert {"/card", "/static/css/app.css", "/brand.css"} <= sizes.keys(), sizes
    assert not [url for url in sizes if url.endswith(".js")], sizes
    assert sum(sizes.values()) < CARD_PAGE_BUDGET, sizes


def poster_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class ContestWorld:
    slug: str
    contest_id: int
    shopper_email: str
    organiser_email: str


@pytest.fixture
def contest_world(live, make) -> ContestWorld:
    """An open photo contest with a poster, a shopper's entry (flagged as a duplicate) and an organiser."""
    moment = datetime.now(UTC)
    contest = make.contest(
        moment,
        title="Le grand jeu photo des Pentes de la Croix-Rousse",
        description="Photographiez votre vitrine préférée.\nUn panier garni par semaine à gagner.",
        entry_type="photo",
        rules_extra="Les lots sont à retirer à la boutique du marché.",
        prizes=[("Panier garni de la fromagerie et de la boulangerie", 2), ("Bon d'achat", 1)],
        image=poster_png(),
    )
    shopper = make.shopper(first_name="Camille", email="camille.durand@gmail.com")
    contests.enter_as_cardholder(
        db.session,
        contest,
        customer_id=shopper.customer_id,
        account_id=shopper.id,
        photo=poster_png(),
        answer_text="Ma vitrine préférée, rue d'Austerlitz.",
        age_confirmed=True,
        rules_version=contests.current_rules(db.session, contest).version,
        now=moment,
    )
    contests.enter_as_visitor(
        db.session,
        contest,
        first_name="Camille",
        last_name="Durand",
        email="camilledurand+jeu@gmail.com",
        postcode="69001",
        age_confirmed=True,
        rules_accepted=True,
        photo=poster_png(),
        rules_version=contests.current_rules(db.session, contest).version,
        now=moment,
    )
    db.session.commit()
    world = ContestWorld(
        slug=contest.slug,
        contest_id=contest.id,
        shopper_email=shopper.email,
        organiser_email=make.staff(role="organiser").email,
    )
    db.session.rollback()
    return world


def check_current(page, label: str) -> list[str]:
    """The same checks as `check`, on the page as it is now (after a form was sent)."""
    width = layout_width(page)
    problems = []
    if width["innerWidth"] != NARROW["viewport"]["width"] or width["scrollWidth"] > width["innerWidth"]:
        problems.append(f"horizontal overflow: {width}")
    problems += axe_violations(page)
    return [f"{label} {problem}" for problem in problems]


def test_contest_public_pages(contest_world, page):
    slug = contest_world.slug
    problems = check(page, "/contests/")
    problems += check(page, f"/contests/{slug}")
    expect(page.get_by_label("Adresse e-mail")).to_be_visible()
    page.get_by_role("button", name="Je participe").click()  # nothing filled in: the errors are shown
    expect(page.locator(".field.has-error").first).to_be_visible()
    problems += check_current(page, f"/contests/{slug} (errors)")
    problems += check(page, f"/contests/{slug}/rules")
    assert_no_problems(problems)


def test_contest_shopper_pages(contest_world, page):
    sign_in(page, contest_world.shopper_email, PASSWORD)
    problems = check(page, f"/contests/{contest_world.slug}")
    problems += check(page, "/contests/mine")
    expect(page.locator(".entries li")).to_have_count(1)
    assert_no_problems(problems)


def test_contest_organiser_pages(contest_world, page):
    sign_in(page, contest_world.organiser_email, PASSWORD)
    base = f"/contests/manage/{contest_world.contest_id}"
    problems = check(page, "/contests/manage/")
    problems += check(page, "/contests/manage/new")
    problems += check(page, f"{base}/edit")
    problems += check(page, base)
    problems += check(page, f"{base}/moderation")
    expect(page.locator(".queue > li")).to_have_count(2)
    expect(page.locator(".queue .flags li").first).to_be_visible()
    problems += check(page, f"{base}/figures")
    assert_no_problems(problems)
