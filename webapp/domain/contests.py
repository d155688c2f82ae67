"""Contests (jeux-concours): the rules of a contest, entering it, and "My entries".

A contest's state follows from its fields and the time (`contest_state`): a draft until it
is published; upcoming, then open between `starts_at` (included) and `ends_at` (excluded);
ended; committed once the eligible entries are frozen for the draw; drawn.

Editing: before the start (or while a draft) everything may change; once a published contest
has started, only the description, the free text of the rules and the image may change; once
committed, nothing. The rules (règlement) are generated from the contest's fields plus free
text; a new version is written whenever the generated text changes, and an entry records the
version the entrant was shown: entering with an outdated version is refused with a request to
re-read.

Entering: the per-person limit is the unique constraint (contest, person, limit_key) where
`limit_key` is 'once' or the union-local date for 'daily' contests, so two simultaneous entries
cannot both pass. A visitor without an account becomes a prospect of the shared file (source
'contest'), matched to an existing person on the normalised email, else the phone, never
duplicated; an existing person's details are only completed, never overwritten, from a
visitor's form. Entries get duplicate flags (same folded email, phone or address as another
person's entry in the contest; disposable email domain) for the moderator: flagged entries are
shown, never silently dropped. Entering is never conditional on marketing consent.
"""

import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from sqlalchemy import and_, case, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain import consent as consent_domain
from webapp.domain import images
from webapp.domain.accounts import clean_name, normalise_email, normalise_phone, normalise_postcode
from webapp.domain.branding import get_union
from webapp.domain.errors import (
    AlreadyEntered,
    ContestInvalid,
    ContestLocked,
    ContestNotOpen,
    EntryRefused,
)
from webapp.models import (
    CHANNELS,
    ELIGIBILITIES,
    ENTRY_LIMITS,
    ENTRY_TYPES,
    Card,
    Contest,
    ContestEntry,
    ContestPrize,
    ContestRules,
    ContestWinner,
    Customer,
    ZonePostcode,
)

STATES = ("draft", "upcoming", "open", "ended", "committed", "drawn")
MODERATED_TYPES = ("text", "photo")
TITLE_MAX = 160
ANSWER_MAX = 200
TEXT_MAX = 2000
DESCRIPTION_MAX = 10_000
PRIZE_NAME_MAX = 160
TOWN_MAX = 80
ADDRESS_MAX = 200
IMAGE_BOX = (1200, 1200)
RECENT = timedelta(days=30)
PROSPECT_SOURCE = "contest"
FLAG_NAMES = ("duplicate_email", "duplicate_phone", "duplicate_address", "disposable_email")
_FLAG_SCAN_LIMIT = 200


# States and look-ups.


def contest_state(contest: Contest, now: datetime) -> str:
    """One of STATES."""
    if contest.drawn_at is not None:
        return "drawn"
    if contest.committed_at is not None:
        return "committed"
    if contest.published_at is None:
        return "draft"
    if now < contest.starts_at:
        return "upcoming"
    if now < contest.ends_at:
        return "open"
    return "ended"


def contest_by_slug(session: Session, slug: str) -> Contest | None:
    return session.scalar(select(Contest).where(Contest.slug == (slug or "")[:80]))


def contest_by_id(session: Session, contest_id: int) -> Contest | None:
    return session.get(Contest, contest_id)


def listed_contests(session: Session, now: datetime) -> list[Contest]:
    """Published contests for the public list: upcoming and open ones, then those ended or drawn within
    RECENT (results), open ones ending soonest first. The images are not loaded (deferred)."""
    recent = now - RECENT
    ended = Contest.ends_at <= now
    return list(
        session.scalars(
            select(Contest)
            .where(
                Contest.published_at.is_not(None),
                or_(Contest.ends_at > recent, Contest.drawn_at >= recent),
            )
            .order_by(case((ended, 1), else_=0), case((ended, None), else_=Contest.ends_at), Contest.ends_at.desc())
        )
    )


