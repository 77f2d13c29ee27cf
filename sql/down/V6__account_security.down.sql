-- Reverts V6__account_security.
DROP TABLE security_audit_log;
DROP FUNCTION security_audit_log_refuse_change();
DROP TABLE org_ip_allowlist;
DROP TABLE password_reset_tokens;
DROP TABLE email_verification_tokens;
DROP TABLE mfa_challenges;
DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
DROP TABLE auth_login_attempts;
ALTER TABLE users
    DROP COLUMN failed_logins,
    DROP COLUMN failed_logins_since,
    DROP COLUMN locked_until,
    DROP COLUMN lockouts,
    DROP COLUMN must_verify_email,
    DROP COLUMN password_changed_at;
ALTER TABLE organizations DROP COLUMN require_mfa, DROP COLUMN portal_signup;
