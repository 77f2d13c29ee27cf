-- The requester beside a ticket (core::tickets::requester) says when they were last
-- seen: the latest use of any of their sessions, signed out ones included, which the
-- partial index on live sessions cannot find without reading the whole table.
CREATE INDEX sessions_user_seen_idx ON sessions (user_id, last_seen_at DESC);