def all_contests(session: Session) -> list[Contest]:
    """Every contest, newest first (the organiser's list)."""
    return list(session.scalars(select(Contest).order_by(Contest.id.desc())))


def prizes_of(session: Session, contest: Contest) -> list[ContestPrize]:
    return list(
        session.scalars(
            select(ContestPrize).where(ContestPrize.contest_id == contest.id).order_by(ContestPrize.position)
        )
    )


def current_rules(session: Session, contest: Contest) -> ContestRules | None:
    """The latest version of the rules (None only for a contest never saved through `save_contest`)."""
    return session.scalar(
        select(ContestRules).where(ContestRules.contest_id == contest.id).order_by(ContestRules.version.desc()).limit(1)
    )


def rules_version(session: Session, contest: Contest, version: int) -> ContestRules | None:
    return session.scalar(
        select(ContestRules).where(ContestRules.contest_id == contest.id, ContestRules.version == version)
    )


def rules_versions(session: Session, contest: Contest) -> list[ContestRules]:
    return list(
        session.scalars(
            select(ContestRules).where(ContestRules.contest_id == contest.id).order_by(ContestRules.version)
        )
    )


# Text normalisation and duplicate keys.


def _strip_accents(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


def normalise_answer(value: str) -> str:
    """Case, accents, ligatures, punctuation and spaces folded: `  L'Œuvre   d’ÉTÉ ! ` -> `l oeuvre d ete`."""
    folded = _strip_accents((value or "").casefold().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss"))
    return " ".join(re.sub(r"[^\w]|_", " ", folded).split())


_GMAIL = ("gmail.com", "googlemail.com")


def fold_email(email: str) -> str:
    """The key under which two spellings of one mailbox meet: lower case, `+tag` dropped (any domain),
    dots ignored and googlemail.com read as gmail.com for Gmail. Only used for duplicate flags."""
    value = (email or "").strip().lower()
    local, at, domain = value.rpartition("@")
    if not at:
        return value
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


@cache
def disposable_domains() -> frozenset[str]:
    """The vendored list of well-known disposable email domains (data/disposable_domains.txt)."""
    data = resources.files("webapp.domain").joinpath("data/disposable_domains.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in data.splitlines() if line.strip() and not line.startswith("#"))


def is_disposable_email(email: str) -> bool:
    """The domain, or one of its parent domains, is a known disposable-mail service."""
    domain = (email or "").strip().lower().rpartition("@")[2]
    labels = domain.split(".")
    known = disposable_domains()
    return any(".".join(labels[i:]) in known for i in range(len(labels) - 1))


_ADDRESS_WORDS = {
    "bd": "boulevard",
    "bld": "boulevard",
    "boul": "boulevard",
    "av": "avenue",
    "ave": "avenue",
    "r": "rue",
    "pl": "place",
    "ch": "chemin",
    "imp": "impasse",
    "all": "allee",
    "crs": "cours",
    "qu": "quai",
    "rte": "route",
    "st": "saint",
    "ste": "sainte",
    "fg": "faubourg",
    "fbg": "faubourg",
}


def address_key(address: str, postcode: str) -> str:
    """`12, Bd de la Croix-Rousse` + 69004 -> `69004|12 boulevard de la croix rousse`; empty without a street."""
    words = normalise_answer(address).split()
    if not words:
        return ""
    street = " ".join(_ADDRESS_WORDS.get(word, word) for word in words)
    return f"{(postcode or '').strip()}|{street}"[:ADDRESS_MAX]


def reencode_image(data: bytes, box: tuple[int, int] = IMAGE_BOX) -> bytes:
    """A contest's image or an entry's photo, by the logo's rules (webapp.domain.images)."""
    return images.reencode(data, box)


# The rules (règlement).

_ELIGIBILITY_TEXT = {
    "everyone": "Le jeu est ouvert à toute personne physique, titulaire ou non de la carte de fidélité.",
    "cardholders": "Le jeu est réservé aux titulaires de la carte de fidélité, connectés à leur compte.",
}
_ENTRY_TEXT = {
    "draw": "Pour participer, il suffit de valider le formulaire de participation : le tirage au sort désigne "
    "les gagnants parmi les participations valables.",
    "question": "Pour participer, il faut répondre à la question suivante : « {question} ». Seules les "
    "participations portant la bonne réponse prennent part au tirage au sort. La réponse est comparée sans "
    "tenir compte des majuscules, des accents ni des espaces.",
    "text": "Pour participer, il faut envoyer un texte. Chaque texte est relu par l'organisateur avant d'être "
    "accepté ; un texte contraire à la loi, injurieux ou hors sujet est refusé, avec un motif. Seules les "
    "participations acceptées prennent part au tirage au sort.",
    "photo": "Pour participer, il faut envoyer une photo (PNG ou JPEG) dont le participant est l'auteur. Chaque "
    "photo est vérifiée par l'organisateur avant d'être acceptée ; une photo contraire à la loi, portant "
    "atteinte aux droits d'autrui ou hors sujet est refusée, avec un motif. Seules les participations "
    "acceptées prennent part au tirage au sort.",
}
_LIMIT_TEXT = {
    "once": "Une seule participation par personne pendant toute la durée du jeu.",
    "daily": "Une participation par personne et par jour (jour calendaire à l'heure de {zone}) ; chaque "
    "participation valable compte pour une chance au tirage, mais une personne ne peut gagner qu'un seul lot.",
}


def _when(moment: datetime, zone: str) -> str:
    return babel_datetime(moment, "EEEE d MMMM y 'à' HH'h'mm", tzinfo=ZoneInfo(zone), locale="fr_FR")


def generate_rules_text(
    contest: Contest,
    prizes: list[tuple[str, int]],
    union_name: str,
    extra: str,
    *,
    union_address: str = "",
    timezone: str = "Europe/Paris",
) -> str:
    """The French rules of the contest, generated from its fields plus the organiser's free text."""
    organiser = union_name + (f", {union_address}" if union_address else "")
    age = (
        f"Il faut avoir au moins {contest.minimum_age} ans pour participer ; le participant le confirme en "
        "participant et peut avoir à le justifier pour recevoir son lot."
        if contest.minimum_age
        else "Le jeu est ouvert sans condition d'âge ; un mineur participe avec l'accord de ses parents."
    )
    prize_lines = "\n".join(f"- {name} (quantité : {quantity})" for name, quantity in prizes)
    units = sum(quantity for _name, quantity in prizes)
    sections = [
        f"Règlement du jeu « {contest.title} »",
        f"Article 1 — Organisateur\nLe jeu est organisé par {organiser}, union commerciale, ci-après "
        "« l'organisateur ».",
        f"Article 2 — Durée\nLe jeu est ouvert du {_when(contest.starts_at, timezone)} au "
        f"{_when(contest.ends_at, timezone)} (heure de {timezone}).",
        f"Article 3 — Participants\n{_ELIGIBILITY_TEXT.get(contest.eligibility, '')} {age}",
        "Article 4 — Participation\n"
        + _ENTRY_TEXT.get(contest.entry_type, "").format(question=contest.question)
        + " "
        + _LIMIT_TEXT.get(contest.entry_limit, "").format(zone=timezone)
        + " Toute participation incomplète, frauduleuse ou en double peut être écartée par l'organisateur.",
        "Article 5 — Gratuité\nLa participation est gratuite et sans obligation d'achat. Elle n'est jamais "
        "subordonnée à l'acceptation de recevoir des messages commerciaux : les accords de communication "
        "proposés sur le formulaire sont facultatifs et indépendants du jeu.",
        f"Article 6 — Lots\nLe jeu est doté de {units} lot{'s' if units > 1 else ''} :\n{prize_lines}\n"
        "Les lots ne sont ni échangeables ni remboursables en espèces.",
        "Article 7 — Tirage au sort vérifiable\nAprès la fin du jeu et la modération, la liste des participations "
        "valables est figée. Avant le tirage, l'organisateur publie sur la page du jeu l'empreinte SHA-256 de "
        "cette liste et l'empreinte SHA-256 d'une graine secrète de 32 octets tirée au hasard. Le tirage "
        "applique à la graine un algorithme public (SHA-256 en mode compteur, entiers uniformes par "
        "rejet, sans biais de modulo) ; une personne ne peut gagner qu'une fois. Les gagnants reçoivent les "
        "lots dans l'ordre du tirage, suivis de gagnants suppléants appelés dans l'ordre si un lot n'est pas "
        "réclamé. Après le tirage, la graine est publiée : chacun peut vérifier que son empreinte correspond à "
        "celle publiée et recalculer les gagnants (commande `flask --app webapp contests verify-draw`).",
        "Article 8 — Gagnants\nLes gagnants sont prévenus par e-mail et disposent de 30 jours pour réclamer "
        "leur lot, faute de quoi le lot revient au premier suppléant. La liste publique des gagnants n'indique "
        "le prénom, l'initiale du nom et la ville que des gagnants qui l'ont accepté ; les autres y figurent "
        "comme « Gagnant·e anonyme ».",
        f"Article 9 — Données personnelles\nLes données recueillies servent à gérer le jeu (participation, "
        f"tirage, remise des lots) sous la responsabilité de {union_name}. Une personne sans carte devient "
        "contact de l'union (prospect) et n'est sollicitée que selon les accords qu'elle a donnés, canal par "
        "canal. Les données des prospects sont supprimées trois ans après le dernier contact. Chacun peut "
        "accéder à ses données, les rectifier, les effacer ou retirer un accord en écrivant à l'organisateur.",
    ]
    if (extra or "").strip():
        sections.append(f"Article 10 — Dispositions particulières\n{extra.strip()}")
    return "\n\n".join(sections) + "\n"


# Organiser: create, edit, publish.


def _slug_base(title: str) -> str:
    ascii_text = _strip_accents(title.replace("œ", "oe").replace("æ", "ae")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-") or "jeu"


def unique_slug(session: Session, title: str) -> str:
    base = _slug_base(title)
    taken = set(session.scalars(select(Contest.slug).where(Contest.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _validated(
    *,
    title,
    description,
    starts_at,
    ends_at,
    eligibility,
    entry_type,
    question,
    answer,
    entry_limit,
    minimum_age,
    rules_extra,
    prizes,
) -> dict:
    title = " ".join((title or "").split())
    if not title or len(title) > TITLE_MAX:
        raise ContestInvalid("title")
    if starts_at is None or ends_at is None or starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ContestInvalid("dates")
    if ends_at <= starts_at:
        raise ContestInvalid("dates")
    if eligibility not in ELIGIBILITIES:
        raise ContestInvalid("eligibility")
    if entry_type not in ENTRY_TYPES:
        raise ContestInvalid("entry_type")
    if entry_limit not in ENTRY_LIMITS:
        raise ContestInvalid("entry_limit")
    if isinstance(minimum_age, bool) or not isinstance(minimum_age, int) or not 0 <= minimum_age <= 99:
        raise ContestInvalid("minimum_age")
    question, answer = (question or "").strip(), " ".join((answer or "").split())
    if entry_type == "question":
        if not question:
            raise ContestInvalid("question")
        if not normalise_answer(answer) or len(answer) > ANSWER_MAX:
            raise ContestInvalid("answer")
    else:
        question, answer = "", ""
    description, rules_extra = (description or "").strip(), (rules_extra or "").strip()
    if len(description) > DESCRIPTION_MAX or len(rules_extra) > DESCRIPTION_MAX or len(question) > TEXT_MAX:
        raise ContestInvalid("too_long")
    cleaned = []
    for name, quantity in prizes or []:
        name = " ".join((name or "").split())
        if not name or len(name) > PRIZE_NAME_MAX:
            raise ContestInvalid("prize_name")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ContestInvalid("prize_quantity")
        cleaned.append((name, quantity))
    if not cleaned:
        raise ContestInvalid("prizes")
    return dict(
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        eligibility=eligibility,
        entry_type=entry_type,
        question=question,
        answer=answer,
        entry_limit=entry_limit,
        minimum_age=minimum_age,
        rules_extra=rules_extra,
        prizes=cleaned,
    )


# What may change once a published contest has started.
FREE_AFTER_START = ("description", "rules_extra")
STRUCTURAL = (
    "title",
    "starts_at",
    "ends_at",
    "eligibility",
    "entry_type",
    "question",
    "answer",
    "entry_limit",
    "minimum_age",
)


def save_contest(
    session: Session,
    contest: Contest | None,
    *,
    title: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    eligibility: str,
    entry_type: str,
    question: str,
    answer: str,
    entry_limit: str,
    minimum_age: int,
    rules_extra: str,
    prizes: list[tuple[str, int]],
    image: bytes | None,
    by_id: int | None,
    now: datetime,
) -> Contest:
    """Create (contest None) or edit a contest; writes a new rules version when the rules text changes."""
    values = _validated(
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        eligibility=eligibility,
        entry_type=entry_type,
        question=question,
        answer=answer,
        entry_limit=entry_limit,
        minimum_age=minimum_age,
        rules_extra=rules_extra,
        prizes=prizes,
    )
    new_prizes = values.pop("prizes")
    old_prizes = [(p.name, p.quantity) for p in prizes_of(session, contest)] if contest is not None else []
    if contest is not None:
        state = contest_state(contest, now)
        if state in ("committed", "drawn"):
            raise ContestLocked("committed")
        if state in ("open", "ended"):
            changed = [name for name in STRUCTURAL if getattr(contest, name) != values[name]]
            if changed or new_prizes != old_prizes:
                raise ContestLocked("started")
    png = reencode_image(image) if image else None

    if contest is None:
        contest = Contest(
            slug=unique_slug(session, values["title"]), created_by_id=by_id, created_at=now, image_version=0
        )
        session.add(contest)
    for name, value in values.items():
        setattr(contest, name, value)
    contest.updated_at = now
    if png is not None:
        contest.image_png = png
        contest.image_version = (contest.image_version or 0) + 1
    session.flush()
    if new_prizes != old_prizes:
        for prize in session.scalars(select(ContestPrize).where(ContestPrize.contest_id == contest.id)):
            session.delete(prize)
        session.flush()
        session.add_all(
            ContestPrize(contest_id=contest.id, position=position, name=name, quantity=quantity)
            for position, (name, quantity) in enumerate(new_prizes, start=1)
        )
        session.flush()
    _write_rules(session, contest, new_prizes, now)
    return contest


def _write_rules(session: Session, contest: Contest, prizes: list[tuple[str, int]], now: datetime) -> ContestRules:
    union = get_union(session)
    rules_text = generate_rules_text(
        contest, prizes, union.name, contest.rules_extra, union_address=union.address, timezone=union.timezone
    )
    current = current_rules(session, contest)
    if current is not None and current.text == rules_text:
        return current
    rules = ContestRules(
        contest_id=contest.id, version=(current.version + 1) if current else 1, text=rules_text, created_at=now
    )
    session.add(rules)
    session.flush()
    return rules


def publish_contest(session: Session, contest: Contest, now: datetime) -> Contest:
    """Make a draft visible (and open at its start); a contest already ended cannot be published."""
    if contest.published_at is not None:
        return contest
    if contest.ends_at <= now:
        raise ContestInvalid("dates")
    if not prizes_of(session, contest):
        raise ContestInvalid("prizes")
    if current_rules(session, contest) is None:
        _write_rules(session, contest, [(p.name, p.quantity) for p in prizes_of(session, contest)], now)
    contest.published_at = now
    contest.updated_at = now
    session.flush()
    return contest


# Entering.


def _local_date(session: Session, now: datetime) -> date:
    return now.astimezone(ZoneInfo(get_union(session).timezone)).date()


def _check_open(session: Session, contest: Contest, now: datetime, *, age_confirmed: bool, rules_version) -> int:
    state = contest_state(contest, now)
    if state != "open":
        raise ContestNotOpen(state)
    if contest.minimum_age and not age_confirmed:
        raise EntryRefused("age")
    current = current_rules(session, contest)
    try:
        shown = int(rules_version)
    except (TypeError, ValueError):
        shown = None
    if current is None or shown != current.version:
        raise EntryRefused("rules_outdated")
    return current.version


def _content(contest: Contest, answer_text: str, photo: bytes | None) -> dict:
    """The answer, text or photo the entry type asks for (checked before any write)."""
    answer_text = (answer_text or "").strip()
    if contest.entry_type == "question":
        answer_text = " ".join(answer_text.split())
        if not normalise_answer(answer_text):
            raise EntryRefused("answer")
        if len(answer_text) > ANSWER_MAX:
            raise EntryRefused("too_long")
        correct = normalise_answer(answer_text) == normalise_answer(contest.answer)
        return dict(answer_text=answer_text, answer_correct=correct, status="accepted")
    if contest.entry_type == "text":
        if not answer_text:
            raise EntryRefused("text")
        if len(answer_text) > TEXT_MAX:
            raise EntryRefused("too_long")
        return dict(answer_text=answer_text, status="pending")
    if contest.entry_type == "photo":
        if not photo:
            raise EntryRefused("photo")
        if len(answer_text) > TEXT_MAX:
            raise EntryRefused("too_long")
        return dict(answer_text=answer_text, status="pending")  # the photo is re-encoded by the caller
    return dict(answer_text="", status="accepted")


def _limit_key(contest: Contest, today: date) -> str:
    return "once" if contest.entry_limit == "once" else today.isoformat()


def _already_entered(session: Session, contest: Contest, customer_id: int, limit_key: str) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    ContestEntry.contest_id == contest.id,
                    ContestEntry.customer_id == customer_id,
                    ContestEntry.limit_key == limit_key,
                )
            )
        )
    )


def _is_limit_violation(error: IntegrityError) -> bool:
    message = str(error.orig).lower()
    return "uq_contest_entry_contest_id" in message or ("unique" in message and "contest_entry.customer_id" in message)


def _insert(session: Session, contest: Contest, entry: ContestEntry) -> ContestEntry:
    """Insert in a savepoint: the per-person unique constraint decides between simultaneous entries."""
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError as error:
        if _is_limit_violation(error):
            raise AlreadyEntered(contest.entry_limit) from error
        raise
    return entry


def _flag(session: Session, entry: ContestEntry, email: str) -> None:
    """Duplicate flags against the other people's entries of the contest, on both sides."""
    flags = set()
    if email and is_disposable_email(email):
        flags.add("disposable_email")
    others: dict[int, set[str]] = {}
    for key_name, flag in (
        ("email_key", "duplicate_email"),
        ("phone_key", "duplicate_phone"),
        ("address_key", "duplicate_address"),
    ):
        value = getattr(entry, key_name)
        if not value:
            continue
        column = getattr(ContestEntry, key_name)
        rows = session.execute(
            select(ContestEntry.id, ContestEntry.flags)
            .where(
                ContestEntry.contest_id == entry.contest_id,
                column == value,
                ContestEntry.customer_id != entry.customer_id,
            )
            .limit(_FLAG_SCAN_LIMIT)
        ).all()
        if rows:
            flags.add(flag)
        for other_id, other_flags in rows:
            others.setdefault(other_id, set(filter(None, (other_flags or "").split(",")))).add(flag)
    entry.flags = _join_flags(flags)
    for other_id, other_flags in others.items():
        session.execute(update(ContestEntry).where(ContestEntry.id == other_id).values(flags=_join_flags(other_flags)))
    session.flush()


def _join_flags(flags: set[str]) -> str:
    return ",".join(name for name in FLAG_NAMES if name in flags)


def split_flags(flags: str) -> list[str]:
    return [name for name in (flags or "").split(",") if name]


def enter_as_cardholder(
    session: Session,
    contest: Contest,
    *,
    customer_id: int,
    account_id: int | None,
    answer_text: str = "",
    photo: bytes | None = None,
    age_confirmed: bool,
    public_name_consent: bool = False,
    rules_version: int,
    now: datetime,
    town: str = "",
) -> ContestEntry:
    """A signed-in shopper's entry (one tap, plus the answer, text or photo)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise EntryRefused("cardholders_only")
    has_card = session.scalar(select(exists().where(Card.customer_id == customer_id, Card.status == "active")))
    if contest.eligibility == "cardholders" and not has_card:
        raise EntryRefused("cardholders_only")
    version = _check_open(session, contest, now, age_confirmed=age_confirmed, rules_version=rules_version)
    content = _content(contest, answer_text, photo)
    today = _local_date(session, now)
    limit_key = _limit_key(contest, today)
    if _already_entered(session, contest, customer_id, limit_key):
        raise AlreadyEntered(contest.entry_limit)
    if contest.entry_type == "photo":
        content["photo_png"] = reencode_image(photo)
    email = customer.email or ""
    entry = ContestEntry(
        contest_id=contest.id,
        customer_id=customer_id,
        account_id=account_id,
        limit_key=limit_key,
        entered_on=today,
        created_at=now,
        rules_version=version,
        age_confirmed=bool(age_confirmed),
        public_name_consent=bool(public_name_consent),
        town=" ".join((town or "").split())[:TOWN_MAX],
        postcode=customer.postcode or "",
        email_key=fold_email(email)[:254],
        phone_key=customer.phone or "",
        address_key="",
        **content,
    )
    _insert(session, contest, entry)
    _flag(session, entry, email)
    return entry


def _lock_identity(session: Session, keys: list[str]) -> None:
    """PostgreSQL: serialise the matching of one email/phone until commit, so that two simultaneous
    entries of one new person create one prospect. SQLite writers are serialised already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"quartier-person:{key}"})


def _listable():
    return and_(Customer.erased_at.is_(None), Customer.merged_into_id.is_(None))


def find_person(session: Session, email: str | None, phone: str | None) -> Customer | None:
    """The existing person with this normalised email, else this phone (oldest record first)."""
    for column, value in ((Customer.email, email), (Customer.phone, phone)):
        if value:
            found = session.scalar(select(Customer).where(column == value, _listable()).order_by(Customer.id).limit(1))
            if found is not None:
                return found
    return None


def prospect_for_visitor(
    session: Session,
    *,
    first_name: str,
    last_name: str,
    email: str,
    phone: str | None,
    postcode: str,
    consents: dict[str, bool],
    consent_wording: dict[str, str],
    now: datetime,
) -> tuple[Customer, bool]:
    """(person, created): the existing person (email, else phone), completed but never overwritten,
    or a new prospect. Consents one channel at a time with their wording: a new person's every
    answer is recorded; for a known person only the channels they tick now (an unticked box on a
    contest form does not withdraw an earlier consent)."""
    _lock_identity(session, [f"email:{email}"] + ([f"phone:{phone}"] if phone else []))
    customer = find_person(session, email, phone)
    created = customer is None
    if created:
        customer = Customer(
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            postcode=postcode,
            source=PROSPECT_SOURCE,
            created_at=now,
        )
        session.add(customer)
    else:
        for name, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("email", email),
            ("phone", phone),
            ("postcode", postcode),
        ):
            if value and not getattr(customer, name):
                setattr(customer, name, value)
    session.flush()
    wanted = {
        channel: bool(consents.get(channel))
        for channel in CHANNELS
        if channel in (consents or {}) and channel in (consent_wording or {})
    }
    if not created:
        wanted = {channel: granted for channel, granted in wanted.items() if granted}
    if wanted:
        consent_domain.record_consents(
            session,
            customer.id,
            wanted,
            method=PROSPECT_SOURCE,
            wordings={channel: str(consent_wording[channel]) for channel in wanted},
            now=now,
            record_unchanged=created,
        )
    return customer, created


