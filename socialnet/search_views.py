"""The search page: accounts, hashtags and posts, through the same selectors as the API's search."""

from django.shortcuts import render

from accounts.selectors import search_accounts
from posts.selectors import search_hashtags, search_statuses

QUERY_MAX = 500
ACCOUNTS_SHOWN, HASHTAGS_SHOWN, POSTS_SHOWN = 6, 8, 20


def search(request):
    query = request.GET.get("q", "").replace("\x00", "")[:QUERY_MAX].strip()
    context = {"query": query, "nav": "search"}
    if query:
        context |= {
            "accounts": list(search_accounts(request.user, query)[:ACCOUNTS_SHOWN]),
            "hashtags": list(search_hashtags(query)[:HASHTAGS_SHOWN]),
            # A leading # or @ asks for a tag or a person; full-text search would only add noise.
            "posts": [] if query[0] in "#@" else list(search_statuses(request.user, query)[:POSTS_SHOWN]),
        }
    return render(request, "search.html", context)
