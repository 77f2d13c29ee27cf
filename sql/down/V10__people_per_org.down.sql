-- Reverts V10__people_per_org. An address that is now two people in two
-- organisations cannot go back to being unique across the instance: the rollback
-- stops and names one such address rather than deleting anyone.
CREATE OR REPLACE FUNCTION security_audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security_audit_log is append-only' USING ERRCODE = 'restrict_violation';
END $$;
ALTER TABLE auth_login_attempts DROP COLUMN org_id;
DO $$
DECLARE
    shared text;
BEGIN
    SELECT lower(email) INTO shared FROM users GROUP BY lower(email) HAVING count(*) > 1 LIMIT 1;
    IF shared IS NOT NULL THEN
        RAISE EXCEPTION 'cannot roll back V10: % is an account in more than one organisation', shared;
    END IF;
END
$$;
DROP INDEX users_org_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
