-- Reverts V11__actors: the rows keep their actor ids; which part of the system acted
-- is lost.
CREATE OR REPLACE FUNCTION security_audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.org_id, NEW.event, NEW.ip, NEW.detail, NEW.created_at)
           IS NOT DISTINCT FROM (OLD.id, OLD.org_id, OLD.event, OLD.ip, OLD.detail, OLD.created_at)
       AND (NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id OR NEW.actor_id IS NULL)
       AND (NEW.target_user_id IS NOT DISTINCT FROM OLD.target_user_id OR NEW.target_user_id IS NULL) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'security_audit_log is append-only' USING ERRCODE = 'restrict_violation';
END $$;
ALTER TABLE security_audit_log DROP COLUMN actor_kind;
ALTER TABLE ticket_events DROP COLUMN actor_kind;
