-- Reverts V9__job_queue_domains: the columns go back to their base types with the
-- same checks as table constraints.
ALTER TABLE job_queue
    ALTER COLUMN kind TYPE text,
    ALTER COLUMN queue TYPE text,
    ALTER COLUMN priority TYPE smallint,
    ALTER COLUMN max_attempts TYPE integer,
    ALTER COLUMN unique_key TYPE text,
    ADD CONSTRAINT job_queue_kind_check CHECK (kind ~ '^[A-Z][A-Z0-9_]{0,62}$'),
    ADD CONSTRAINT job_queue_queue_check CHECK (queue ~ '^[a-z][a-z0-9_]{0,62}$'),
    ADD CONSTRAINT job_queue_priority_check CHECK (priority BETWEEN 0 AND 9),
    ADD CONSTRAINT job_queue_max_attempts_check CHECK (max_attempts BETWEEN 1 AND 1000),
    ADD CONSTRAINT job_queue_unique_key_check CHECK (length(unique_key) <= 200);
DROP DOMAIN job_kind;
DROP DOMAIN job_queue_name;
DROP DOMAIN job_priority;
DROP DOMAIN job_max_attempts;
DROP DOMAIN job_unique_key;
