-- The first shipped index schema (commit c4490b5, packages/storage/src/sqlite-repo-index.ts), unversioned (user_version 0).
CREATE TABLE IF NOT EXISTS repository (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  created_at INTEGER NOT NULL,
  properties TEXT NOT NULL,
  deleting INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fence INTEGER NOT NULL DEFAULT 0,
  applied_seq INTEGER NOT NULL DEFAULT 0,
  published_seq INTEGER NOT NULL DEFAULT 0,
  dirty INTEGER NOT NULL DEFAULT 1,
  revision INTEGER NOT NULL DEFAULT 0,
  repomd TEXT
);
INSERT OR IGNORE INTO state (id) VALUES (1);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS event_failures (
  seq INTEGER PRIMARY KEY,
  message TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS packages (
  tag TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  href TEXT NOT NULL,
  meta TEXT NOT NULL,
  primary_xml TEXT NOT NULL,
  filelists_xml TEXT NOT NULL,
  other_xml TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS packages_id ON packages (id);
CREATE INDEX IF NOT EXISTS packages_file_name ON packages (file_name);
CREATE INDEX IF NOT EXISTS packages_href ON packages (href);
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  level TEXT NOT NULL,
  date INTEGER NOT NULL,
  message TEXT NOT NULL
);
