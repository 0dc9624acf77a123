-- Each member device's leaf in its MLS group's ratchet tree, as the server follows it
-- from the commits it accepts (the creator is leaf 0; an added device takes the
-- leftmost blank leaf after the commit's removes, else the next one at the end). The
-- server reads each commit's sender, adds and removes from its public framing and
-- checks them against these leaves, so a member cannot commit as another member or
-- remove someone it did not declare. NULL for members of conversations started before
-- this was kept: their commits are refused, and such a conversation must be started
-- again. One statement that SQLite and PostgreSQL both run.
ALTER TABLE msg_members ADD COLUMN leaf_index BIGINT;
