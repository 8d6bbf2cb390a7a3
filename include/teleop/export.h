/* teleop — the export core: one recorded episode resampled onto a dataset's
 * constant-fps grid, from the real capture timestamps (docs/export.md).
 *
 * Every dataset format (LeRobot v3.0/v2.1, HDF5) is written from a
 * tp_export_episode: n_frames rows on the grid t0 + i/fps, where t0 is the
 * capture time of the reference camera's first frame (at or after the trim
 * in point). For each camera each grid frame names the recorded video frame
 * (packet seq) nearest in capture time; state is interpolated linearly
 * between the two samples around the grid instant, action is the command in
 * force at it (the last one with t_ns <= instant: zero-order hold).
 *
 * An episode whose camera frames do not sit on the grid within the tolerance
 * (a frame farther than it from its grid instant, or a grid instant whose
 * nearest frame is a repeat or skip of the previous one — a dropped frame) is
 * refused with one line naming the episode, camera, frame and offset, unless
 * allow_offgrid: then each camera's recorded frames are taken one per grid
 * frame in order (so remuxed video and rows still correspond one to one) and
 * the episode is flagged (offgrid, offgrid_reason).
 *
 * Memory: tp_export_episode_load fills a caller-owned struct whose arrays and
 * strings it allocates; tp_export_episode_free releases them. Options are
 * read during the call only.
 */
#ifndef TELEOP_EXPORT_H
#define TELEOP_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_EXPORT_MAX_CAMERAS 8
#define TP_EXPORT_MAX_DIMS 256
#define TP_EXPORT_MAX_TAGS 64

typedef struct tp_export_options {
    double fps;                   /* 0: the reference camera's nominal rate */
    const char *reference_camera; /* NULL: the first camera stream */
    double tolerance_frames;      /* allowed |grid - capture| in frame periods; 0: 0.5 */
    bool allow_offgrid;           /* flag instead of refusing */
    bool meta_only;               /* fill the meta fields only (selection), no resampling */
    /* Streams (NULL: "state", "action", "state_velocity"; velocity optional). */
    const char *state_stream, *action_stream, *velocity_stream;
    /* Dimension subsets by index into the stream (n = 0: every dimension). */
    int state_index[TP_EXPORT_MAX_DIMS], n_state_index;
    int action_index[TP_EXPORT_MAX_DIMS], n_action_index;
    /* Cameras to export by stream name (n = 0: every camera stream). */
    char cameras[TP_EXPORT_MAX_CAMERAS][64];
    int n_cameras;
} tp_export_options;

void tp_export_options_default(tp_export_options *opt);

typedef struct tp_export_camera {
    char name[64];
    int stream_id;
    int width, height;
    char codec[16];              /* "h264", "ffv1", "mjpeg" */
    uint8_t *extradata;          /* codec configuration (Annex B SPS/PPS for H.264), owned */
    size_t extradata_size;
    double rate_hz;              /* nominal */
    int64_t *frame_seq;          /* n_frames: the recorded packet shown at grid frame i */
    int64_t *capture_t_ns;       /* n_frames: that packet's capture time */
    double max_offset_s, median_offset_s;
} tp_export_camera;

typedef struct tp_export_episode {
    char path[4096];
    char file_name[256];         /* basename of path */
    /* meta */
    char task[4097], operator_name[64], outcome[32], robot[64];
    int64_t start_t_ns, end_t_ns, wall_clock_offset_ns;
    int64_t start_unix_ns;       /* start_t_ns + wall_clock_offset_ns */
    double duration_s;           /* of the exported window */
    int64_t trim_in_ns, trim_out_ns; /* monotonic; 0 when the meta key is absent */
    char tags[TP_EXPORT_MAX_TAGS][64];
    int n_tags;
    /* review and QA (docs/episode-format.md, Review; absent keys: none) */
    char verdict[16];            /* meta review_verdict: "success", "failure" or "" */
    int rating;                  /* meta rating 1..5, 0: none */
    bool delete_marked;          /* meta delete_marked "1" */
    bool has_qa;                 /* meta qa_flags present */
    unsigned qa_flags;           /* tp_qa_flag bits */
    /* grid */
    double fps;
    int64_t n_frames;
    int64_t t0_ns;               /* grid instant i is t0_ns + i * 1e9 / fps */
    float *timestamp;            /* n_frames: i / fps, seconds */
    int state_dims, action_dims, velocity_dims; /* velocity_dims 0 when absent */
    char **state_names, **action_names; /* from the episode (or "state_<i>") */
    float *state;                /* n_frames x state_dims */
    float *velocity;             /* n_frames x velocity_dims, or NULL */
    float *action;               /* n_frames x action_dims */
    int n_cameras;
    tp_export_camera cameras[TP_EXPORT_MAX_CAMERAS];
    double max_frame_offset_s, median_frame_offset_s; /* over every camera's grid frames */
    bool offgrid;                /* allowed off the grid (allow_offgrid) */
    char offgrid_reason[512];
} tp_export_episode;

/* Loads and resamples one episode. 0, or -1 with one line in err naming
 * the file (and the camera, frame and offset when it is off the grid). */
int tp_export_episode_load(const char *path, const tp_export_options *opt, tp_export_episode *out, char *err,
                           size_t errlen);
void tp_export_episode_free(tp_export_episode *e);

/* Linear interpolation of a sample stream at instant t (clamped to the first
 * and last sample), and the zero-order hold (last sample with t_ns <= t; the
 * first sample before it). t_ns: n increasing stamps; data: n x dims. */
void tp_export_interpolate(const int64_t *t_ns, const float *data, int64_t n, int dims, int64_t t, float *out,
                           int64_t *hint);
void tp_export_hold(const int64_t *t_ns, const float *data, int64_t n, int dims, int64_t t, float *out,
                    int64_t *hint);

#endif
