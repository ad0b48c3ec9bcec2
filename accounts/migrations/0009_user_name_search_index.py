"""A trigram index for the admin's account search (see accounts.models.NameSearch).

Built CONCURRENTLY (hence atomic = False) so accounts keep signing up and following
while it builds.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations

import accounts.models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_moderators_group"),
    ]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name="user",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(accounts.models.NameSearch(), name="gin_trgm_ops"),
                name="accounts_user_name_trgm",
            ),
        ),
        # Statistics for the new expression, so the planner knows how common a name is.
        migrations.RunSQL("ANALYZE accounts_user", migrations.RunSQL.noop),
    ]
