"""Back office: branding with logo upload, shops, staff accounts."""

import io

import pytest
from PIL import Image
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Account, Shop, Union


def image_bytes(fmt="PNG", size=(64, 48), **save):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt, **save)
    return buffer.getvalue()


@pytest.fixture
def admin(make, login):
    make.union()
    account = make.staff(role="admin")
    login(account)
    return account


def settings_form(**changes):
    data = {
        "name": "Les Vitrines",
        "tagline": "",
        "address": "1 place",
        "primary_color": "#7a1f3d",
        "accent_color": "#5a2d82",
        "points_per_euro": "2",
        "cooldown_minutes": "15",
        "rules_text": "",
    }
    data.update(changes)
    return data


def test_settings_update_with_jpeg_logo_reencoded_without_metadata(client, admin):
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    jpeg = image_bytes("JPEG", exif=exif.tobytes())
    response = client.post(
        "/admin/settings", data=settings_form(logo=(io.BytesIO(jpeg), "logo.jpg")), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    union = db.session.scalar(select(Union))
    assert (union.name, union.points_per_euro, union.cooldown_minutes) == ("Les Vitrines", 2, 15)
    stored = Image.open(io.BytesIO(union.logo_png))
    assert stored.format == "PNG" and stored.size == (64, 48)
    assert b"secret description" not in union.logo_png and not stored.info.get("exif")
    logo = client.get("/logo.png")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert "Les Vitrines" in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize(
    "payload,filename,message",
    [
        (image_bytes("GIF"), "disguised.png", "PNG et JPEG"),
        (b"not an image at all", "logo.png", "pas une image"),
        (image_bytes("GIF"), "logo.gif", "PNG ou JPEG uniquement"),
        (image_bytes("PNG", size=(5000, 4000)), "big.png", "trop grande"),
    ],
)
def test_bad_logos_are_refused_and_change_nothing(client, admin, payload, filename, message):
    response = client.post(
        "/admin/settings",
        data=settings_form(name="Changed", logo=(io.BytesIO(payload), filename)),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    union = db.session.scalar(select(Union))
    assert union.name == "Union Test" and union.logo_png is None


def test_low_contrast_colour_is_refused(client, admin):
    response = client.post("/admin/settings", data=settings_form(primary_color="#ffff00"))
    assert response.status_code == 422 and "contraste" in response.get_data(as_text=True)


def test_shops_create_edit_and_unique_slug(client, admin):
    response = client.post("/admin/shops/new", data={"name": "Fromagerie", "slug": "fromagerie", "postcode": "69004"})
    assert response.status_code == 302
    shop = db.session.scalar(select(Shop))
    assert client.post("/admin/shops/new", data={"name": "Autre", "slug": "fromagerie"}).status_code == 422
    assert client.post("/admin/shops/new", data={"name": "Autre", "slug": "Bad Slug"}).status_code == 422
    assert (
        client.post(
            f"/admin/shops/{shop.id}", data={"name": "Fromagerie Mère Richard", "slug": "fromagerie"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).name == "Fromagerie Mère Richard"
    assert "Fromagerie Mère Richard" in client.get("/admin/shops").get_data(as_text=True)


def test_staff_creation_rules(client, admin, make):
    shop = make.shop()
    base = {
        "display_name": "Marc",
        "email": "marc@example.org",
        "password": "tilleul orage pente canut",
        "role": "merchant",
        "shop_id": "0",
    }
    response = client.post("/admin/staff", data=base)
    assert response.status_code == 422 and "rattaché" in response.get_data(as_text=True)
    response = client.post("/admin/staff", data={**base, "shop_id": str(shop.id), "password": "short"})
    assert response.status_code == 422
    assert client.post("/admin/staff", data={**base, "shop_id": str(shop.id)}).status_code == 302
    merchant = db.session.scalar(select(Account).where(Account.email == "marc@example.org"))
    assert merchant.role == "merchant" and merchant.shop_id == shop.id


def test_disabling_staff_ends_their_sessions(app, client, admin, make, login):
    merchant = make.staff()
    counter = app.test_client()
    login(merchant, on=counter)
    assert counter.get("/counter/").status_code == 200
    assert client.post(f"/admin/staff/{merchant.id}/toggle").status_code == 302
    assert counter.get("/counter/").status_code == 302
    assert client.post(f"/admin/staff/{admin.id}/toggle").status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, admin.id).active
