-- Notes app (SQLite), as sqlite3 .schema prints it
PRAGMA foreign_keys = ON;
BEGIN TRANSACTION;
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email TEXT NOT NULL UNIQUE,
  display_name TEXT,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  is_admin BOOLEAN NOT NULL DEFAULT 0
);
CREATE TABLE notebooks (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  parent_id INTEGER REFERENCES notebooks(id),
  title TEXT NOT NULL CHECK (length(title) <= 100),
  color TEXT DEFAULT 'blue' CHECK (color IN ('blue', 'green', 'red', 'yellow'))
);
CREATE TABLE "note tags" (
  note_id INTEGER NOT NULL,
  tag TEXT NOT NULL,
  weight REAL CHECK (weight >= 0 AND weight <= 1),
  PRIMARY KEY (note_id, tag)
) WITHOUT ROWID;
CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  notebook_id INTEGER NOT NULL,
  body TEXT,
  pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  updated_at TEXT,
  FOREIGN KEY (notebook_id) REFERENCES notebooks (id)
);
CREATE INDEX idx_notes_notebook ON notes(notebook_id);
INSERT INTO users (username, email) VALUES ('admin', 'admin@example.com');
CREATE VIEW pinned_notes AS SELECT * FROM notes WHERE pinned = 1;
CREATE TRIGGER notes_touch AFTER UPDATE ON notes BEGIN UPDATE notes SET updated_at = datetime('now') WHERE id = NEW.id; END;
COMMIT;
