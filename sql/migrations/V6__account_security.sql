-- Schema v6: account security — login attempts and lockout, TOTP two-factor with
-- recovery codes, MFA login challenges, email verification and password reset
-- tokens, per-org IP allowlists, org security settings and the security audit log.
--
-- Every secret is stored so that a database reader cannot use it: tokens and recovery
-- codes as SHA-256 of 256/80-bit random values, TOTP secrets encrypted (AES-256-GCM)
-- with a key that lives outside the database.

ALTER TABLE organizations
    -- Admins and agents of this org must enrol TOTP before they can do anything else.
    ADD COLUMN require_mfa   boolean NOT NULL DEFAULT false,
    -- Customers may create their own portal accounts (they must verify their email).
    ADD COLUMN portal_signup boolean NOT NULL DEFAULT false;

ALTER TABLE users
    -- Failures since the last success (or the last lockout), and when the run began.
    ADD COLUMN failed_logins       integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    ADD COLUMN failed_logins_since timestamptz,
    -- Locked until this time; the lock grows with each consecutive lockout.
    ADD COLUMN locked_until        timestamptz,
    ADD COLUMN lockouts            integer NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    -- Self-registered portal customers must verify their address before signing in.
    ADD COLUMN must_verify_email   boolean NOT NULL DEFAULT false,
    ADD COLUMN password_changed_at timestamptz;

-- Every sign-in attempt, including ones for addresses that have no account (user_id
-- NULL). Read by the per-IP throttle and kept for investigation.
CREATE TABLE auth_login_attempts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL CHECK (length(email) <= 320),
    ip         inet,
    user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    result     text NOT NULL CHECK (result IN (
                   'success', 'mfa_required', 'bad_password', 'unknown_email', 'locked', 'inactive',
                   'not_verified', 'ip_blocked', 'throttled', 'mfa_failed')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_login_attempts_ip_idx ON auth_login_attempts (ip, created_at);
CREATE INDEX auth_login_attempts_email_idx ON auth_login_attempts (lower(email), created_at);
CREATE INDEX auth_login_attempts_created_brin ON auth_login_attempts USING brin (created_at);

CREATE TABLE user_totp (
    org_id         bigint NOT NULL,
    user_id        bigint NOT NULL PRIMARY KEY,
    -- AES-256-GCM of the 20-byte secret; the user id is the associated data, so a
    -- ciphertext copied onto another user's row does not decrypt.
    secret_sealed  bytea NOT NULL,
    nonce          bytea NOT NULL CHECK (length(nonce) = 12),
    confirmed_at   timestamptz,
    -- The highest 30-second step accepted: a code is good once (no replay).
    last_used_step bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

CREATE TABLE user_recovery_codes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL,
    user_id    bigint NOT NULL,
    code_hash  bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX user_recovery_codes_user_idx ON user_recovery_codes (user_id) WHERE used_at IS NULL;

-- The second step of a sign-in: issued after the password, exchanged for a session
-- with a TOTP or recovery code.
CREATE TABLE mfa_challenges (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL,
    user_id    bigint NOT NULL,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    failures   integer NOT NULL DEFAULT 0,
    ip         inet,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

CREATE TABLE email_verification_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL,
    user_id    bigint NOT NULL,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    email      text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

CREATE TABLE password_reset_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL,
    user_id    bigint NOT NULL,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    email      text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

-- Where an org's users may work from. No rows: anywhere.
CREATE TABLE org_ip_allowlist (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    cidr       cidr NOT NULL,
    note       text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, cidr),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id) ON DELETE SET NULL (created_by)
);

-- Append-only record of security-relevant events, readable by the org's admins.
CREATE TABLE security_audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event          text NOT NULL CHECK (event ~ '^[a-z][a-z0-9_.]*$'),
    -- Who did it (NULL: the system, or someone not signed in) and whom it concerns.
    actor_id       bigint,
    target_user_id bigint,
    ip             inet,
    detail         jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, actor_id) REFERENCES users (org_id, id) ON DELETE SET NULL (actor_id),
    FOREIGN KEY (org_id, target_user_id) REFERENCES users (org_id, id) ON DELETE SET NULL (target_user_id)
);
CREATE INDEX security_audit_log_org_idx ON security_audit_log (org_id, created_at DESC, id DESC);
CREATE INDEX security_audit_log_event_idx ON security_audit_log (org_id, event, created_at DESC);

CREATE FUNCTION security_audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security_audit_log is append-only' USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER security_audit_log_append_only
    BEFORE UPDATE ON security_audit_log
    FOR EACH ROW EXECUTE FUNCTION security_audit_log_refuse_change();
