/* teleop review — an episode opened for playback: every camera decoded at
 * any capture time (frame-accurate seek from the last keyframe), the sample
 * streams as time series, joint limits, events and operator hands at a time.
 * No OpenGL here: the player draws what this returns.
 *
 * A frame "at time t" of a camera is its last frame with capture t_ns <= t
 * (the first frame before the camera starts). Sequential requests decode
 * forward; a jump backwards or more than one GOP ahead seeks to the keyframe
 * at or before the wanted packet and decodes up to it.
 *
 * Memory: tp_playback owns everything it returns; pointers stay valid until
 * tp_playback_close (frame pixels until the next frame call for that camera).
 */
#ifndef TELEOP_UI_PLAYBACK_H
#define TELEOP_UI_PLAYBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/episode.h"

typedef struct tp_playback tp_playback;

/* NULL with one line naming the file on error. */
tp_playback *tp_playback_open(const char *path, char *err, size_t errlen);
void tp_playback_close(tp_playback *pb);
const tp_episode *tp_playback_episode(const tp_playback *pb); /* the reader handle, for meta */
const char *tp_playback_path(const tp_playback *pb);          /* as given to open */

/* The span to play: first to last stamp over every stream (ns, monotonic). */
int64_t tp_playback_start_ns(const tp_playback *pb);
int64_t tp_playback_end_ns(const tp_playback *pb);

int tp_playback_camera_count(const tp_playback *pb);
typedef struct tp_playback_camera {
    const char *name;
    int width, height;
    int64_t frames;
    const int64_t *t_ns; /* capture time of every frame, frames entries */
} tp_playback_camera;
const tp_playback_camera *tp_playback_camera_at(const tp_playback *pb, int index);

/* Decodes camera index's frame at time t into packed RGB24 (width*3 bytes a
 * row). Returns the frame's seq (>= 0), -1 on error (err set). *rgb points
 * into the playback handle. */
int64_t tp_playback_frame(tp_playback *pb, int camera, int64_t t_ns, const uint8_t **rgb, char *err,
                          size_t errlen);
/* What camera index's decoder has done since open: seeks (decodes restarted
 * at a keyframe) and frames decoded. For tests and benchmarks. */
typedef struct tp_playback_decode_stats {
    int64_t seeks, frames_decoded;
} tp_playback_decode_stats;
void tp_playback_decode_stats_get(const tp_playback *pb, int camera, tp_playback_decode_stats *out);
/* Frame stepping: the capture time of the frame after / before the one shown
 * at t on camera index (t itself at either end). */
int64_t tp_playback_next_frame_t(const tp_playback *pb, int camera, int64_t t_ns);
int64_t tp_playback_prev_frame_t(const tp_playback *pb, int camera, int64_t t_ns);

/* A sample stream loaded whole (state, action, operator, …). */
typedef struct tp_playback_series {
    const char *name;
    int dims;
    const char *const *dim_names;
    int64_t n;
    const int64_t *t_ns; /* n */
    const float *values; /* n * dims, row-major */
} tp_playback_series;
/* NULL when the episode has no such stream. Loaded on first use. */
const tp_playback_series *tp_playback_series_get(tp_playback *pb, const char *stream);
/* Index of the last row with t_ns <= t (0 before the first). */
int64_t tp_playback_series_index(const tp_playback_series *s, int64_t t_ns);

/* Joint limits by joint name (state dim names are joint names); false when none. */
bool tp_playback_joint_limit(const tp_playback *pb, const char *joint, double *lower, double *upper);

typedef struct tp_playback_event {
    int64_t t_ns;
    const char *kind, *detail;
} tp_playback_event;
int tp_playback_event_count(const tp_playback *pb);
const tp_playback_event *tp_playback_event_at(const tp_playback *pb, int index);

/* Operator hands at time t from the operator stream: 26 joint positions per
 * hand (OpenXR XR_EXT_hand_tracking order, metres, in the operator's
 * reference space) and whether each hand is tracked. false when the episode
 * has no operator stream. */
bool tp_playback_hands(tp_playback *pb, int64_t t_ns, float left[26][3], float right[26][3], bool tracked[2]);

#endif
