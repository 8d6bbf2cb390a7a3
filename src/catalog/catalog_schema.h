/* teleop — the catalog index file's layout (private to src/catalog; the
 * index is described in docs/review.md, "Catalog").
 *
 * One index per folder, DIR/.teleop-catalog.sqlite (or in the cache folder,
 * see catalog_store.c). It is a cache of what the episodes say: any index
 * whose application_id or user_version differs from these, or that SQLite
 * finds damaged, is deleted and rebuilt from the episodes. Change the layout
 * → bump TP_CATALOG_LAYOUT; old indexes are then rebuilt silently. */
#ifndef TELEOP_CATALOG_SCHEMA_H
#define TELEOP_CATALOG_SCHEMA_H

#define TP_CATALOG_APPLICATION_ID 0x54504354 /* "TPCT" */
#define TP_CATALOG_LAYOUT 1                  /* PRAGMA user_version */
#define TP_CATALOG_INDEX_NAME ".teleop-catalog.sqlite"

/* folder: 'path' = the real path of the folder indexed (a cache-folder
 * index is found by a hash of it; a collision is caught by this row).
 * entries: one row per file seen, keyed by file name; (size, mtime_ns,
 * inode) as stat gave them before the file was read tell whether the row is
 * current. episode = 0: not a readable episode (skip_reason says why); kept
 * so the file is not re-read until it changes. recheck = 1: re-read at the
 * next refresh whatever stat says (the file was being recorded, or changed
 * so recently that a further change could keep size and mtime). tags_json:
 * the same tags as a JSON array, for the tag filter and the tag list.
 * nqa: number of QA flags, -1 when never computed. */
#define TP_CATALOG_SCHEMA                                                                                         \
    "CREATE TABLE folder(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"                                    \
    "CREATE TABLE entries(name TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"             \
    " inode INTEGER NOT NULL, episode INTEGER NOT NULL, recheck INTEGER NOT NULL, live INTEGER NOT NULL,"       \
    " start_unix_ns INTEGER NOT NULL, duration_s REAL NOT NULL, task TEXT NOT NULL, operator TEXT NOT NULL,"    \
    " outcome TEXT NOT NULL, verdict TEXT NOT NULL, rating INTEGER NOT NULL, tags TEXT NOT NULL,"               \
    " tags_json TEXT NOT NULL, qa_flags TEXT, nqa INTEGER NOT NULL, notes TEXT NOT NULL,"                       \
    " delete_marked INTEGER NOT NULL, trim_in_ns INTEGER NOT NULL, trim_out_ns INTEGER NOT NULL,"               \
    " skip_reason TEXT) STRICT;"

#endif
