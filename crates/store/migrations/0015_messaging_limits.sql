-- The daily limit on conversations started (`messaging.max_new_conversations_per_day`)
-- counts an account's conversations since a time: this index answers that count
-- without scanning every conversation.
CREATE INDEX msg_conversations_by_creator ON msg_conversations (created_by, created_ms);
