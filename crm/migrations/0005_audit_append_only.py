"""The audit log is append-only for the app role.

It could UPDATE and DELETE its own organisation's events: whoever took over the app could
rewrite or erase what it had done. Now the app role has no DELETE on crm_auditevent
(crm.db.grant_app_role revokes it after every migration), and a trigger refuses every
UPDATE but the two the product makes: erasing a person's data from the events about them
(each change becomes ["[erased]", "[erased]"], under the same fields, and the name shown
for the record may change with it), and forgetting a deleted user as the actor. Pruning
old events is the operator's `manage.py audit_prune`, as the owner role.
"""

from django.db import migrations

GUARD = r"""
CREATE OR REPLACE FUNCTION crm_audit_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    redacted boolean;
BEGIN
    IF (NEW.id, NEW.org_id, NEW.action, NEW.object_type, NEW.object_id, NEW.at, NEW.ip)
       IS DISTINCT FROM (OLD.id, OLD.org_id, OLD.action, OLD.object_type, OLD.object_id,
                         OLD.at, OLD.ip) THEN
        RAISE EXCEPTION 'audit events cannot be changed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL THEN
        RAISE EXCEPTION 'an audit event''s actor cannot be changed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.changes IS DISTINCT FROM OLD.changes OR NEW.object_repr IS DISTINCT FROM OLD.object_repr THEN
        -- Only erasure: the same fields, each now ["[erased]", "[erased]"].
        SELECT coalesce(bool_and(value = '["[erased]", "[erased]"]'::jsonb), true)
          INTO redacted FROM jsonb_each(NEW.changes);
        IF NOT redacted OR jsonb_typeof(NEW.changes) <> 'object'
           OR (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(NEW.changes) AS k)
              IS DISTINCT FROM
              (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(OLD.changes) AS k) THEN
            RAISE EXCEPTION 'an audit event''s changes can only be erased'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER crm_audit_append_only BEFORE UPDATE ON crm_auditevent
    FOR EACH ROW EXECUTE FUNCTION crm_audit_append_only();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS crm_audit_append_only ON crm_auditevent;
DROP FUNCTION IF EXISTS crm_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_searchable")]

    operations = [migrations.RunSQL(GUARD, UNGUARD)]
