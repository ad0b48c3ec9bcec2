"""Indexes for the moderators' admin: text search and the hidden-posts filter.

Built CONCURRENTLY (hence atomic = False): on a table of millions of posts a plain
CREATE INDEX would block every new post for as long as the build takes.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("posts", "0003_search_indexes"),
    ]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name="post",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("text"), name="gin_trgm_ops"
                ),
                name="posts_post_text_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="post",
            index=models.Index(condition=models.Q(("is_hidden", True)), fields=["id"], name="posts_post_hidden"),
        ),
        # Statistics for the new UPPER(text) expression. Without them the planner guesses that
        # 100 posts match, and for a common word reads and sorts every match (0.5 s on 1 M
        # posts) instead of walking the newest posts until a page is full (2 ms).
        migrations.RunSQL("ANALYZE posts_post", migrations.RunSQL.noop),
    ]
