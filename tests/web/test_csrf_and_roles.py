"""Every state-changing form needs a CSRF token; every route checks the role."""

import re

import pytest

from tests.factories import PASSWORD

# endpoint -> (who posts, a URL of it); a new POST route must be added here.
POST_ROUTES = {
    "auth.login": (None, "/auth/login"),
    "auth.signup": (None, "/auth/signup"),
    "auth.reset_request": (None, "/auth/reset"),
    "auth.reset_password": (None, "/auth/reset/any-token"),
    "auth.logout": ("shopper", "/auth/logout"),
    "auth.change_password": ("shopper", "/auth/password"),
    "auth.resend_confirmation": ("shopper", "/auth/confirm/resend"),
    "shopper.account": ("shopper", "/account"),
    "shopper.reissue_card": ("shopper", "/card/reissue"),
    "shopper.update_consents": ("shopper", "/account/consents"),
    "shopper.delete_account": ("shopper", "/account/delete"),
    "counter.credit": ("merchant", "/counter/credit"),
    "counter.void": ("merchant", "/counter/visits/1/void"),
    "backoffice.settings": ("admin", "/admin/settings"),
    "backoffice.shop_edit": ("admin", "/admin/shops/new"),
    "backoffice.staff": ("admin", "/admin/staff"),
    "backoffice.staff_toggle": ("admin", "/admin/staff/1/toggle"),
    "backoffice.dashboard_refresh": ("admin", "/admin/dashboards/refresh"),
    "backoffice.dashboard_cross_shop_save": ("admin", "/admin/dashboards/cross-shop/1/2/save"),
    "backoffice.dashboard_zone_save": ("admin", "/admin/dashboards/zones"),
    "backoffice.person_merge": ("admin", "/admin/customers/1/merge"),
    "backoffice.merge_undo": ("admin", "/admin/customers/merges/1/undo"),
    "backoffice.review_resolve": ("admin", "/admin/customers/review/1"),
    "backoffice.import_customers_upload": ("admin", "/admin/imports/customers"),
    "backoffice.import_visits_upload": ("admin", "/admin/imports/visits"),
    "backoffice.import_preview": ("admin", "/admin/imports/" + "A" * 32),
    "backoffice.import_cancel": ("admin", "/admin/imports/" + "A" * 32 + "/cancel"),
    "contests.enter": (None, "/contests/any-contest/enter"),
    "contests.manage.edit": ("organiser", "/contests/manage/new"),
    "contests.manage.publish": ("organiser", "/contests/manage/1/publish"),
    "contests.manage.moderate": ("organiser", "/contests/manage/1/moderation"),
    "contests.manage.commit": ("organiser", "/contests/manage/1/commit"),
    "contests.manage.draw": ("organiser", "/contests/manage/1/draw"),
    "contests.manage.notify": ("organiser", "/contests/manage/1/notify"),
    "backoffice.campaign_edit": ("admin", "/admin/campaigns/new"),
    "backoffice.campaign_test": ("admin", "/admin/campaigns/1/test"),
    "backoffice.campaign_send": ("organiser", "/admin/campaigns/1/send"),
    "backoffice.campaign_schedule": ("admin", "/admin/campaigns/1/schedule"),
    "backoffice.campaign_cancel": ("admin", "/admin/campaigns/1/cancel"),
    "backoffice.posters": ("organiser", "/admin/posters"),
}
# POST routes without a form token: a signed token in the URL authenticates them (RFC 8058 one-click
# unsubscribe from mail clients); tests/web/test_campaigns_pages.py checks that a bad token changes nothing.
TOKEN_POSTS = {"shopper.unsubscribe"}
PUBLIC_POSTS = [url for role, url in POST_ROUTES.values() if role is None]
SIGNED_IN_POSTS = [(role, url) for role, url in POST_ROUTES.values() if role]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def csrf_login(client, account):
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/auth/login", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_every_post_route_is_in_this_test(app):
    """A new POST route must be listed in POST_ROUTES, so its CSRF protection is tested."""
    posting = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.endpoint.startswith("api.")
    }
    assert posting == set(POST_ROUTES) | TOKEN_POSTS


@pytest.mark.parametrize("path", PUBLIC_POSTS)
def test_public_forms_reject_a_missing_token(client, path):
    response = client.post(path, data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400
    assert "formulaire a expiré" in response.get_data(as_text=True)


@pytest.mark.parametrize("role,path", SIGNED_IN_POSTS)
def test_signed_in_forms_reject_a_missing_token(client, make, role, path):
    account = make.shopper() if role == "shopper" else make.staff(role=role)
    csrf_login(client, account)
    response = client.post(path, data={"amount": "5", "card": "123"})
    assert response.status_code == 400
    assert client.get("/auth/login").status_code == 302  # still signed in: nothing else happened


@pytest.mark.parametrize(
    "role,path,status",
    [
        ("shopper", "/counter/", 403),
        ("shopper", "/admin/", 403),
        ("merchant", "/admin/", 403),
        ("merchant", "/card", 403),
        ("organiser", "/admin/settings", 403),
        ("organiser", "/admin/staff", 403),
        ("merchant", "/account", 403),
        ("admin", "/counter/", 403),
        (None, "/card", 302),
        (None, "/counter/", 302),
        (None, "/admin/", 302),
        ("shopper", "/contests/manage/", 403),
        ("merchant", "/contests/manage/", 403),
        ("merchant", "/contests/manage/1/moderation", 403),
        ("shopper", "/contests/manage/1/entries/1/photo.png", 403),
        ("merchant", "/contests/mine", 403),
        ("organiser", "/contests/mine", 403),
        (None, "/contests/manage/", 302),
        (None, "/contests/mine", 302),
    ],
)
def test_role_checks(client, make, role, path, status):
    if role:
        account = make.shopper() if role == "shopper" else make.staff(role=role)
        csrf_login(client, account)
    assert client.get(path).status_code == status