def enter_as_visitor(
    session: Session,
    contest: Contest,
    *,
    first_name: str,
    last_name: str,
    email: str,
    phone: str = "",
    postcode: str,
    town: str = "",
    address: str = "",
    age_confirmed: bool,
    rules_accepted: bool,
    consents: dict[str, bool] | None = None,
    consent_wording: dict[str, str] | None = None,
    answer_text: str = "",
    photo: bytes | None = None,
    public_name_consent: bool = False,
    rules_version: int,
    now: datetime,
) -> ContestEntry:
    """A visitor without an account: becomes (or is matched to) a person of the shared file, then enters."""
    if contest.eligibility == "cardholders":
        raise EntryRefused("cardholders_only")
    version = _check_open(session, contest, now, age_confirmed=age_confirmed, rules_version=rules_version)
    if not rules_accepted:
        raise EntryRefused("rules_not_accepted")
    first, last = clean_name(first_name), clean_name(last_name)
    if not first or not last:
        raise EntryRefused("name")
    email = normalise_email(email)
    phone_e164 = normalise_phone(phone)
    postcode = normalise_postcode(postcode)
    town = " ".join((town or "").split())
    address = " ".join((address or "").split())
    if len(town) > TOWN_MAX or len(address) > ADDRESS_MAX:
        raise EntryRefused("too_long")
    content = _content(contest, answer_text, photo)
    if contest.entry_type == "photo":
        content["photo_png"] = reencode_image(photo)

    customer, _created = prospect_for_visitor(
        session,
        first_name=first,
        last_name=last,
        email=email,
        phone=phone_e164,
        postcode=postcode,
        consents=consents or {},
        consent_wording=consent_wording or {},
        now=now,
    )
    today = _local_date(session, now)
    entry = ContestEntry(
        contest_id=contest.id,
        customer_id=customer.id,
        account_id=None,
        limit_key=_limit_key(contest, today),
        entered_on=today,
        created_at=now,
        rules_version=version,
        age_confirmed=bool(age_confirmed),
        public_name_consent=bool(public_name_consent),
        town=town,
        postcode=postcode,
        email_key=fold_email(email)[:254],
        phone_key=phone_e164 or "",
        address_key=address_key(address, postcode),
        **content,
    )
    _insert(session, contest, entry)
    _flag(session, entry, email)
    return entry


