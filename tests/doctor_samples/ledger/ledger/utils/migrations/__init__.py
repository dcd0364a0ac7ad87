"""How an old ledger entry is brought to the current schema, in Python, when it is read."""
SCHEMA_VERSION = 3


def upgrade_entry(entry: dict) -> dict:
    return {**entry, "schema": SCHEMA_VERSION}
