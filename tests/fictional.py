"""The test suite's shared constants: one fictional school, one account, one moment.

Every name and passphrase here is made up. NOW is Monday 23 November 2026, 11:00 GMT, a
working day in England (London time is UTC in November). FAST_KDF is the cheapest Argon2id
cost a key slot may ask for, so that tests unlock in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dsl_console.store.keyslots import KdfCost

FAST_KDF = KdfCost(time_cost=5, memory_kib=7168, parallelism=1)  # the least a slot may ask
USER, PASSPHRASE = "jo.lead", "fictional test passphrase"
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
SCHOOL = "Example Primary School"
