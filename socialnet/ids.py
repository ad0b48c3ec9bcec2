"""Time-sortable ids for posts and notifications, kept below 2**53.

An id is `(milliseconds since EPOCH) << 12 | sequence`: 41 bits of time (69 years) and
12 bits of sequence. It must stay below 2**53 because the same number is the member *and*
the score in Redis sorted sets, and scores are IEEE doubles (design.md, pitfalls.md).

PostgreSQL makes the ids (`socialnet_next_id`), so every process of every host draws
from one sequence: ids are unique as long as fewer than 4,096 are made in one
millisecond, the same trade Instagram's sharded ids make.
"""

from datetime import UTC, datetime

from django.db import connection
from django.db.models import Func, Value
from django.db.models.fields import BigIntegerField

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
EPOCH_MS = int(EPOCH.timestamp() * 1000)
SEQUENCE_BITS = 12
MAX_ID = 2**53 - 1

# Only our own integer constants are interpolated into this SQL.
CREATE_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION socialnet_next_id(
    seq_name text, at timestamptz DEFAULT clock_timestamp()
) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT ((floor(extract(epoch FROM at) * 1000)::bigint - {EPOCH_MS})
            << {SEQUENCE_BITS})
           | (nextval(seq_name::regclass) % {1 << SEQUENCE_BITS})
$$;
"""  # noqa: S608
DROP_FUNCTION_SQL = "DROP FUNCTION IF EXISTS socialnet_next_id(text, timestamptz);"


class NextId(Func):
    """Database default for an id column: `socialnet_next_id('<sequence>')`."""

    function = "socialnet_next_id"
    output_field = BigIntegerField()

    def __init__(self, sequence_name: str):
        super().__init__(Value(sequence_name))


def next_id_at(sequence_name: str, moment: datetime) -> int:
    """A unique id for a row backdated to `moment` (imports, the demo world)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT socialnet_next_id(%s, %s)", [sequence_name, moment])
        return cursor.fetchone()[0]


def id_at(moment: datetime, sequence: int = 0) -> int:
    """The id a row made at `moment` would get (the lowest one, for sequence 0).

    Turns a time into a pagination bound (`max_id` for "posts before Tuesday").
    """
    milliseconds = int(moment.timestamp() * 1000) - EPOCH_MS
    if milliseconds < 0:
        raise ValueError(f"{moment} is before the id epoch {EPOCH}")
    return (milliseconds << SEQUENCE_BITS) | (sequence % (1 << SEQUENCE_BITS))


def time_of(snowflake_id: int) -> datetime:
    """When the row with this id was made, to the millisecond."""
    return datetime.fromtimestamp(((snowflake_id >> SEQUENCE_BITS) + EPOCH_MS) / 1000, tz=UTC)


def parse_id(value) -> int | None:
    """An id from user input (a query parameter), or None if it cannot be one."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ID else None
