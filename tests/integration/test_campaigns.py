"""Campaigns against hand-computed expectations, on SQLite and PostgreSQL: targets, consent, holdout,
content (sanitised, merge fields in a sandbox), exactly-once bookkeeping and the effect report."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from tests.integration.test_contests import new_contest
from webapp.domain import campaigns, rfm, targeting
from webapp.domain.consent import current_consents, record_consents
from webapp.extensions import db
from webapp.models import CampaignRecipient, Consent, ContestEntry, Customer, SavedTarget, SavedTargetMember, Visit

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def consent(person, channel, granted, when=NOW):
    db.session.add(
        Consent(customer_id=person.id, channel=channel, granted=granted, method="form", wording="w", recorded_at=when)
    )
    db.session.commit()


def add_visits(rows):
    db.session.execute(
        insert(Visit),
        [
            {
                "customer_id": person.id,
                "shop_id": shop.id if shop else None,
                "amount_cents": cents,
                "points": 0,
                "visited_at": when,
                "idempotency_key": f"k-{index}-{person.id}-{when.isoformat()}",
                "voided_at": NOW if void else None,
            }
            for index, (person, shop, cents, when, *rest) in enumerate(rows)
            for void in [bool(rest and rest[0])]
        ],
    )
    db.session.commit()


def ids(statement) -> set[int]:
    return set(db.session.scalars(statement))


def criteria(**values) -> targeting.Criteria:
    return targeting.Criteria.from_dict(values)


@pytest.fixture
def town(make):
    """Five people and two shops, worked out by hand in each test."""
    a, b = make.shop(name="A"), make.shop(name="B")
    p = {name: make.customer(first_name=name, postcode="69004") for name in ("ann", "bob", "cid", "dan", "eve")}
    p["eve"].postcode = "69001"
    db.session.commit()
    make.card(p["ann"])
    make.card(p["bob"])
    add_visits(
        [
            (p["ann"], a, 1000, at("2026-06-01")),
            (p["ann"], b, 500, at("2026-03-01")),
            (p["bob"], a, 2000, at("2025-12-24")),
            (p["cid"], b, 300, at("2026-06-10")),
            (p["cid"], a, 300, at("2026-06-11"), True),  # void: does not count
            (p["dan"], None, 800, at("2026-01-05")),  # union-level visit
        ]
    )
    return (a, b), p


@pytest.fixture(autouse=True)
def _database(app):
    """Every test runs on the test database."""


def test_criteria_select_the_people_worked_out_by_hand(town):
    (a, b), p = town
    everyone = {person.id for person in p.values()}
    assert ids(targeting.target_ids(db.session, criteria())) == everyone
    assert ids(targeting.target_ids(db.session, criteria(shop_id=a.id))) == {p["ann"].id, p["bob"].id}
    never_a = criteria(shop_id=a.id, shop_visited="0")
    assert ids(targeting.target_ids(db.session, never_a)) == {p["cid"].id, p["dan"].id, p["eve"].id}
    in_2026 = criteria(shop_id=a.id, shop_since="2026-01-01", shop_until="2026-06-30")
    assert ids(targeting.target_ids(db.session, in_2026)) == {p["ann"].id}
    lately = criteria(last_visit_after="2026-05-01")
    assert ids(targeting.target_ids(db.session, lately)) == {p["ann"].id, p["cid"].id}
    long_ago = criteria(last_visit_before="2026-01-31")
    assert ids(targeting.target_ids(db.session, long_ago)) == {p["bob"].id, p["dan"].id}
    assert ids(targeting.target_ids(db.session, criteria(postcodes="69001"))) == {p["eve"].id}
    assert ids(targeting.target_ids(db.session, criteria(kind="cardholders"))) == {p["ann"].id, p["bob"].id}
    assert ids(targeting.target_ids(db.session, criteria(kind="prospects"))) == {p["cid"].id, p["dan"].id, p["eve"].id}
    both = criteria(kind="cardholders", last_visit_after="2026-05-01")
    assert ids(targeting.target_ids(db.session, both)) == {p["ann"].id}


def test_segments_of_the_latest_snapshot_union_wide_or_of_a_shop(town):
    (a, _b), p = town
    rfm.refresh(db.session, rfm.Scope(as_of=date(2026, 6, 15)), now=NOW)
    rfm.refresh(db.session, rfm.Scope(as_of=date(2026, 6, 15), shop_id=a.id), now=NOW)
    db.session.commit()
    scores = dict(db.session.execute(select(Customer.first_name, Customer.id)).all())
    union_segments = {
        row.customer_id: row.segment
        for row in db.session.execute(
            select(rfm.RfmScore.customer_id, rfm.RfmScore.segment).where(
                rfm.RfmScore.snapshot_id == rfm.latest_snapshot(db.session, None).id
            )
        )
    }
    segment_of_ann = union_segments[scores["ann"]]
    expected = {customer_id for customer_id, segment in union_segments.items() if segment == segment_of_ann}
    assert ids(targeting.target_ids(db.session, criteria(segments=[segment_of_ann]))) == expected
    in_shop = criteria(segments=list(rfm.SEGMENTS), segment_shop_id=a.id)
    assert ids(targeting.target_ids(db.session, in_shop)) == {p["ann"].id, p["bob"].id}


def test_contest_entrants_and_saved_targets(town, make):
    (_a, _b), p = town
    contest = new_contest(NOW)
    db.session.add(
        ContestEntry(
            contest_id=contest.id,
            customer_id=p["dan"].id,
            limit_key="once",
            entered_on=date(2026, 6, 1),
            rules_version=1,
            status="accepted",
        )
    )
    target = SavedTarget(name="t", kind="cross_shop", params={}, size=1)
    db.session.add(target)
    db.session.flush()
    db.session.add(SavedTargetMember(target_id=target.id, customer_id=p["eve"].id))
    db.session.commit()
    assert ids(targeting.target_ids(db.session, criteria(contest_id=contest.id))) == {p["dan"].id}
    assert ids(targeting.target_ids(db.session, criteria(saved_target_id=target.id))) == {p["eve"].id}


def test_erased_and_merged_people_are_never_targeted(town):
    (_a, _b), p = town
    p["ann"].erased_at = NOW
    p["bob"].merged_into_id = p["cid"].id
    db.session.commit()
    assert ids(targeting.target_ids(db.session, criteria())) == {p["cid"].id, p["dan"].id, p["eve"].id}


@pytest.mark.parametrize(
    "values,reason",
    [
        ({"segments": ["vip"]}, "segment"),
        ({"kind": "robots"}, "kind"),
        ({"postcodes": "6900"}, "postcode"),
        ({"shop_since": "2026-06-30", "shop_until": "2026-01-01"}, "dates"),
        ({"last_visit_after": "hier"}, "dates"),
    ],
)
def test_invalid_criteria_are_refused_with_a_reason(values, reason):
    with pytest.raises(targeting.InvalidCriteria) as refused:
        targeting.Criteria.from_dict(values)
    assert refused.value.reason == reason


def test_no_email_ever_goes_to_someone_without_email_consent(town):
    (_a, _b), p = town
    consent(p["ann"], "email", True)
    consent(p["bob"], "email", True)
    consent(p["bob"], "email", False, NOW + timedelta(minutes=1))  # withdrawn since: the latest decision counts
    consent(p["cid"], "email", False)
    consent(p["cid"], "email", True, NOW + timedelta(minutes=1))
    consent(p["dan"], "sms", True)  # another channel
    p["cid"].email = None  # consent but no address
    db.session.commit()
    reach = ids(targeting.reachable_ids(db.session, criteria(), "email"))
    assert reach == {p["ann"].id}
    audience = targeting.count_audience(db.session, criteria(), "email")
    assert (audience.targeted, audience.without_consent, audience.without_contact, audience.reachable) == (5, 3, 1, 1)


def test_letters_go_to_people_who_did_not_refuse_post_and_have_an_address(town):
    (_a, _b), p = town
    for person in p.values():
        person.street, person.town = "1 rue Test", "Lyon"
    p["eve"].street = None
    db.session.commit()
    consent(p["ann"], "post", True)
    consent(p["bob"], "post", False)  # opposed
    reach = ids(targeting.reachable_ids(db.session, criteria(), "letter"))
    assert reach == {p["ann"].id, p["cid"].id, p["dan"].id}  # no decision recorded: not opposed
    audience = targeting.count_audience(db.session, criteria(), "letter")
    assert (audience.without_consent, audience.without_contact, audience.reachable) == (1, 1, 3)


# Content.


def test_markdown_is_sanitised_and_merge_fields_escaped():
    body = "Bonjour **{{ prenom }}** <script>alert(1)</script> [site](javascript:alert(1)) [ok](https://example.org)"
    rendered = campaigns.render_content("Pour {{ prenom }}", body, {"prenom": "<b>Zoé</b>"})
    assert "<strong>&lt;b&gt;Zoé&lt;/b&gt;</strong>" in rendered.html
    assert "<script" not in rendered.html and "&lt;script&gt;" in rendered.html  # shown as text, never run
    assert 'href="javascript' not in rendered.html
    assert '<a href="https://example.org" rel="noopener">ok</a>' in rendered.html
    assert rendered.subject == "Pour <b>Zoé</b>"  # plain text: the e-mail header is not HTML
    assert rendered.text.startswith("Bonjour **<b>Zoé</b>**")


@pytest.mark.parametrize(
    "body,reason",
    [
        ("Bonjour {{ nom_de_famille }}", "merge_field"),
        ("Bonjour {{ prenom.__class__ }}", None),  # attribute access on a field: refused by the sandbox
        ("Bonjour {{ prenom ", "template"),
    ],
)
def test_merge_fields_are_checked_and_sandboxed(body, reason):
    if reason:
        with pytest.raises(campaigns.CampaignInvalid) as refused:
            campaigns.check_merge_fields(body)
        assert refused.value.reason == reason
    else:
        campaigns.check_merge_fields(body)
        with pytest.raises(campaigns.CampaignInvalid):
            campaigns.render_content("s", body, {"prenom": "Zoé"})


def test_merge_fields_of_many_people(town):
    (a, b), p = town
    fields = campaigns.merge_fields(db.session, [p["ann"].id, p["cid"].id, p["eve"].id], "Union Test")
    assert fields[p["ann"].id]["boutique_preferee"] in ("A", "B")
    assert fields[p["cid"].id]["boutique_preferee"] == "B"
    assert fields[p["cid"].id]["boutique_a_decouvrir"] == "A"  # the void visit at A does not count
    assert fields[p["eve"].id] == {
        "prenom": "eve",
        "points": 0,
        "boutique_preferee": "",
        "boutique_a_decouvrir": "A",  # the shop with the most customers
        "union": "Union Test",
    }


def save(make, **overrides):
    values = dict(
        name="Printemps",
        channel="email",
        criteria=criteria(),
        subject="Bonjour {{ prenom }}",
        body="Venez chez {{ boutique_a_decouvrir }}.",
        holdout_percent=10,
        by_id=None,
        now=NOW,
    )
    values.update(overrides)
    campaign = campaigns.save_campaign(db.session, None, **values)
    db.session.commit()
    return campaign


@pytest.mark.parametrize(
    "overrides,reason",
    [
        ({"name": " "}, "name"),
        ({"subject": ""}, "subject"),
        ({"body": "{{ inconnu }}"}, "merge_field"),
        ({"cta_kind": "link", "cta_url": "javascript:alert(1)"}, "cta_url"),
        ({"cta_kind": "offer", "offer_code": "no"}, "offer_code"),
        ({"cta_kind": "contest", "contest_id": 999}, "contest"),
        ({"holdout_percent": 80}, "holdout"),
    ],
)
def test_invalid_campaigns_are_refused_and_nothing_is_written(make, overrides, reason):
    with pytest.raises(campaigns.CampaignInvalid) as refused:
        save(make, **overrides)
    assert refused.value.reason == reason
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(campaigns.Campaign)) == 0


# The holdout group.


@given(st.text(min_size=8, max_size=32), st.integers(min_value=1, max_value=10**9), st.integers(0, 50))
def test_the_holdout_draw_is_stable(salt, customer_id, percent):
    assert campaigns.in_holdout(salt, customer_id, percent) == campaigns.in_holdout(salt, customer_id, percent)
    assert not campaigns.in_holdout(salt, customer_id, 0)


def test_the_holdout_share_is_about_the_percentage_and_differs_between_campaigns():
    people = range(1, 20_001)
    first = {person for person in people if campaigns.in_holdout("salt-one", person, 10)}
    second = {person for person in people if campaigns.in_holdout("salt-two", person, 10)}
    assert 1800 < len(first) < 2200 and 1800 < len(second) < 2200
    assert len(first & second) < 300  # independent draws: about 10 % of 10 %


def test_sending_freezes_the_audience_once_with_the_holdout_excluded(make):
    people = [make.customer(first_name=f"p{index}") for index in range(60)]
    for person in people:
        consent(person, "email", True)
    campaign = save(make, holdout_percent=20)
    queued = campaigns.start_sending(db.session, campaign, timezone="Europe/Paris", by_id=None, now=NOW)
    db.session.commit()
    rows = db.session.execute(
        select(CampaignRecipient.customer_id, CampaignRecipient.holdout, CampaignRecipient.status)
    ).all()
    held = {customer_id for customer_id, holdout, _status in rows if holdout}
    assert len(rows) == 60 and queued == 60 - len(held) and 0 < len(held) < 30
    assert all(status == ("holdout" if holdout else "queued") for _id, holdout, status in rows)
    assert held == {person.id for person in people if campaigns.in_holdout(campaign.salt, person.id, 20)}
    batch = campaigns.queued_batch(db.session, campaign.id, 1000)
    assert {customer_id for customer_id, _address in batch} == {person.id for person in people} - held
    with pytest.raises(campaigns.CampaignLocked):
        campaigns.start_sending(db.session, campaign, timezone="Europe/Paris", by_id=None, now=NOW)
    with pytest.raises(campaigns.CampaignLocked):
        campaigns.save_campaign(
            db.session,
            campaign,
            name="x",
            channel="email",
            criteria=criteria(),
            subject="s",
            body="b",
            by_id=None,
            now=NOW,
        )


def test_each_recipient_is_marked_sent_once_and_failures_are_retried_then_given_up(make):
    people = [make.customer() for _ in range(3)]
    for person in people:
        consent(person, "email", True)
    campaign = save(make, holdout_percent=0)
    campaigns.start_sending(db.session, campaign, timezone="Europe/Paris", by_id=None, now=NOW)
    first, second, third = (person.id for person in people)
    assert campaigns.mark_sent(db.session, campaign.id, first, NOW)
    assert not campaigns.mark_sent(db.session, campaign.id, first, NOW)  # a second worker's late answer
    campaigns.mark_failed(db.session, campaign.id, second, "451 try later", permanent=False)
    campaigns.mark_failed(db.session, campaign.id, third, "550 no such user", permanent=True)
    assert [customer_id for customer_id, _ in campaigns.queued_batch(db.session, campaign.id, 10)] == [second]
    assert not campaigns.finish_if_done(db.session, campaign.id, NOW)
    for _ in range(campaigns.MAX_ATTEMPTS - 1):
        campaigns.mark_failed(db.session, campaign.id, second, "451 try later", permanent=False)
    assert campaigns.queued_batch(db.session, campaign.id, 10) == []
    assert campaigns.finish_if_done(db.session, campaign.id, NOW)
    db.session.commit()
    assert campaigns.recipient_counts(db.session, campaign.id) == {"queued": 0, "sent": 1, "failed": 2, "holdout": 0}
    db.session.refresh(campaign)
    assert campaign.status == "sent"


def test_unsubscribing_withdraws_the_email_consent_and_records_it(make):
    person = make.customer()
    record_consents(db.session, person.id, {"email": True}, method="form", wordings={"email": "w"}, now=NOW)
    campaign = save(make)
    assert campaigns.unsubscribe(db.session, person.id, campaign, now=NOW)
    assert not campaigns.unsubscribe(db.session, person.id, campaign, now=NOW)  # nothing left to withdraw
    assert current_consents(db.session, person.id)["email"] is False
    last = db.session.scalars(select(Consent).order_by(Consent.id.desc())).first()
    assert (last.method, last.granted) == ("unsubscribe", False) and "Printemps" in last.wording


# The effect report.


def test_the_report_measures_a_known_effect(make):
    """Recipients were made to come three times as often as the holdout group, and half of them to a new shop.

    The holdout draw depends on the campaign's random salt, so each group's visits are spread
    evenly over its members (0, 1, 2, 0, ... and 2, 3, 4, 2, ...): means of 1 and 3 whatever
    the draw, with the spread of a real effect."""
    old_shop, new_shop = make.shop(name="Ancienne"), make.shop(name="Nouvelle")
    people = [make.customer() for _ in range(400)]
    for person in people:
        consent(person, "email", True)
    campaign = save(make, holdout_percent=25, report_days=30)
    campaigns.start_sending(db.session, campaign, timezone="Europe/Paris", by_id=None, now=NOW)
    db.session.commit()
    held = dict(db.session.execute(select(CampaignRecipient.customer_id, CampaignRecipient.holdout)).all())
    rows = []
    rank_in_group = {True: itertools.count(), False: itertools.count()}
    for person in people:
        rows.append((person, old_shop, 1000, NOW - timedelta(days=40)))  # everybody knew the old shop
        visits = next(rank_in_group[held[person.id]]) % 3 + (0 if held[person.id] else 2)  # means 1 and 3
        for index in range(visits):
            shop = new_shop if not held[person.id] and index == 0 and person.id % 2 else old_shop
            rows.append((person, shop, 2000, NOW + timedelta(days=1 + index)))
        rows.append((person, old_shop, 99_999, NOW + timedelta(days=31)))  # after the period: not counted
    add_visits(rows)
    report = campaigns.effect_report(db.session, campaign, NOW + timedelta(days=40))
    assert report.complete and report.sent.people + report.holdout.people == 400
    assert report.sent.visits_per_person == pytest.approx(3.0, abs=0.15)
    assert report.holdout.visits_per_person == pytest.approx(1.0, abs=0.15)
    assert report.visits.low < 2.0 < report.visits.high and report.visits.low > 1.5
    assert report.spend.value == pytest.approx(report.visits.value * 2000, rel=1e-9)
    odd_recipients = sum(1 for person in people if not held[person.id] and person.id % 2)
    assert report.sent.new_shop_visitors == odd_recipients and report.holdout.new_shop_visitors == 0


def test_the_report_of_a_campaign_not_sent_is_empty(make):
    assert campaigns.effect_report(db.session, save(make), NOW) is None
