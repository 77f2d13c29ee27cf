-- Who did it: a person (actor_id), or which part of the system. History and audit
-- rows said only "a user id, or nobody"; now a row says whether nobody means the SLA
-- worker, a job, housekeeping, the operator's CLI or an unauthenticated request.
ALTER TABLE ticket_events ADD COLUMN actor_kind text NOT NULL DEFAULT 'user'
    CHECK (actor_kind IN ('user', 'sla_worker', 'job', 'housekeeping', 'operator', 'anonymous'));
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_system_has_no_user
    CHECK (actor_kind = 'user' OR actor_id IS NULL);
UPDATE ticket_events SET actor_kind = 'sla_worker'
 WHERE actor_id IS NULL AND event_type IN ('sla_warning', 'sla_breached', 'sla_escalated');
ALTER TABLE ticket_events ALTER COLUMN actor_kind DROP DEFAULT;

ALTER TABLE security_audit_log ADD COLUMN actor_kind text NOT NULL DEFAULT 'user'
    CHECK (actor_kind IN ('user', 'sla_worker', 'job', 'housekeeping', 'operator', 'anonymous'));
ALTER TABLE security_audit_log ADD CONSTRAINT security_audit_log_system_has_no_user
    CHECK (actor_kind = 'user' OR actor_id IS NULL);
-- The backfill is the one change the append-only rule lets through, once.
ALTER TABLE security_audit_log DISABLE TRIGGER security_audit_log_append_only;
UPDATE security_audit_log SET actor_kind = CASE
    WHEN event = 'user.signup_expired' THEN 'housekeeping'
    WHEN detail ->> 'by' = 'operator' THEN 'operator'
    ELSE 'anonymous' END
 WHERE actor_id IS NULL;
ALTER TABLE security_audit_log ENABLE TRIGGER security_audit_log_append_only;
ALTER TABLE security_audit_log ALTER COLUMN actor_kind DROP DEFAULT;

-- The kind is part of the record: the trigger refuses changing it as it refuses the rest.
CREATE OR REPLACE FUNCTION security_audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.org_id, NEW.event, NEW.ip, NEW.detail, NEW.created_at, NEW.actor_kind)
           IS NOT DISTINCT FROM (OLD.id, OLD.org_id, OLD.event, OLD.ip, OLD.detail, OLD.created_at, OLD.actor_kind)
       AND (NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id OR NEW.actor_id IS NULL)
       AND (NEW.target_user_id IS NOT DISTINCT FROM OLD.target_user_id OR NEW.target_user_id IS NULL) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'security_audit_log is append-only' USING ERRCODE = 'restrict_violation';
END $$;
