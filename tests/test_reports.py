import pytest
from django.core.exceptions import ValidationError

from accounts.models import Report
from accounts.services import file_report
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db


def test_a_report_about_an_account_and_its_posts(user, other_user):
    first, second = make_post(other_user, "spam 1"), make_post(other_user, "spam 2")

    report = file_report(user, other_user, category="spam", comment="buy now links", posts=[first, second])

    stored = Report.objects.get()
    assert (stored.pk, stored.reporter, stored.target) == (report.pk, user, other_user)
    assert (stored.category, stored.status, stored.comment) == ("spam", "open", "buy now links")
    assert sorted(stored.posts.values_list("pk", flat=True)) == sorted([first.pk, second.pk])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"category": "made-up"}, "is not a valid choice"),
        ({"comment": "x" * 1001}, "at most 1000 characters"),
    ],
)
def test_a_malformed_report_is_refused(user, other_user, change, reason):
    with pytest.raises(ValidationError, match=reason):
        file_report(user, other_user, **{"category": "other", **change})

    assert not Report.objects.exists()


def test_reporting_yourself_or_someone_elses_posts_is_refused(user, other_user):
    third = UserFactory()
    mine = make_post(user)

    with pytest.raises(ValidationError, match="cannot report yourself"):
        file_report(user, user, category="other")
    with pytest.raises(ValidationError, match="must be by the reported account"):
        file_report(other_user, third, category="spam", posts=[mine])

    assert not Report.objects.exists()
