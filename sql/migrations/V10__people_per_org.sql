-- People belong to their organisation. An e-mail address is unique within an
-- organisation, not across the instance: one org can neither learn whether an address
-- has an account in another (a 409 on create) nor reserve it there in advance (an
-- unverified portal sign-up). Signing in names the organisation.
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_org_email_key ON users (org_id, lower(email));

-- Attempts are counted per organisation too (an address can be two people). NULL when
-- the attempt named no organisation that exists.
ALTER TABLE auth_login_attempts ADD COLUMN org_id bigint REFERENCES organizations (id) ON DELETE CASCADE;

-- The audit log stays append-only, but a person can now be deleted (an unverified
-- sign-up whose link expired): the foreign keys' ON DELETE SET NULL may clear the
-- actor and target ids of that person's rows. Every other change is still refused.
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
