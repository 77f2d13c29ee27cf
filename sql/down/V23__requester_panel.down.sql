-- Reverts V23__requester_panel: only an index, nothing to keep.
DROP INDEX sessions_user_seen_idx;
