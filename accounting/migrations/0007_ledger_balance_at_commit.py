"""The balance of every voucher touched, checked at commit, with nothing a session can set to skip it.

PostgreSQL only (SQLite has no deferred triggers; it keeps the edit guards of 0002). The trigger
of 0002 skipped its check when the setting `accounting.balanced_voucher` named the voucher, and
any session could set it. Now each statement that inserts, updates or deletes ledger rows notes
the vouchers it touched, one row per voucher, in `accounting_ledger_balance_due`; a deferred
constraint trigger on that table checks each of those vouchers once at commit and clears its
row. A session that sets a constraint IMMEDIATE only has the check run sooner; one that deletes
the rows noted does not stop the checks already queued. The triggers are ENABLE ALWAYS, so
`session_replication_role = replica` does not switch them off either.
"""

from django.db import migrations

POSTGRES_FORWARD = r"""
DROP TRIGGER IF EXISTS accounting_ledger_unchecked ON accounting_ledgerentry;
DROP FUNCTION IF EXISTS accounting_ledger_unchecked();
DROP TRIGGER IF EXISTS accounting_ledger_balanced ON accounting_ledgerentry;
DROP FUNCTION IF EXISTS accounting_ledger_balanced();

-- The vouchers whose ledger rows a statement of the transaction touched; empty between
-- transactions.
CREATE TABLE accounting_ledger_balance_due (voucher_id bigint NOT NULL);

CREATE FUNCTION accounting_ledger_balance_due() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO accounting_ledger_balance_due (voucher_id)
            SELECT DISTINCT voucher_id FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO accounting_ledger_balance_due (voucher_id)
            SELECT voucher_id FROM new_rows UNION SELECT voucher_id FROM old_rows;
    ELSE
        INSERT INTO accounting_ledger_balance_due (voucher_id)
            SELECT DISTINCT voucher_id FROM old_rows;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- A trigger with transition tables takes one event, hence three.
CREATE TRIGGER accounting_ledger_balance_due_insert
    AFTER INSERT ON accounting_ledgerentry REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_ledger_balance_due();
CREATE TRIGGER accounting_ledger_balance_due_update
    AFTER UPDATE ON accounting_ledgerentry REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_ledger_balance_due();
CREATE TRIGGER accounting_ledger_balance_due_delete
    AFTER DELETE ON accounting_ledgerentry REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_ledger_balance_due();

CREATE FUNCTION accounting_ledger_balanced() RETURNS trigger AS $$
DECLARE
    difference numeric;
BEGIN
    SELECT COALESCE(SUM(debit) - SUM(credit), 0) INTO difference
      FROM accounting_ledgerentry WHERE voucher_id = NEW.voucher_id;
    IF difference <> 0 THEN
        RAISE EXCEPTION 'ledger entries of voucher % do not balance (debits - credits = %)',
            NEW.voucher_id, difference USING ERRCODE = 'check_violation';
    END IF;
    -- Keeps the table empty; a queued check runs whether or not its row is still there.
    DELETE FROM accounting_ledger_balance_due WHERE voucher_id = NEW.voucher_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER accounting_ledger_balanced
    AFTER INSERT ON accounting_ledger_balance_due
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION accounting_ledger_balanced();

ALTER TABLE accounting_ledgerentry ENABLE ALWAYS TRIGGER accounting_ledger_balance_due_insert;
ALTER TABLE accounting_ledgerentry ENABLE ALWAYS TRIGGER accounting_ledger_balance_due_update;
ALTER TABLE accounting_ledgerentry ENABLE ALWAYS TRIGGER accounting_ledger_balance_due_delete;
ALTER TABLE accounting_ledger_balance_due ENABLE ALWAYS TRIGGER accounting_ledger_balanced;
"""

# Back to the triggers of 0002.
POSTGRES_REVERSE = r"""
DROP TRIGGER IF EXISTS accounting_ledger_balanced ON accounting_ledger_balance_due;
DROP FUNCTION IF EXISTS accounting_ledger_balanced();
DROP TRIGGER IF EXISTS accounting_ledger_balance_due_insert ON accounting_ledgerentry;
DROP TRIGGER IF EXISTS accounting_ledger_balance_due_update ON accounting_ledgerentry;
DROP TRIGGER IF EXISTS accounting_ledger_balance_due_delete ON accounting_ledgerentry;
DROP FUNCTION IF EXISTS accounting_ledger_balance_due();
DROP TABLE IF EXISTS accounting_ledger_balance_due;

CREATE OR REPLACE FUNCTION accounting_ledger_balanced() RETURNS trigger AS $$
DECLARE
    difference numeric;
BEGIN
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
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0006_voucher_chain")]

    operations = [migrations.RunPython(install, uninstall)]
