"""A believable demo union in Lyon: 8 shops, staff, 200 shoppers, 12 months of visits, two contests
(one open, one drawn) and today's RFM profiles.

Visits follow realistic rhythms: each shopper has a favourite shop or two and a
personal pace; shops keep their own opening days and hours; Saturdays and
December are busier; some shoppers drift away, others joined recently.
Everything is inserted with Core bulk statements and reproducible from a seed.
"""

import io
import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from webapp.domain import branding, cards, passwords, rfm
from webapp.domain.demo_contests import load_demo_contests
from webapp.domain.points import points_for
from webapp.models import Account, Consent, Customer, PointsEntry, Shop, Union, Visit

DEMO_PASSWORD = "quartier-demo-2026"  # noqa: S105 - printed demo login
ADMIN_EMAIL = "admin@demo.quartier.fr"
ORGANISER_EMAIL = "jeux@demo.quartier.fr"
SHOPPER_EMAIL = "camille@demo.quartier.fr"
ZONE = ZoneInfo("Europe/Paris")

# slug, name, category, address, opening weekdays (Mon=0), hours, amount range (euros), weight
SHOPS = [
    (
        "boulangerie-gros-caillou",
        "Boulangerie du Gros Caillou",
        "Boulangerie",
        "12 boulevard de la Croix-Rousse",
        (1, 2, 3, 4, 5, 6),
        (7, 13),
        (2, 18),
        6.0,
    ),
    (
        "fromagerie-des-pentes",
        "Fromagerie des Pentes",
        "Fromagerie",
        "4 rue d'Austerlitz",
        (1, 2, 3, 4, 5, 6),
        (9, 19),
        (8, 45),
        2.5,
    ),
    (
        "librairie-des-canuts",
        "Librairie des Canuts",
        "Librairie",
        "27 Grande Rue de la Croix-Rousse",
        (1, 2, 3, 4, 5),
        (10, 19),
        (7, 60),
        1.6,
    ),
    (
        "fleurs-grand-rue",
        "Fleurs de la Grand'Rue",
        "Fleuriste",
        "45 Grande Rue de la Croix-Rousse",
        (1, 2, 3, 4, 5, 6),
        (9, 19),
        (12, 55),
        1.0,
    ),
    ("boucherie-hennon", "Boucherie Hénon", "Boucherie", "8 rue Hénon", (1, 2, 3, 4, 5), (8, 19), (10, 70), 2.0),
    (
        "cave-plateau",
        "La Cave du Plateau",
        "Caviste",
        "3 place de la Croix-Rousse",
        (1, 2, 3, 4, 5),
        (10, 20),
        (9, 90),
        1.2,
    ),
    ("primeur-marche", "Le Primeur du Marché", "Primeur", "15 rue d'Ivry", (1, 2, 3, 4, 5, 6), (8, 13), (4, 35), 3.0),
    (
        "optique-canuts",
        "Optique des Canuts",
        "Opticien",
        "60 boulevard des Canuts",
        (0, 1, 2, 3, 4),
        (10, 19),
        (60, 420),
        0.15,
    ),
]
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Inès",
    "Jade",
    "Louise",
    "Alice",
    "Lina",
    "Sarah",
    "Julie",
    "Clara",
    "Zoé",
    "Anna",
    "Lucie",
    "Nathalie",
    "Isabelle",
    "Sophie",
    "Martine",
    "Hélène",
    "Claire",
    "Élodie",
    "Amandine",
    "Margaux",
    "Juliette",
    "Agathe",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Adam",
    "Raphaël",
    "Léo",
    "Nathan",
    "Paul",
    "Théo",
    "Tom",
    "Noah",
    "Ethan",
    "Mathieu",
    "Nicolas",
    "Julien",
    "Thomas",
    "Pierre",
    "Antoine",
    "François",
    "Olivier",
    "Laurent",
    "Stéphane",
    "Yannick",
    "Karim",
    "Mehdi",
    "Yasmine",
    "Fatima",
    "Sofiane",
    "Amine",
    "Kenza",
    "Mamadou",
    "Aïcha",
    "Élise",
    "Bérénice",
    "Rémi",
    "Loïc",
    "Gaëlle",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Benali",
    "Haddad",
    "Nguyen",
    "Diallo",
    "Cohen",
    "Ferrand",
    "Chaverot",
    "Brossard",
    "Guillot",
    "Jacquemet",
    "Perret",
]
POSTCODES = (
    ["69004"] * 12
    + ["69001"] * 5
    + ["69300"] * 3
    + ["69009", "69006", "69003", "69100", "69002", "69005", "69007", "69008"]
)


