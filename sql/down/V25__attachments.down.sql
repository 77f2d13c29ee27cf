-- Reverts V25__attachments. The rows go; the stored bytes stay in the attachment
-- store, where nothing refers to them any more (remove the store's directory or
-- bucket by hand if the feature is given up for good).
DROP TABLE attachments;
