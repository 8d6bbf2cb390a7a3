/* teleop — the sync report of an episode (private to src/record; the tables
 * are documented in docs/episode-format.md): for every video frame of every
 * camera the nearest state and action sample and its skew, per camera the
 * max and median skew, and in every stream with a nominal rate the gaps
 * (intervals longer than TP_SYNC_GAP_FACTOR nominal periods).
 *
 * Computed from the stored rows alone, so the writer at finish, recovery of
 * an interrupted episode and `teleop check` (which recomputes and compares)
 * all agree. Memory: a report owns its arrays; tp_sync_report_free. */
#ifndef TELEOP_EPISODE_SYNC_H
#define TELEOP_EPISODE_SYNC_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_SYNC_GAP_FACTOR 2

#define TP_EPISODE_SYNC_SCHEMA                                                                                     \
    "CREATE TABLE sync(camera_stream_id INTEGER NOT NULL REFERENCES streams(id), frame_seq INTEGER NOT NULL,"    \
    " t_ns INTEGER NOT NULL, state_seq INTEGER, state_skew_ns INTEGER, action_seq INTEGER,"                      \
    " action_skew_ns INTEGER, PRIMARY KEY(camera_stream_id, frame_seq)) STRICT, WITHOUT ROWID;"                  \
    "CREATE TABLE sync_summary(camera_stream_id INTEGER PRIMARY KEY REFERENCES streams(id),"                     \
    " frames INTEGER NOT NULL, state_stream_id INTEGER REFERENCES streams(id), state_max_skew_ns INTEGER,"       \
    " state_median_skew_ns INTEGER, action_stream_id INTEGER REFERENCES streams(id),"                           \
    " action_max_skew_ns INTEGER, action_median_skew_ns INTEGER) STRICT;"                                        \
    "CREATE TABLE sync_gaps(stream_id INTEGER NOT NULL REFERENCES streams(id), seq INTEGER NOT NULL,"           \
    " t_ns INTEGER NOT NULL, gap_ns INTEGER NOT NULL, PRIMARY KEY(stream_id, seq)) STRICT, WITHOUT ROWID;"

/* Nearest reference sample per frame, by two-pointer merge (both time
 * arrays ascending): O(frames + samples). Ties go to the earlier sample. */
typedef struct tp_sync_match {
    int64_t seq;     /* reference sample seq; -1 when the reference is empty */
    int64_t skew_ns; /* sample t_ns - frame t_ns */
} tp_sync_match;

typedef struct tp_sync_camera {
    int stream_id;
    int64_t frames;
    int64_t *frame_seq, *t_ns;
    tp_sync_match *state, *action; /* frames entries each */
    int64_t state_max, state_median, action_max, action_median; /* |skew|; -1 when no reference */
} tp_sync_camera;

typedef struct tp_sync_gap {
    int stream_id;
    int64_t seq;    /* the first row after the gap */
    int64_t t_ns;   /* its time */
    int64_t gap_ns; /* t_ns minus the previous row's */
} tp_sync_gap;

typedef struct tp_sync_report {
    int state_id, action_id; /* 0 when the episode has none */
    tp_sync_camera *cameras;
    int ncameras;
    tp_sync_gap *gaps;
    size_t ngaps, gaps_cap;
} tp_sync_report;

void tp_sync_nearest(const int64_t *frame_t, size_t frames, const int64_t *ref_seq, const int64_t *ref_t,
                     size_t refs, tp_sync_match *out);
/* |skew| maximum and lower median (the ceil(n/2)-th smallest); -1 for n = 0
 * or no reference. scratch holds n values. */
void tp_sync_skew_stats(const tp_sync_match *m, size_t n, int64_t *scratch, int64_t *max, int64_t *median);

/* Computes the report from the rows in db. 0, or -1 with a message. */
int tp_sync_compute(sqlite3 *db, tp_sync_report *r, char *err, size_t errlen);
/* Creates the sync tables and stores r (inside the caller's transaction). */
int tp_sync_store(sqlite3 *db, const tp_sync_report *r, char *err, size_t errlen);
void tp_sync_report_free(tp_sync_report *r);
/* 1 when the episode has the sync tables, 0 when not, -1 on error. */
int tp_sync_present(sqlite3 *db);

#endif
