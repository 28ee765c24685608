-- 0011 (after 0011_release_model_revisions.sql): byte order for lists, in PostgreSQL's form.
-- A collation named `binary`, a copy of "C": `name COLLATE "binary"` then sorts by bytes here as it
-- does on SQLite, where BINARY is the built-in default (repo::ByteOrder), whatever locale the
-- database was created with.
CREATE COLLATION IF NOT EXISTS "binary" FROM "C";