def entries_of_customer(session: Session, customer_id: int) -> list:
    """ "My entries", newest first: contest, date, status, and the outcome once drawn
    (`won`: a prize, with `prize_name`; `reserve`: a reserve winner)."""
    return session.execute(
        select(
            ContestEntry.id,
            ContestEntry.contest_id,
            Contest.slug,
            Contest.title,
            Contest.entry_type,
            Contest.ends_at,
            Contest.drawn_at,
            ContestEntry.created_at,
            ContestEntry.entered_on,
            ContestEntry.status,
            ContestEntry.answer_correct,
            ContestEntry.rejection_reason,
            and_(ContestWinner.id.is_not(None), ContestWinner.reserve.is_(False)).label("won"),
            func.coalesce(ContestWinner.reserve, False).label("reserve"),
            ContestPrize.name.label("prize_name"),
        )
        .join(Contest, Contest.id == ContestEntry.contest_id)
        .outerjoin(ContestWinner, ContestWinner.entry_id == ContestEntry.id)
        .outerjoin(ContestPrize, ContestPrize.id == ContestWinner.prize_id)
        .where(ContestEntry.customer_id == customer_id)
        .order_by(ContestEntry.id.desc())
    ).all()


def town_label(session: Session, entry: ContestEntry) -> str:
    """The town an entrant gave, else the zone's label of their postcode, else nothing."""
    if entry.town:
        return entry.town
    if entry.postcode:
        return session.scalar(select(ZonePostcode.label).where(ZonePostcode.postcode == entry.postcode)) or ""
    return ""


__all__ = [
    "contest_state",
    "contest_by_slug",
    "contest_by_id",
    "listed_contests",
    "current_rules",
    "generate_rules_text",
    "save_contest",
    "publish_contest",
    "normalise_answer",
    "fold_email",
    "is_disposable_email",
    "enter_as_cardholder",
    "enter_as_visitor",
    "entries_of_customer",
]
