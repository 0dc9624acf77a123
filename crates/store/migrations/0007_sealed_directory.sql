-- The account directory, sealed at rest: a user's e-mail address and name are personal
-- information (most accounts are patients), so like records they are kept only as
-- ciphertext, and found only through a keyed blind index.
--
-- `profile`      the address and the name, sealed (XChaCha20-Poly1305) under the
--                directory's data key (owner `@directory` in data_keys, wrapped by the
--                current key-encryption key, so `telewarden keys rotate` re-wraps it with
--                the others); the associated data binds it to the row's id and to this
--                column, so a profile copied onto another row does not open.
-- `email_index`  HMAC-SHA256 (the keyring's blind-index key) of the trimmed, lower-cased
--                address: sign-in looks an account up by it, and its unique index keeps
--                one account per address.
--
-- Why the old columns stay: SQLite cannot drop a UNIQUE column or relax NOT NULL without
-- rebuilding the table, and rebuilding `users` would mean switching off the foreign keys
-- that sessions, passkeys, invitations and appointments hold on it — which cannot be done
-- inside a migration's transaction. So both databases keep one layout: `email` holds the
-- row's own id (unique and not null, and no one's address), `display_name` holds ''.
--
-- Rows written before this migration hold NULL in both new columns until the server's
-- start seals them (store: `Db::seal_directory`, one transaction, idempotent), which also
-- blanks the old columns. NULLs do not collide in a unique index on either database.

ALTER TABLE users ADD COLUMN email_index TEXT;
ALTER TABLE users ADD COLUMN profile TEXT;
CREATE UNIQUE INDEX users_by_email_index ON users (email_index);
