"""A version of what posting checks of an organization, moved on by the database at every change.

PostgreSQL only. Posting checks a new voucher against facts it reads: its accounts (active, not a
group, the organization's) and the accounting period of its date (open). A process that has read
an organization's facts keeps them with the version they were read at, and the statement that
posts a voucher writes nothing unless the version is still the same: the checks are made in
Python against facts the write itself confirms, without reading them again for every voucher.

Row triggers on accounts, fiscal years and periods move the organization's version on at every
INSERT, UPDATE and DELETE (and a TRUNCATE forgets every version); the triggers are ENABLE
ALWAYS, like the ledger's, and a version is never given twice: it comes from a sequence of its own.
"""

from django.db import migrations

POSTGRES_FORWARD = r"""
CREATE SEQUENCE accounting_posting_facts_version_seq;

CREATE TABLE accounting_posting_facts_version (
    organization_id bigint PRIMARY KEY,
    version bigint NOT NULL
);

CREATE FUNCTION accounting_posting_facts_move(organization bigint) RETURNS void AS $$
    INSERT INTO accounting_posting_facts_version (organization_id, version)
        SELECT organization, nextval('accounting_posting_facts_version_seq')
        WHERE organization IS NOT NULL
    ON CONFLICT (organization_id) DO UPDATE SET version = EXCLUDED.version;
$$ LANGUAGE sql;

-- Accounts and fiscal years name their organization.
CREATE FUNCTION accounting_posting_facts_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM accounting_posting_facts_move(NEW.organization_id);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM accounting_posting_facts_move(OLD.organization_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- A period's organization is its fiscal year's.
CREATE FUNCTION accounting_posting_facts_period_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM accounting_posting_facts_move(
            (SELECT organization_id FROM accounting_fiscalyear WHERE id = NEW.fiscal_year_id));
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM accounting_posting_facts_move(
            (SELECT organization_id FROM accounting_fiscalyear WHERE id = OLD.fiscal_year_id));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION accounting_posting_facts_truncated() RETURNS trigger AS $$
BEGIN
    DELETE FROM accounting_posting_facts_version;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounting_posting_facts_account
    AFTER INSERT OR UPDATE OR DELETE ON accounting_account
    FOR EACH ROW EXECUTE FUNCTION accounting_posting_facts_changed();
CREATE TRIGGER accounting_posting_facts_fiscal_year
    AFTER INSERT OR UPDATE OR DELETE ON accounting_fiscalyear
    FOR EACH ROW EXECUTE FUNCTION accounting_posting_facts_changed();
CREATE TRIGGER accounting_posting_facts_period
    AFTER INSERT OR UPDATE OR DELETE ON accounting_accountingperiod
    FOR EACH ROW EXECUTE FUNCTION accounting_posting_facts_period_changed();
CREATE TRIGGER accounting_posting_facts_account_truncated
    AFTER TRUNCATE ON accounting_account
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_posting_facts_truncated();
CREATE TRIGGER accounting_posting_facts_fiscal_year_truncated
    AFTER TRUNCATE ON accounting_fiscalyear
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_posting_facts_truncated();
CREATE TRIGGER accounting_posting_facts_period_truncated
    AFTER TRUNCATE ON accounting_accountingperiod
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_posting_facts_truncated();

ALTER TABLE accounting_account ENABLE ALWAYS TRIGGER accounting_posting_facts_account;
ALTER TABLE accounting_fiscalyear ENABLE ALWAYS TRIGGER accounting_posting_facts_fiscal_year;
ALTER TABLE accounting_accountingperiod ENABLE ALWAYS TRIGGER accounting_posting_facts_period;
ALTER TABLE accounting_account ENABLE ALWAYS TRIGGER accounting_posting_facts_account_truncated;
ALTER TABLE accounting_fiscalyear
    ENABLE ALWAYS TRIGGER accounting_posting_facts_fiscal_year_truncated;
ALTER TABLE accounting_accountingperiod
    ENABLE ALWAYS TRIGGER accounting_posting_facts_period_truncated;

SELECT accounting_posting_facts_move(id) FROM accounting_organization;
"""

POSTGRES_REVERSE = r"""
DROP TRIGGER IF EXISTS accounting_posting_facts_account ON accounting_account;
DROP TRIGGER IF EXISTS accounting_posting_facts_fiscal_year ON accounting_fiscalyear;
DROP TRIGGER IF EXISTS accounting_posting_facts_period ON accounting_accountingperiod;
DROP TRIGGER IF EXISTS accounting_posting_facts_account_truncated ON accounting_account;
DROP TRIGGER IF EXISTS accounting_posting_facts_fiscal_year_truncated ON accounting_fiscalyear;
DROP TRIGGER IF EXISTS accounting_posting_facts_period_truncated ON accounting_accountingperiod;
DROP FUNCTION IF EXISTS accounting_posting_facts_changed();
DROP FUNCTION IF EXISTS accounting_posting_facts_period_changed();
DROP FUNCTION IF EXISTS accounting_posting_facts_truncated();
DROP FUNCTION IF EXISTS accounting_posting_facts_move(bigint);
DROP TABLE IF EXISTS accounting_posting_facts_version;
DROP SEQUENCE IF EXISTS accounting_posting_facts_version_seq;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0010_fewer_indexes_on_posting")]

    operations = [migrations.RunPython(install, uninstall)]
