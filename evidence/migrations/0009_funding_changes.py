import secrets

from django.db import migrations

# The data version of what the funding figures are counted from (evidence.selectors._funding_version):
# the grants, the organisations' segments, the services (the listed ones, and whose they are) and the
# needs they meet. PostgreSQL: after every statement that writes rows of one of those tables (TRUNCATE
# too; not an UPDATE that matched none, as the facets' triggers run for every organisation saved), a
# trigger adds its transaction's row to evidence_funding_change, once per transaction, so the version
# (the sum of `changes`) moves on when, and only when, a transaction that wrote there commits; one
# rolled back leaves nothing. Rows are only ever inserted, one per transaction, so writers never wait
# for each other here (a counter updated in place would hold every writer of those tables behind the
# first until it commits). The row of transaction 0 starts at a random number, so that two databases
# (a test database made again, say) never share a version in a shared cache, and takes over the other
# rows' changes when they are pruned (services.prune_funding_changes): the sum never goes back. Not a
# model: Django's flush (tests) leaves it as it is. SQLite has none of this: the figures are counted
# every time there.
CHANGES = "evidence_funding_change"
FUNCTION = "evidence_funding_changed"
SOURCES = ("evidence_grant", "organisations_organisation_segments", "directory_service", "directory_service_needs")
# (trigger name's end, event, transition table): the rows each statement wrote, seen as `changed`.
EVENTS = (("insert", "INSERT", "NEW TABLE"), ("update", "UPDATE", "NEW TABLE"), ("delete", "DELETE", "OLD TABLE"))
RECORD = f"INSERT INTO {CHANGES} (transaction) VALUES (txid_current()) ON CONFLICT (transaction) DO NOTHING"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE TABLE {CHANGES} (transaction bigint PRIMARY KEY, changes bigint NOT NULL DEFAULT 1)")
    schema_editor.execute(f"INSERT INTO {CHANGES} (transaction, changes) VALUES (0, %s)", [secrets.randbits(52)])
    schema_editor.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF EXISTS (SELECT FROM changed) THEN {RECORD}; END IF; RETURN NULL; END $$"
    )
    schema_editor.execute(f"CREATE FUNCTION {FUNCTION}_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {RECORD}; RETURN NULL; END $$")
    for table in SOURCES:
        for name, event, transition in EVENTS:
            schema_editor.execute(
                f"CREATE TRIGGER {FUNCTION}_{name} AFTER {event} ON {table} REFERENCING {transition} AS changed "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
        schema_editor.execute(f"CREATE TRIGGER {FUNCTION}_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}_all()")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in SOURCES:
        for name in (*(name for name, _event, _transition in EVENTS), "truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {FUNCTION}_{name} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}_all()")
    schema_editor.execute(f"DROP TABLE IF EXISTS {CHANGES}")


class Migration(migrations.Migration):

    dependencies = [
        ("evidence", "0008_grant_recipient_ward_and_stage"),
        ("directory", "0010_service_search_rows"),
        ("organisations", "0007_organisation_ward_stage"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
