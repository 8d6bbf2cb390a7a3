/* teleop — automatic QA flags: what is wrong with an episode, measured from
 * its own rows and events and from the distribution of its session's
 * episodes (docs/qa.md lists every flag, its measure and threshold).
 *
 * Computed when an episode is finished (the station, after the recorder's
 * finish) and by `teleop qa EPISODE…` for older ones; stored in the episode
 * (meta qa_flags, qa_metrics, qa_version, qa_unix_ns; docs/episode-format.md)
 * in one transaction; read by the review browser, the catalog and export's
 * selection (--qa-clean, --qa-flag, --no-qa-flag).
 *
 * Memory: all values are caller-owned plain structs.
 */
#ifndef TELEOP_QA_H
#define TELEOP_QA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_QA_VERSION 1

/* One bit per flag; names in tp_qa_flag_name, stored comma-separated in
 * this order. */
typedef enum tp_qa_flag {
    TP_QA_DROPPED_FRAMES = 1u << 0,  /* "dropped_frames": camera frames dropped or missed */
    TP_QA_SYNC_SKEW = 1u << 1,       /* "sync_skew": max frame–state skew above threshold */
    TP_QA_HOLDS = 1u << 2,           /* "holds": safety holds / emergency */
    TP_QA_SAFETY = 1u << 3,          /* "safety": clamps and other safety interventions */
    TP_QA_TRACKING_LOST = 1u << 4,   /* "tracking_lost" */
    TP_QA_DEADLINE_MISSES = 1u << 5, /* "deadline_misses": control cycles late */
    TP_QA_INTERRUPTED = 1u << 6,     /* "interrupted": outcome interrupted or error */
    TP_QA_TOO_SHORT = 1u << 7,       /* "too_short": against the session's durations */
    TP_QA_TOO_LONG = 1u << 8,        /* "too_long" */
    TP_QA_LOW_MOVEMENT = 1u << 9,    /* "low_movement" */
    TP_QA_JERKY = 1u << 10,          /* "jerky" */
} tp_qa_flag;

#define TP_QA_FLAG_COUNT 11

const char *tp_qa_flag_name(unsigned single_flag); /* NULL for anything but one known bit */
/* "a,b" (comma-separated names, no spaces; "" for none) to bits; -1 with the
 * unknown name in err. */
int tp_qa_parse_flags(const char *list, unsigned *flags, char *err, size_t errlen);
/* Bits to "a,b" in flag order; returns the length written. */
size_t tp_qa_format_flags(unsigned flags, char *out, size_t outlen);

typedef struct tp_qa_report {
    unsigned flags;
    double duration_s;
    int64_t frames_dropped, frames_missed; /* from events and sync gaps */
    double max_sync_skew_ms;
    int64_t holds, safety_interventions, tracking_lost, deadline_misses;
    bool interrupted;
    double movement;    /* the measure low_movement is judged on (docs/qa.md) */
    double jerk;        /* the measure jerky is judged on */
    double session_median_duration_s; /* 0 when no distribution was available */
    int session_episodes;             /* episodes the distribution was taken over */
} tp_qa_report;

/* Computes the report for one episode. peers (may be NULL/0) are the other
 * episodes of its session or folder, used for too_short/too_long. 0, or -1
 * with one line naming the file. */
int tp_qa_compute(const char *path, const char *const *peers, int npeers, tp_qa_report *out, char *err,
                  size_t errlen);

/* The report as the JSON object stored in meta qa_metrics (every field
 * above but flags; non-finite numbers as 0). Returns the length written. */
size_t tp_qa_format_metrics(const tp_qa_report *r, char *out, size_t outlen);

/* Stores the report in the episode (one transaction; refused while the
 * episode is locked by a recorder). 0 or -1 with one line. */
int tp_qa_store(const char *path, const tp_qa_report *r, char *err, size_t errlen);

/* Reads what is stored: 1 present, 0 never computed, -1 error. */
int tp_qa_read(const char *path, unsigned *flags, char *err, size_t errlen);

/* What the station does when it has finished an episode: computes the report
 * with the session's earlier episodes as peers (same folder, same session
 * stamp in the name episode-YYYYMMDD-HHMMSS-NNN.db, a lower NNN) and stores
 * it. flags (may be NULL) gets the flags. 0 or -1 with one line; the
 * episode is left as it was on failure. */
int tp_qa_finish(const char *path, unsigned *flags, char *err, size_t errlen);

#endif
