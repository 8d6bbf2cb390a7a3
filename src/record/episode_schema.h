/* teleop — episode format v1 schema and helpers shared by writer, reader,
 * check and info (private to src/record; the format is documented in
 * docs/episode-format.md). */
#ifndef TELEOP_EPISODE_SCHEMA_H
#define TELEOP_EPISODE_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/episode.h"

/* crc32 columns hold zlib's CRC-32 of data (Python: zlib.crc32(data)), so a
 * byte changed anywhere in a blob is caught by `teleop check`, which SQLite's
 * own integrity_check (page structure only) cannot see. */
#define TP_EPISODE_SCHEMA                                                                                         \
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"                                      \
    "CREATE TABLE streams(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"                                   \
    " kind TEXT NOT NULL CHECK(kind IN ('camera','state','action','operator','other')),"                       \
    " dtype TEXT, dims INTEGER NOT NULL, names TEXT, units TEXT, rate_hz REAL,"                                 \
    " codec TEXT, width INTEGER, height INTEGER, extradata BLOB) STRICT;"                                       \
    "CREATE TABLE samples(stream_id INTEGER NOT NULL REFERENCES streams(id), seq INTEGER NOT NULL,"            \
    " t_ns INTEGER NOT NULL, data BLOB NOT NULL, crc32 INTEGER NOT NULL,"                                      \
    " PRIMARY KEY(stream_id, seq)) STRICT, WITHOUT ROWID;"                                                      \
    "CREATE TABLE video_packets(stream_id INTEGER NOT NULL REFERENCES streams(id), seq INTEGER NOT NULL,"      \
    " pts INTEGER NOT NULL, t_ns INTEGER NOT NULL, keyframe INTEGER NOT NULL, data BLOB NOT NULL,"             \
    " crc32 INTEGER NOT NULL, PRIMARY KEY(stream_id, seq)) STRICT;"                                             \
    "CREATE TABLE events(id INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT) STRICT;" \
    "CREATE TABLE tags(name TEXT PRIMARY KEY) STRICT;"                                                          \
    "CREATE TABLE notes(id INTEGER PRIMARY KEY, t_unix_ns INTEGER, author TEXT, text TEXT NOT NULL) STRICT;"

/* Checks application_id and user_version of an open database; 0, or -1 with
 * the documented message naming path. */
int tp_episode_check_header(sqlite3 *db, const char *path, char *err, size_t errlen);

/* zlib-compatible CRC-32 of a blob, as stored in the crc32 columns. */
uint32_t tp_episode_crc32(const void *data, size_t size);

/* Every meta entry in key order (index 0..n-1); 0, or -1 past the end.
 * Strings live as long as the handle. */
int tp_episode_meta_at(const tp_episode *ep, int index, const char **key, const char **value);

/* Leaves WAL mode after a checkpoint: the header's version bytes go to
 * rollback (1) through an in-memory journal, so a fault during the switch
 * cannot leave a hot journal (which read-only readers could not undo)
 * behind. SQLITE_OK only when the mode changed. */
int tp_episode_leave_wal(sqlite3 *db);

/* The reader's connection, for check and info queries on optional tables. */
sqlite3 *tp_episode_db(const tp_episode *ep);

#endif
