"""schemathesis against the OpenAPI schema (/api/schema/): generated requests to every
operation, as an anonymous caller and as a signed-in app, must never get a 5xx and never
an answer that breaks the schema.

Runs in-process through the WSGI application, inside each test's transaction, on a small
world (accounts, posts, a follow, a like) so that some generated ids hit real rows.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from graph.services import follow
from posts.services import like
from tests.api_clients import api_for
from tests.factories import UserFactory, make_post

EXAMPLES_PER_OPERATION = 20
REQUESTS_WANTED = 2_000

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application()).exclude(
    path_regex="^/api/v1/streaming"  # server-sent events: an endless response, tested in test_streaming*
)
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance]
sent: list[int] = []  # status codes of every generated request, for the count at the end


@pytest.fixture
def world(db, settings):
    # Thousands of requests from one token and one IP: no rate limit in the way.
    settings.RATE_LIMITS = {bucket: (10**9, window) for bucket, (_, window) in settings.RATE_LIMITS.items()}
    owner, other = UserFactory(username="owner"), UserFactory(username="other")
    post = make_post(owner, "hello #world @other")
    make_post(other, "a reply", reply_to=post)
    follow(other, owner)
    like(other, post)
    # As Django's test client does: the WSGI handler would otherwise close the test's
    # connection (and its transaction) at the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"owner": owner, "token": api_for(owner).token}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("caller", ["anonymous", "authenticated"])
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests(case, caller, world):
    headers = {"Authorization": f"Bearer {world['token']}"} if caller == "authenticated" else {}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    sent.append(response.status_code)


def test_enough_requests_were_sent(request):
    ran = [item for item in request.session.items if item.name.startswith("test_generated_requests[")]
    if len(ran) < 2 * len(list(schema.get_all_operations())):
        pytest.skip("only part of the schemathesis run was selected")
    assert len(sent) >= REQUESTS_WANTED, f"only {len(sent)} generated requests"
    assert not [code for code in sent if code >= 500]
