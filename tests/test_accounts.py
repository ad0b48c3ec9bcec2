import io
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts import services
from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "plover-anvil-sunrise-42"


def signup(client, **overrides):
    data = {
        "username": "newperson",
        "email": "newperson@example.com",
        "display_name": "New Person",
        "password": GOOD_PASSWORD,
        "password_again": GOOD_PASSWORD,
        **overrides,
    }
    return client.post(reverse("accounts:signup"), data)


def image_upload(image_format="PNG", size=(64, 48), name="me.png"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{image_format.lower()}")


# --- sign up -----------------------------------------------------------------------------


def test_signup_creates_the_account_and_logs_in(client):
    response = signup(client)

    assert response.status_code == 302
    user = User.objects.get(username="newperson")
    assert user.email == "newperson@example.com"
    assert user.display_name == "New Person"
    assert user.check_password(GOOD_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice"])
def test_signup_with_a_taken_username_in_any_case_is_refused(client, taken):
    UserFactory(username="alice")

    response = signup(client, username=taken, email="other@example.com")

    assert response.status_code == 400
    assert "That username is taken." in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("username", "reason"),
    [
        ("bad name", "letters (A–Z), digits or underscores"),
        ("semi;colon", "letters (A–Z), digits or underscores"),
        ("émile", "letters (A–Z), digits or underscores"),
        ("a" * 31, "at most 30 characters"),
    ],
)
def test_signup_with_an_invalid_username_is_refused(client, username, reason):
    response = signup(client, username=username)

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not User.objects.exists()


def test_a_thirty_character_username_is_accepted(client):
    signup(client, username="a" * 30)

    assert User.objects.filter(username="a" * 30).exists()


def test_signup_with_a_taken_email_in_any_case_is_refused(client):
    UserFactory(email="taken@example.com")

    response = signup(client, email="TAKEN@example.com")

    assert response.status_code == 400
    assert "That email address is already in use." in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short1", "too short"), ("password123", "too common"), ("83749201938", "entirely numeric")],
)
def test_signup_with_a_weak_password_is_refused(client, password, reason):
    response = signup(client, password=password, password_again=password)

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not User.objects.exists()


def test_signup_with_mismatched_passwords_is_refused(client):
    response = signup(client, password_again=GOOD_PASSWORD + "x")

    assert response.status_code == 400
    assert "The two passwords differ." in response.content.decode()
    assert not User.objects.exists()


# --- log in / out ------------------------------------------------------------------------


@pytest.mark.parametrize("login_as", ["Carol", "carol", "CAROL@Example.com"])
def test_login_with_username_or_email_in_any_case(client, login_as):
    carol = UserFactory(username="Carol", email="carol@example.com")

    response = client.post(reverse("accounts:login"), {"username": login_as, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(carol.pk)


def test_login_with_a_wrong_password_is_refused(client, user):
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": "nope-nope-nope"})

    assert response.status_code == 200
    assert "Wrong username, email or password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_ends_the_session(client, user):
    client.force_login(user)

    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_suspended_account_cannot_log_in_and_its_sessions_stop_working(client, user):
    client.force_login(user)
    assert client.get(reverse("accounts:edit_profile")).status_code == 200

    services.suspend_user(user)

    assert client.get(reverse("accounts:edit_profile")).status_code == 302  # sent to log in
    assert not client.login(username=user.username, password=PASSWORD)


def test_suspending_twice_is_idempotent(user):
    assert services.suspend_user(user) is True
    first_suspended_at = user.suspended_at

    assert services.suspend_user(user) is False
    assert user.suspended_at == first_suspended_at


# --- passwords ---------------------------------------------------------------------------


def test_password_change(client, user):
    client.force_login(user)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)


def test_password_reset_by_email_end_to_end(client, user):
    response = client.post(reverse("accounts:password_reset"), {"email": user.email.upper()})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]

    link = re.search(r"https?://[^/]+(/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(set_password_url, {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)


def test_password_reset_for_an_unknown_email_sends_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302  # same answer, so it does not reveal who has an account
    assert mail.outbox == []


# --- profile and avatar ------------------------------------------------------------------


def test_profile_edit_stores_a_reencoded_avatar(client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(user)

    response = client.post(
        reverse("accounts:edit_profile"),
        {"display_name": "Shiny", "bio": "hello", "avatar": image_upload(size=(1200, 900))},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Shiny"
    assert user.bio == "hello"
    assert user.avatar.name.startswith(f"avatars/{user.pk}/")
    with Image.open(user.avatar.path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (400, 300)


@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (SimpleUploadedFile("me.png", b"not an image at all", content_type="image/png"), "must be a JPEG, PNG"),
        (SimpleUploadedFile("me.svg", b"<svg onload=alert(1)></svg>", content_type="image/svg+xml"), "must be a JPEG"),
    ],
)
def test_a_non_image_avatar_is_refused_and_nothing_changes(client, user, settings, tmp_path, upload, reason):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(user)

    response = client.post(reverse("accounts:edit_profile"), {"display_name": "Changed", "avatar": upload})

    assert response.status_code == 400
    assert reason in response.content.decode()
    user.refresh_from_db()
    assert user.display_name != "Changed"
    assert not user.avatar
    assert list(tmp_path.iterdir()) == []


def test_an_oversized_avatar_is_refused(client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.AVATAR_MAX_BYTES = 1024
    client.force_login(user)

    response = client.post(reverse("accounts:edit_profile"), {"avatar": image_upload("BMP", size=(100, 100))})

    assert response.status_code == 400
    assert "The avatar is too large" in response.content.decode()
    user.refresh_from_db()
    assert not user.avatar


def test_an_image_of_an_unsupported_type_is_refused(client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(user)

    response = client.post(reverse("accounts:edit_profile"), {"avatar": image_upload("BMP", name="me.bmp")})

    assert response.status_code == 400
    assert "must be a JPEG, PNG, GIF or WebP" in response.content.decode()


def test_profile_page_of_a_suspended_account_is_gone(client, user):
    services.suspend_user(user)

    assert client.get(reverse("accounts:profile", args=[user.username])).status_code == 404


def test_profile_page_finds_the_account_in_any_case(client):
    UserFactory(username="MixedCase")

    response = client.get(reverse("accounts:profile", args=["mixedcase"]))

    assert response.status_code == 200
    assert "@MixedCase" in response.content.decode()


# --- counters ----------------------------------------------------------------------------


def test_recount_counters_repairs_drifted_counters(user):
    from tests.factories import make_post

    make_post(user)
    User.objects.filter(pk=user.pk).update(posts_count=7, followers_count=3)

    assert services.recount_counters() == 1
    user.refresh_from_db()
    assert (user.posts_count, user.followers_count, user.following_count) == (1, 0, 0)
    assert services.recount_counters() == 0


def test_a_too_long_bio_is_refused(user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at most 500 characters"):
        services.update_profile(user, bio="b" * 501)

    user.refresh_from_db()
    assert user.bio == ""
