from django.http import Http404

from .models import User


def get_visible_account(username: str) -> User:
    """An account anyone may look at; suspended and deactivated ones are 404."""
    try:
        return User.objects.active().get(username__iexact=username)
    except User.DoesNotExist:
        raise Http404("No such account.") from None
