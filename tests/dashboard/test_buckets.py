"""Time buckets of every size, computed by the database, match the bucket Python computes."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count

from dashboard.queries.buckets import STRIDES, BucketKey, floor_to_bucket, parse_bucket_key
from memory.models import Exchange
from tests.dashboard.conftest import call

START = datetime(2023, 5, 7, 13, 59, 58, 400_000, tzinfo=UTC)


@pytest.mark.parametrize("granularity", list(STRIDES))
def test_the_database_buckets_rows_where_python_does(tenant, granularity):
    moments = [START + timedelta(seconds=offset) for offset in (0, 1.1, 3.5, 70, 4000, 90_000, 700_000)]
    for moment in moments:
        exchange = call(tenant, process="importer", user="Imported turn.", assistant="Noted.", augment=False)
        Exchange.objects.filter(pk=exchange.pk).update(occurred_at=moment)

    rows = (
        Exchange.objects.annotate(bucket_key=BucketKey("occurred_at", granularity))
        .values("bucket_key")
        .annotate(n=Count("pk"))
    )
    counted = {parse_bucket_key(row["bucket_key"], granularity): row["n"] for row in rows}

    expected: dict[datetime, int] = {}
    for moment in moments:
        bucket = floor_to_bucket(moment, granularity)
        expected[bucket] = expected.get(bucket, 0) + 1
    assert counted == expected


def test_weeks_start_on_monday_and_days_at_midnight():
    assert floor_to_bucket(START, "week") == datetime(2023, 5, 1, tzinfo=UTC)  # a Monday
    assert floor_to_bucket(START, "day") == datetime(2023, 5, 7, tzinfo=UTC)
    assert floor_to_bucket(START, "5 seconds") == datetime(2023, 5, 7, 13, 59, 55, tzinfo=UTC)


def test_an_unknown_bucket_size_is_refused():
    with pytest.raises(ValueError, match="Unknown bucket size"):
        BucketKey("occurred_at", "fortnight")