def _slugify_name(text: str) -> str:
    table = str.maketrans("àâäçéèêëîïôöùûüÿ", "aaaceeeeiioouuuy")
    return "".join(ch for ch in text.lower().translate(table) if ch.isalnum())


def logins_text(base_url: str) -> str:
    lines = [
        "",
        f"  Quartier demo is ready: open {base_url}/",
        "",
        f"  All demo passwords: {DEMO_PASSWORD}",
        f"  shopper  {SHOPPER_EMAIL}   (My card)",
        f"  merchant {SHOPS[0][0]}@demo.quartier.fr   (counter of {SHOPS[0][1]})",
        f"  admin    {ADMIN_EMAIL}",
        f"  organiser {ORGANISER_EMAIL}",
        "  (every shop has a merchant login: <shop-slug>@demo.quartier.fr)",
        "",
    ]
    return "\n".join(lines)


def _demo_logo() -> bytes:
    """The demo union's logo: a shop awning over the initials, in the union's colours."""
    image = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    drawing = ImageDraw.Draw(image)
    drawing.rounded_rectangle((8, 8, 248, 248), radius=48, fill=(122, 31, 61, 255))
    for index, left in enumerate(range(28, 228, 40)):
        drawing.rectangle((left, 40, left + 40, 92), fill=(184, 134, 11, 255) if index % 2 else (250, 246, 238, 255))
    drawing.rectangle((60, 120, 196, 210), outline=(250, 246, 238, 255), width=10)
    drawing.rectangle((112, 150, 144, 210), fill=(250, 246, 238, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _local(day, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE).astimezone(ZoneInfo("UTC"))


def load_demo(session: Session, *, seed: int, now: datetime) -> bool:
    """Insert the demo union. Returns False (and changes nothing) if shops already exist."""
    if session.scalar(select(Shop.id).limit(1)) is not None:
        return False
    rng = random.Random(seed)
    union = session.scalar(select(Union).limit(1)) or Union()
    union.name = "Les Vitrines de la Croix-Rousse"
    union.tagline = "Le plateau, ses boutiques, sa carte de fidélité"
    union.address = "Place de la Croix-Rousse, 69004 Lyon"
    union.primary_color, union.accent_color = "#7a1f3d", "#b8860b"
    union.points_per_euro, union.cooldown_minutes, union.timezone = 1, 10, "Europe/Paris"
    union.logo_png, union.logo_version = branding.reencode_logo(_demo_logo()), 1
    session.add(union)

    shop_rows = []
    for slug, name, category, address, *_ in SHOPS:
        shop = Shop(
            slug=slug,
            name=name,
            category=category,
            address=address + ", 69004 Lyon",
            postcode="69004",
            created_at=now - timedelta(days=400),
        )
        session.add(shop)
        shop_rows.append(shop)
    session.flush()

    password_hash = passwords.hash_password(DEMO_PASSWORD)
    staff = [
        dict(email=ADMIN_EMAIL, role="admin", shop_id=None, display_name="Nadia (union)"),
        dict(email=ORGANISER_EMAIL, role="organiser", shop_id=None, display_name="Bruno (animation)"),
    ]
    staff += [
        dict(email=f"{spec[0]}@demo.quartier.fr", role="merchant", shop_id=shop.id, display_name=spec[1])
        for spec, shop in zip(SHOPS, shop_rows, strict=True)
    ]
    session.execute(
        insert(Account),
        [
            {
                **row,
                "password_hash": password_hash,
                "email_confirmed_at": now,
                "created_at": now,
                "session_version": 1,
                "active": True,
            }
            for row in staff
        ],
    )

    customers = []
    for index in range(200):
        first = "Camille" if index == 0 else rng.choice(FIRST_NAMES)
        last = "Rivière" if index == 0 else rng.choice(LAST_NAMES)
        email = SHOPPER_EMAIL if index == 0 else (f"{_slugify_name(first)}.{_slugify_name(last)}{index}@example.fr")
        joined = now - timedelta(days=rng.choice([400] * 6 + [300, 200, 120, 60, 30, 10]))
        customers.append(
            Customer(
                first_name=first,
                last_name=last,
                email=email,
                postcode=rng.choice(POSTCODES),
                source="signup",
                rules_accepted_at=joined,
                created_at=joined,
            )
        )
    session.add_all(customers)
    session.flush()
    card_by_customer = {c.id: cards.issue_card(session, c.id, c.created_at) for c in customers}
    session.execute(
        insert(Account),
        [
            {
                "email": c.email,
                "password_hash": password_hash,
                "role": "shopper",
                "customer_id": c.id,
                "display_name": c.first_name,
                "email_confirmed_at": c.created_at,
                "created_at": c.created_at,
                "session_version": 1,
                "active": True,
            }
            for c in customers
        ],
    )
    consents = []
    for c in customers:
        for channel, share in (("email", 0.62), ("sms", 0.25), ("post", 0.18)):
            consents.append(
                {
                    "customer_id": c.id,
                    "channel": channel,
                    "granted": rng.random() < share,
                    "method": "form",
                    "wording": f"demo consent ({channel})",
                    "recorded_at": c.created_at,
                }
            )
    session.execute(insert(Consent), consents)
    _insert_history(session, rng, customers, card_by_customer, shop_rows, union.points_per_euro, now)
    organiser_id = session.scalar(select(Account.id).where(Account.email == ORGANISER_EMAIL))
    load_demo_contests(session, rng, organiser_id=organiser_id, now=now)
    today = now.astimezone(ZONE).date()
    rfm.refresh_all(session, as_of=today, timezone=union.timezone, now=now)
    return True


def _insert_history(session, rng, customers, card_by_customer, shop_rows, per_euro, now) -> None:
    weights = [spec[7] for spec in SHOPS]
    today = now.astimezone(ZONE).date()
    visit_rows = []
    for customer in customers:
        favourites = rng.choices(range(len(SHOPS)), weights=weights, k=rng.randint(1, 4))
        pace = rng.lognormvariate(-0.2, 0.9)  # visits per week at the favourites
        start = max(customer.created_at.astimezone(ZONE).date(), today - timedelta(days=365))
        end = today
        if rng.random() < 0.2:  # drifted away some months ago
            end = today - timedelta(days=rng.randint(60, 300))
        day = start
        while day <= end:
            seasonal = 1.6 if day.month == 12 else (0.6 if day.month == 8 else 1.0)
            weekly = 1.8 if day.weekday() == 5 else 1.0
            if rng.random() < pace * seasonal * weekly / 7:
                shop_index = rng.choice(favourites) if rng.random() < 0.85 else rng.randrange(len(SHOPS))
                spec = SHOPS[shop_index]
                if day.weekday() in spec[4]:
                    opening, closing = spec[5]
                    moment = _local(day, rng.randint(opening, closing - 1), rng.randint(0, 59))
                    if moment < now:
                        low, high = spec[6]
                        cents = int(rng.triangular(low, high, low + (high - low) * 0.3) * 100)
                        if rng.random() < 0.03:
                            cents = 0  # a visit without purchase
                        visit_rows.append(
                            {
                                "customer_id": customer.id,
                                "card_id": card_by_customer[customer.id].id,
                                "shop_id": shop_rows[shop_index].id,
                                "amount_cents": cents,
                                "points": points_for(cents, per_euro),
                                "visited_at": moment,
                                "source": "counter",
                                "created_at": moment,
                            }
                        )
            day += timedelta(days=1)
    if not visit_rows:
        return
    session.execute(insert(Visit), visit_rows)
    ids = session.execute(select(Visit.id, Visit.customer_id, Visit.points, Visit.visited_at).order_by(Visit.id)).all()
    session.execute(
        insert(PointsEntry),
        [
            {"customer_id": customer_id, "visit_id": visit_id, "kind": "earned", "points": pts, "created_at": when}
            for visit_id, customer_id, pts, when in ids
            if pts
        ],
    )


__all__ = ["load_demo", "logins_text", "DEMO_PASSWORD"]
