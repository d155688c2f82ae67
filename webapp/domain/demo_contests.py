"""The demo union's contests: one open now, one ended and drawn, so that every page has something to show.

They are made through the same domain functions as the organiser's pages (rules generated,
entries checked and flagged, the draw committed then drawn), with the clock set to the
moments when each step would have happened.
"""

import io
import random
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain import contests, draws
from webapp.models import Account, Customer

OPEN_DAYS = (6, 24)  # started 6 days ago, ends in 24 days
PAST_DAYS = (50, 12)  # ran from 50 to 12 days ago, drawn the day after it ended


def _banner(background: tuple[int, int, int], accent: tuple[int, int, int]) -> bytes:
    """A plain illustration: shop fronts under festive lights."""
    image = Image.new("RGB", (1200, 675), background)
    drawing = ImageDraw.Draw(image)
    for index, left in enumerate(range(60, 1140, 180)):
        drawing.rectangle((left, 300, left + 150, 640), fill=(250, 246, 238))
        drawing.rectangle((left + 15, 340, left + 135, 480), fill=accent if index % 2 else (40, 90, 120))
        drawing.rectangle((left + 55, 520, left + 95, 640), fill=(90, 60, 40))
    for x in range(0, 1200, 40):
        drawing.ellipse((x, 120 + (x % 80) // 4, x + 18, 138 + (x % 80) // 4), fill=(255, 214, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _entrants(session: Session, rng: random.Random, count: int) -> list[tuple[int, int]]:
    """(customer id, account id) of `count` demo shoppers, never the demo shopper used in the README."""
    rows = session.execute(
        select(Customer.id, Account.id)
        .join(Account, Account.customer_id == Customer.id)
        .where(Account.role == "shopper")
        .order_by(Customer.id)
    ).all()
    return rng.sample(rows[1:], min(count, len(rows) - 1))


def _enter_all(session, rng, contest, entrants, moment_of, answer_of) -> None:
    version = contests.current_rules(session, contest).version
    for customer_id, account_id in entrants:
        contests.enter_as_cardholder(
            session,
            contest,
            customer_id=customer_id,
            account_id=account_id,
            answer_text=answer_of(),
            age_confirmed=True,
            public_name_consent=rng.random() < 0.6,
            rules_version=version,
            now=moment_of(),
            town="Lyon",
        )


def load_demo_contests(session: Session, rng: random.Random, *, organiser_id: int, now: datetime) -> None:
    started, ends = now - timedelta(days=OPEN_DAYS[0]), now + timedelta(days=OPEN_DAYS[1])
    christmas = contests.save_contest(
        session,
        None,
        title="Le grand jeu de Noël des Vitrines",
        description=(
            "Tentez votre chance : un panier garni des commerçants du plateau et des bons d'achat valables "
            "dans toutes les boutiques de l'union. Un seul clic pour participer !"
        ),
        starts_at=started,
        ends_at=ends,
        eligibility="everyone",
        entry_type="draw",
        question="",
        answer="",
        entry_limit="once",
        minimum_age=18,
        rules_extra="Les lots sont à retirer à la boutique de l'union avant le 31 janvier.",
        prizes=[("Un panier garni des commerçants", 1), ("Un bon d'achat de 30 €", 5)],
        image=_banner((122, 31, 61), (184, 134, 11)),
        by_id=organiser_id,
        now=started - timedelta(days=2),
    )
    contests.publish_contest(session, christmas, started - timedelta(days=1))
    _enter_all(
        session,
        rng,
        christmas,
        _entrants(session, rng, 45),
        lambda: started + timedelta(minutes=rng.randrange(int((now - started).total_seconds() // 60))),
        lambda: "",
    )

    past_start, past_end = now - timedelta(days=PAST_DAYS[0]), now - timedelta(days=PAST_DAYS[1])
    quiz = contests.save_contest(
        session,
        None,
        title="Quiz de la rentrée : connaissez-vous le plateau ?",
        description="Une question sur le quartier, et trois dîners pour deux à gagner chez nos restaurateurs.",
        starts_at=past_start,
        ends_at=past_end,
        eligibility="cardholders",
        entry_type="question",
        question="Combien de boutiques compte l'union des Vitrines de la Croix-Rousse ?",
        answer="8",
        entry_limit="once",
        minimum_age=18,
        rules_extra="",
        prizes=[("Un dîner pour deux", 3)],
        image=_banner((31, 58, 92), (200, 80, 60)),
        by_id=organiser_id,
        now=past_start - timedelta(days=3),
    )
    contests.publish_contest(session, quiz, past_start - timedelta(days=2))
    span = int((past_end - past_start).total_seconds() // 60)
    _enter_all(
        session,
        rng,
        quiz,
        _entrants(session, rng, 70),
        lambda: past_start + timedelta(minutes=rng.randrange(span)),
        lambda: rng.choice(["8"] * 8 + ["huit", "7", "10"]),
    )
    draws.commit_draw(session, quiz, past_end + timedelta(hours=20), by_id=organiser_id)
    draws.run_draw(session, quiz, past_end + timedelta(hours=21), by_id=organiser_id)
