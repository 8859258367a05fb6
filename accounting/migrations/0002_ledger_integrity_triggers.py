"""Database-level guards, so that even raw SQL cannot unbalance or rewrite the books.

PostgreSQL: a deferred constraint trigger refuses a commit in which a voucher's ledger entries do
not sum to zero, and row triggers refuse edits of ledger entries and of posted vouchers and their
lines. SQLite has no deferred triggers; it gets the edit guards.
"""

from django.db import migrations

POSTGRES_FORWARD = r"""
CREATE OR REPLACE FUNCTION accounting_ledger_balanced() RETURNS trigger AS $$
DECLARE
    difference numeric;
BEGIN
    -- The deferred checks run in insertion order, so a voucher's rows come together: check the
    -- first, skip the rest. One setting name for the whole session, cleared by every new insert
    -- (accounting_ledger_unchecked), so rows added after a check are checked again.
    IF current_setting('accounting.balanced_voucher', true) = NEW.voucher_id::text THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(SUM(debit) - SUM(credit), 0) INTO difference
      FROM accounting_ledgerentry WHERE voucher_id = NEW.voucher_id;
    IF difference <> 0 THEN
        RAISE EXCEPTION 'ledger entries of voucher % do not balance (debits - credits = %)',
            NEW.voucher_id, difference USING ERRCODE = 'check_violation';
    END IF;
    PERFORM set_config('accounting.balanced_voucher', NEW.voucher_id::text, true);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER accounting_ledger_balanced
    AFTER INSERT ON accounting_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION accounting_ledger_balanced();

CREATE OR REPLACE FUNCTION accounting_ledger_unchecked() RETURNS trigger AS $$
BEGIN
    PERFORM set_config('accounting.balanced_voucher', '', true);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounting_ledger_unchecked
    AFTER INSERT ON accounting_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_ledger_unchecked();

CREATE OR REPLACE FUNCTION accounting_ledger_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries cannot be changed or deleted' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounting_ledger_immutable
    BEFORE UPDATE OR DELETE ON accounting_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION accounting_ledger_immutable();

CREATE OR REPLACE FUNCTION accounting_posted_voucher_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('posted', 'reversed') THEN
            RAISE EXCEPTION 'posted voucher % cannot be deleted', OLD.number
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status IN ('posted', 'reversed') AND NOT (
        OLD.status = 'posted' AND NEW.status IN ('posted', 'reversed')
        AND (NEW.number, NEW.sequence, NEW.date, NEW.fiscal_year_id, NEW.voucher_type_id,
             NEW.organization_id, NEW.party_id, NEW.reference, NEW.narration, NEW.data::text)
            IS NOT DISTINCT FROM
            (OLD.number, OLD.sequence, OLD.date, OLD.fiscal_year_id, OLD.voucher_type_id,
             OLD.organization_id, OLD.party_id, OLD.reference, OLD.narration, OLD.data::text)
    ) THEN
        RAISE EXCEPTION 'posted voucher % cannot be changed', OLD.number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounting_posted_voucher_immutable
    BEFORE UPDATE OR DELETE ON accounting_voucher
    FOR EACH ROW EXECUTE FUNCTION accounting_posted_voucher_immutable();

CREATE OR REPLACE FUNCTION accounting_posted_line_immutable() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM accounting_voucher
               WHERE id = OLD.voucher_id AND status IN ('posted', 'reversed')) THEN
        RAISE EXCEPTION 'lines of a posted voucher cannot be changed'
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounting_posted_line_immutable
    BEFORE UPDATE OR DELETE ON accounting_voucherline
    FOR EACH ROW EXECUTE FUNCTION accounting_posted_line_immutable();
"""

POSTGRES_REVERSE = r"""
DROP TRIGGER IF EXISTS accounting_posted_line_immutable ON accounting_voucherline;
DROP FUNCTION IF EXISTS accounting_posted_line_immutable();
DROP TRIGGER IF EXISTS accounting_posted_voucher_immutable ON accounting_voucher;
DROP FUNCTION IF EXISTS accounting_posted_voucher_immutable();
DROP TRIGGER IF EXISTS accounting_ledger_immutable ON accounting_ledgerentry;
DROP FUNCTION IF EXISTS accounting_ledger_immutable();
DROP TRIGGER IF EXISTS accounting_ledger_unchecked ON accounting_ledgerentry;
DROP FUNCTION IF EXISTS accounting_ledger_unchecked();
DROP TRIGGER IF EXISTS accounting_ledger_balanced ON accounting_ledgerentry;
DROP FUNCTION IF EXISTS accounting_ledger_balanced();
"""

# SQLite: no DELETE guards, because its test databases are emptied with DELETE.
SQLITE_FORWARD = [
    """
    CREATE TRIGGER accounting_ledger_immutable BEFORE UPDATE ON accounting_ledgerentry
    BEGIN SELECT RAISE(ABORT, 'ledger entries cannot be changed or deleted'); END;
    """,
    """
    CREATE TRIGGER accounting_posted_voucher_immutable BEFORE UPDATE ON accounting_voucher
    WHEN OLD.status IN ('posted', 'reversed') AND NOT (
        OLD.status = 'posted' AND NEW.status IN ('posted', 'reversed')
        AND NEW.number IS OLD.number AND NEW.sequence IS OLD.sequence AND NEW.date IS OLD.date
        AND NEW.fiscal_year_id IS OLD.fiscal_year_id AND NEW.voucher_type_id IS OLD.voucher_type_id
        AND NEW.organization_id IS OLD.organization_id AND NEW.party_id IS OLD.party_id
        AND NEW.reference IS OLD.reference AND NEW.narration IS OLD.narration
        AND NEW.data IS OLD.data)
    BEGIN SELECT RAISE(ABORT, 'posted voucher cannot be changed'); END;
    """,
    """
    CREATE TRIGGER accounting_posted_line_immutable BEFORE UPDATE ON accounting_voucherline
    WHEN EXISTS (SELECT 1 FROM accounting_voucher
                 WHERE id = OLD.voucher_id AND status IN ('posted', 'reversed'))
    BEGIN SELECT RAISE(ABORT, 'lines of a posted voucher cannot be changed'); END;
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS accounting_ledger_immutable;",
    "DROP TRIGGER IF EXISTS accounting_posted_voucher_immutable;",
    "DROP TRIGGER IF EXISTS accounting_posted_line_immutable;",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
