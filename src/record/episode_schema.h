/* teleop — episode format schemas (version 2, and the two released layouts
 * of version 1 that readers still accept) and helpers shared by writer,
 * reader, check and info (private to src/record; the format is documented in
 * docs/episode-format.md). */
#ifndef TELEOP_EPISODE_SCHEMA_H
#define TELEOP_EPISODE_SCHEMA_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/episode.h"

/* Version 2, the one the writer writes. crc32 columns hold zlib's CRC-32 of
 * the whole row (docs/episode-format.md, "Checksums"), so a byte changed
 * anywhere in a row, its timestamp included, is caught by `teleop check`,
 * which SQLite's own integrity_check (page structure only) cannot see. */
#define TP_EPISODE_SCHEMA_V2                                                                                      \
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"                                      \
    "CREATE TABLE streams(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"                                   \
    " kind TEXT NOT NULL CHECK(kind IN ('camera','state','action','operator','other')),"                       \
    " dtype TEXT, dims INTEGER NOT NULL, names TEXT, units TEXT,"                                               \
    " t_meaning TEXT NOT NULL CHECK(t_meaning IN ('capture','display','command')), rate_hz REAL,"              \
    " codec TEXT, width INTEGER, height INTEGER, extradata BLOB) STRICT;"                                       \
    "CREATE TABLE samples(stream_id INTEGER NOT NULL REFERENCES streams(id), seq INTEGER NOT NULL,"            \
    " t_ns INTEGER NOT NULL, data BLOB NOT NULL, crc32 INTEGER NOT NULL,"                                      \
    " PRIMARY KEY(stream_id, seq)) STRICT, WITHOUT ROWID;"                                                      \
    "CREATE TABLE video_packets(stream_id INTEGER NOT NULL REFERENCES streams(id), seq INTEGER NOT NULL,"      \
    " pts INTEGER NOT NULL, t_ns INTEGER NOT NULL, keyframe INTEGER NOT NULL, data BLOB NOT NULL,"             \
    " crc32 INTEGER NOT NULL, PRIMARY KEY(stream_id, seq)) STRICT;"                                             \
    "CREATE TABLE events(id INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT) STRICT;" \
    "CREATE INDEX events_time ON events(t_ns, id);"                                                             \
    "CREATE TABLE tags(name TEXT PRIMARY KEY) STRICT;"                                                          \
    "CREATE TABLE notes(id INTEGER PRIMARY KEY, t_unix_ns INTEGER, author TEXT, text TEXT NOT NULL) STRICT;"    \
    "CREATE TABLE attachments(name TEXT PRIMARY KEY, media_type TEXT NOT NULL, sha256 TEXT NOT NULL,"          \
    " data BLOB NOT NULL) STRICT;"                                                                              \
    "CREATE TABLE joint_limits(name TEXT PRIMARY KEY, lower REAL NOT NULL, upper REAL NOT NULL,"               \
    " velocity REAL, effort REAL) STRICT;"                                                                      \
    "CREATE TABLE cameras(stream_id INTEGER PRIMARY KEY REFERENCES streams(id), model TEXT NOT NULL,"          \
    " fx REAL NOT NULL, fy REAL NOT NULL, cx REAL NOT NULL, cy REAL NOT NULL, distortion_model TEXT NOT NULL," \
    " distortion TEXT NOT NULL, parent_frame TEXT NOT NULL, px REAL NOT NULL, py REAL NOT NULL,"               \
    " pz REAL NOT NULL, qw REAL NOT NULL, qx REAL NOT NULL, qy REAL NOT NULL, qz REAL NOT NULL,"               \
    " convention TEXT NOT NULL) STRICT;"

/* Version 1 as released with crc32 of data only (commits eb7ff59..526eee4). */
#define TP_EPISODE_SCHEMA_V1_CRC                                                                                  \
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

/* Version 1 as first released, without crc32 columns (up to bfa7f48). */
#define TP_EPISODE_SCHEMA_V1_PLAIN                                                                                \
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"                                      \
    "CREATE TABLE streams(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"                                   \
    " kind TEXT NOT NULL CHECK(kind IN ('camera','state','action','operator','other')),"                       \
    " dtype TEXT, dims INTEGER NOT NULL, names TEXT, units TEXT, rate_hz REAL,"                                 \
    " codec TEXT, width INTEGER, height INTEGER, extradata BLOB) STRICT;"                                       \
    "CREATE TABLE samples(stream_id INTEGER NOT NULL REFERENCES streams(id), seq INTEGER NOT NULL,"            \
    " t_ns INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(stream_id, seq)) STRICT, WITHOUT ROWID;"          \
    "CREATE TABLE video_packets(stream_id INTEGER NOT NULL REFERENCES streams(id), seq INTEGER NOT NULL,"      \
    " pts INTEGER NOT NULL, t_ns INTEGER NOT NULL, keyframe INTEGER NOT NULL, data BLOB NOT NULL,"             \
    " PRIMARY KEY(stream_id, seq)) STRICT;"                                                                     \
    "CREATE TABLE events(id INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT) STRICT;" \
    "CREATE TABLE tags(name TEXT PRIMARY KEY) STRICT;"                                                          \
    "CREATE TABLE notes(id INTEGER PRIMARY KEY, t_unix_ns INTEGER, author TEXT, text TEXT NOT NULL) STRICT;"

/* The layouts a reader accepts; each says how its crc32 columns are made. */
typedef enum tp_episode_layout {
    TP_LAYOUT_V1_PLAIN = 1, /* version 1, no crc32 columns */
    TP_LAYOUT_V1_CRC,       /* version 1, crc32 of data */
    TP_LAYOUT_V2,           /* version 2, crc32 of the whole row */
} tp_episode_layout;

/* Checks application_id, user_version and that every table of the file's
 * version has exactly its known shape (the sync tables are optional, as are
 * tables no version knows); 0 with *layout set, or -1 with the documented
 * one-line message naming path. */
int tp_episode_check_header(sqlite3 *db, const char *path, tp_episode_layout *layout, char *err, size_t errlen);

/* zlib-compatible CRC-32 of a blob (the v1 crc32 columns). */
uint32_t tp_episode_crc32(const void *data, size_t size);
/* The v2 row checksums: zlib CRC-32 over the row's integers (int64
 * little-endian each; a packet's keyframe as one byte 0/1) then data. */
uint32_t tp_episode_sample_crc(int64_t stream_id, int64_t seq, int64_t t_ns, const void *data, size_t size);
uint32_t tp_episode_packet_crc(int64_t stream_id, int64_t seq, int64_t pts, int64_t t_ns, bool keyframe,
                               const void *data, size_t size);

/* Every meta entry in key order (index 0..n-1); 0, or -1 past the end.
 * Strings live as long as the handle. */
int tp_episode_meta_at(const tp_episode *ep, int index, const char **key, const char **value);

/* Leaves WAL mode after a checkpoint: the header's version bytes go to
 * rollback (1) through an in-memory journal, so a fault during the switch
 * cannot leave a hot journal (which read-only readers could not undo)
 * behind. SQLITE_OK only when the mode changed. */
int tp_episode_leave_wal(sqlite3 *db);

/* The reader's connection, for check and info queries on optional tables.
 * The reader holds one read transaction for its life: every query on it sees
 * the same snapshot as the reader's own tables and counts. */
sqlite3 *tp_episode_db(const tp_episode *ep);
tp_episode_layout tp_episode_layout_of(const tp_episode *ep);

#endif
