"""Small database helpers the ORM lacks."""

from django.db import connection
from django.db.models import AutoField, Model


def insert_if_absent(model: type[Model], **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True if this call inserted the row.

    `get_or_create` is not safe against a concurrent delete: its fallback read can find
    the row already gone (a follow/unfollow storm on one pair) and raise IntegrityError.
    One statement decides atomically, with the unique constraint as the judge.
    """
    instance = model(**values)
    fields = [
        field
        for field in model._meta.local_concrete_fields
        if not isinstance(field, AutoField) and not field.has_db_default()
    ]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    parameters = [field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING RETURNING 1",  # noqa: S608
            parameters,
        )
        return cursor.fetchone() is not None
