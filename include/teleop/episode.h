/* teleop — the episode database: one SQLite file per episode.
 *
 * Layout and versioning are documented in docs/episode-format.md. The writer
 * is used by the recorder thread only (never the control loop): it batches
 * rows in transactions the caller opens and commits. The reader is the one
 * way every consumer (check, info, review, export, replay) reads episodes; it
 * refuses files of other formats or versions with a clear message.
 *
 * Memory: writer and reader handles are owned by the caller (close to free).
 * Strings and arrays returned by the reader point into the handle and live
 * until it is closed. Descriptors passed to the writer are copied.
 */
#ifndef TELEOP_EPISODE_H
#define TELEOP_EPISODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TP_EPISODE_APPLICATION_ID 0x54454C45 /* "TELE" */
#define TP_EPISODE_FORMAT_VERSION 2 /* what the writer writes; readers also read version 1 */
#define TP_EPISODE_MAX_DIMS 65536 /* dimensions of one stream, bounded so sizes cannot overflow */

/* The simulator's object stream: kind other, per free body 7 float32 values,
 * position x y z (m) then orientation quaternion (unit length); check verifies
 * both. */
#define TP_SIM_OBJECTS_STREAM "sim_objects"

typedef enum tp_stream_kind {
    TP_STREAM_CAMERA = 0,
    TP_STREAM_STATE,
    TP_STREAM_ACTION,
    TP_STREAM_OPERATOR,
    TP_STREAM_OTHER,
} tp_stream_kind;

const char *tp_stream_kind_name(tp_stream_kind kind); /* "camera", "state", ... */

/* What a stream's t_ns means (docs/episode-format.md, Time). */
typedef enum tp_stream_time {
    TP_TIME_CAPTURE = 0, /* when the sensor or device state was taken */
    TP_TIME_DISPLAY,     /* an OpenXR predicted display time (operator frames) */
    TP_TIME_COMMAND,     /* when the command was sent to the robot */
} tp_stream_time;

const char *tp_stream_time_name(tp_stream_time t); /* "capture", "display", "command" */

typedef struct tp_stream_desc {
    const char *name; /* unique: "head_camera", "state", "action", "operator" */
    tp_stream_kind kind;
    /* sample streams */
    int dims;
    const char *const *dim_names; /* dims entries, or NULL */
    const char *const *dim_units; /* dims unit strings ("rad", "m", "1"), or NULL: */
    const char *units;            /* then this one unit for every dimension; may be NULL */
    tp_stream_time t_meaning;     /* default capture */
    double rate_hz;               /* nominal */
    /* camera streams */
    const char *codec; /* "h264", "ffv1" */
    int width, height;
    const uint8_t *extradata;
    size_t extradata_size;
} tp_stream_desc;

typedef struct tp_episode_writer tp_episode_writer;

/* Creates a new file (fails if it exists). */
tp_episode_writer *tp_episode_writer_create(const char *path, char *err, size_t errlen);
/* Adds a stream; returns its id (>= 1) or -1. */
int tp_episode_writer_add_stream(tp_episode_writer *w, const tp_stream_desc *desc);
int tp_episode_writer_set_meta(tp_episode_writer *w, const char *key, const char *value);
/* Embeds a file byte for byte (attachments table, with its SHA-256); name is
 * e.g. "robot/humanoid.xml", "calibration/alice.ini", "config/station.ini".
 * data is copied. Replaces an attachment of the same name. 0 or -1. */
int tp_episode_writer_attach(tp_episode_writer *w, const char *name, const char *media_type, const void *data,
                             size_t size);
/* The lowercase hex SHA-256 stored with attachment name (65 bytes with the
 * terminator). 0, or -1 when there is none. */
int tp_episode_writer_attachment_sha256(tp_episode_writer *w, const char *name, char out[65]);
/* A joint's limits as the robot model declares them (joint_limits table);
 * velocity and effort NAN when the model declares none. */
typedef struct tp_joint_limit {
    const char *name;
    double lower, upper; /* rad (m for a slide joint) */
    double velocity;     /* rad/s, or NAN */
    double effort;       /* N m, or NAN */
} tp_joint_limit;
int tp_episode_writer_joint_limit(tp_episode_writer *w, const tp_joint_limit *limit);
/* A camera's intrinsics and extrinsics (cameras table; named "calibration"
 * because tp_camera_params is the camera driver's configuration). */
typedef struct tp_camera_calibration {
    const char *model;            /* "pinhole" */
    double fx, fy, cx, cy;        /* pixels; pixel centres at integer + 0.5 */
    const char *distortion_model; /* "none", or e.g. "opencv" */
    double distortion[8];         /* ndistortion coefficients in the model's order */
    int ndistortion;
    const char *parent_frame;     /* MJCF body (or URDF link) the camera is fixed to, "none" for no frame */
    double position[3];           /* metres, in the parent frame */
    double quat_wxyz[4];          /* camera orientation in the parent frame, w x y z */
    const char *convention;       /* "mujoco": looks along -Z, +Y up, +X right */
} tp_camera_calibration;
int tp_episode_writer_camera_params(tp_episode_writer *w, int stream_id, const tp_camera_calibration *c);
/* Publish only at finish: until then every row stays in the setup file
 * (PATH.creating, one transaction) and nothing exists at PATH, so a kill or
 * a failure leaves no partial episode there (recovery removes the setup
 * file). For writers that need no crash-safe prefix (offline retargeting).
 * Call right after create. */
void tp_episode_writer_defer_publish(tp_episode_writer *w);
int tp_episode_writer_begin(tp_episode_writer *w);
int tp_episode_writer_commit(tp_episode_writer *w);
/* Drops the open batch (after a failed write); committed rows stay. */
void tp_episode_writer_rollback(tp_episode_writer *w);
int tp_episode_writer_sample(tp_episode_writer *w, int stream_id, int64_t seq, int64_t t_ns, const float *data,
                             int dims);
int tp_episode_writer_packet(tp_episode_writer *w, int stream_id, int64_t seq, int64_t pts, int64_t t_ns,
                             bool keyframe, const uint8_t *data, size_t size);
int tp_episode_writer_event(tp_episode_writer *w, int64_t t_ns, const char *kind, const char *detail);
/* Computes and stores the sync report, writes outcome and end time in one
 * transaction, checkpoints the WAL and leaves WAL mode; the file is then
 * final (docs/episode-format.md). */
int tp_episode_writer_finish(tp_episode_writer *w, const char *outcome);
const char *tp_episode_writer_error(const tp_episode_writer *w);
/* When the episode's name is found taken at publish (created by someone
 * else since create), next_name writes another free name into path (0) or
 * gives up (-1); the episode is published there. Without it, publish fails. */
void tp_episode_writer_on_name_taken(tp_episode_writer *w, int (*next_name)(void *user, char *path, size_t pathlen),
                                     void *user);
/* The setup was published under the episode's name (the first begin, or
 * finish, links it there): from then on the file at PATH is this writer's.
 * Before, PATH is not ours and nothing may remove it. */
bool tp_episode_writer_published(const tp_episode_writer *w);
void tp_episode_writer_close(tp_episode_writer *w);

typedef struct tp_stream_info {
    int id;
    const char *name;
    tp_stream_kind kind;
    const char *kind_name;
    int dims;
    const char *const *dim_names; /* dims entries ("" when not stored) */
    const char *units;            /* as stored: v2 a JSON array, v1 free text */
    const char *const *dim_units; /* dims entries ("" when not stored; v1: units repeated) */
    tp_stream_time t_meaning;     /* v1: display for the operator stream, else capture */
    const char *t_meaning_name;
    double rate_hz;
    const char *codec;
    int width, height;
    const uint8_t *extradata;
    size_t extradata_size;
    int64_t count;   /* samples or packets */
    int64_t t_first; /* ns, 0 when empty */
    int64_t t_last;
} tp_stream_info;

typedef struct tp_episode tp_episode;

/* Refuses, in one line naming the file, anything but a regular file holding
 * a teleop episode of a version and layout this reader knows (never half
 * reads). The handle reads one snapshot of the file for its whole life (one
 * read transaction), so counts and rows agree even while it is recorded. */
tp_episode *tp_episode_open(const char *path, char *err, size_t errlen);
void tp_episode_close(tp_episode *ep);
int tp_episode_version(const tp_episode *ep);            /* 1 or 2 */
const char *tp_episode_layout_name(const tp_episode *ep); /* "1 (no crc32)", "1 (crc32 of data)", "2" */

/* Embedded files (version 2; none in version 1). */
typedef struct tp_episode_attachment_info {
    const char *name, *media_type, *sha256; /* sha256: as stored, lowercase hex */
    const uint8_t *data;
    size_t size;
} tp_episode_attachment_info;
int tp_episode_attachment_count(const tp_episode *ep);
const tp_episode_attachment_info *tp_episode_attachment_at(const tp_episode *ep, int index);
/* The attachment's bytes and size, or NULL when there is none of that name. */
const uint8_t *tp_episode_attachment(const tp_episode *ep, const char *name, size_t *size);
/* The joint_limits rows in name order; NULL with *n = 0 in version 1. */
const tp_joint_limit *tp_episode_joint_limits(const tp_episode *ep, int *n);
/* A camera stream's calibration, or NULL (version 1, or none stored). */
const tp_camera_calibration *tp_episode_camera_params(const tp_episode *ep, int stream_id);
const char *tp_episode_meta(const tp_episode *ep, const char *key); /* NULL if absent */
/* What review wrote (docs/episode-format.md, tags and notes): tags in name
 * order, notes in id order. *_at returns NULL outside [0, count). */
int tp_episode_tag_count(const tp_episode *ep);
const char *tp_episode_tag_at(const tp_episode *ep, int index);
typedef struct tp_episode_note {
    int64_t id, t_unix_ns;
    const char *author; /* "" when not stored */
    const char *text;
} tp_episode_note;
int tp_episode_note_count(const tp_episode *ep);
const tp_episode_note *tp_episode_note_at(const tp_episode *ep, int index);
int tp_episode_stream_count(const tp_episode *ep);
const tp_stream_info *tp_episode_stream(const tp_episode *ep, int index);
const tp_stream_info *tp_episode_find_stream(const tp_episode *ep, const char *name);

/* Cursor over one stream's rows in seq order. */
typedef struct tp_episode_cursor tp_episode_cursor;
tp_episode_cursor *tp_episode_cursor_open(tp_episode *ep, int stream_id);
/* The same from the first row with seq >= from_seq (a seek to a keyframe). */
tp_episode_cursor *tp_episode_cursor_open_from(tp_episode *ep, int stream_id, int64_t from_seq);
/* seq, t_ns, pts and keyframe only (bytes and samples NULL, size 0): indexes a
 * stream without reading its data. */
tp_episode_cursor *tp_episode_cursor_open_stamps(tp_episode *ep, int stream_id);
/* 1: a row; 0: end; -1: error. For sample streams data points at dims floats;
 * for cameras at the packet bytes. Valid until the next call. */
typedef struct tp_episode_row {
    int64_t seq, t_ns, pts;
    bool keyframe;
    const float *samples;
    const uint8_t *bytes;
    size_t size;
} tp_episode_row;
int tp_episode_cursor_next(tp_episode_cursor *c, tp_episode_row *row);
void tp_episode_cursor_close(tp_episode_cursor *c);

typedef struct tp_episode_event {
    int64_t t_ns;
    const char *kind, *detail;
} tp_episode_event;
/* Calls fn for each event in time order (t_ns, then id: write order breaks
 * ties); stops early when fn returns non-zero. */
int tp_episode_events(tp_episode *ep, int (*fn)(const tp_episode_event *ev, void *user), void *user);

/* Recovery of an episode whose recording was cut off (crash, kill -9, power
 * loss): its committed rows are kept, the sync report is computed, meta
 * gets outcome "interrupted", end_t_ns (one past the last stamp of any stream),
 * finished_unix_ns and recovered_unix_ns, a session_end event is added, the
 * WAL is checkpointed and the file leaves WAL mode, as a finished episode.
 * Ownership is proven from the raw header (SQLite magic and our
 * application_id) before anything is opened for writing, locked or removed:
 * another application's database (WAL pending or not), a symbolic link or a
 * non-file is left untouched. A finished episode is recognized from the
 * header alone (read-only files included). An episode whose writer is alive
 * (its flock held) is left alone; a PATH.creating setup file whose writer
 * died is removed when proven ours (it never became an episode). msg gets
 * one line naming the file. */
typedef enum tp_recover_result {
    TP_RECOVER_ERROR = -1,
    TP_RECOVER_NOTHING = 0, /* finished already */
    TP_RECOVER_DONE = 1,
    TP_RECOVER_BUSY = 2,    /* being written by a live process */
    TP_RECOVER_REMOVED = 3, /* a dead setup file was removed */
    TP_RECOVER_FOREIGN = 4, /* not ours (another application's file, a link): left untouched */
    TP_RECOVER_READONLY = 5, /* unfinished, but no write access to it or its folder: left as it is */
} tp_recover_result;
tp_recover_result tp_episode_recover(const char *path, char *msg, size_t msglen);
/* Recovers every *.db (and removes every dead *.db.creating) in dir, one
 * line on out per file acted on or refused; a missing dir is empty. 0, or -1
 * when some file could not be recovered; *recovered counts the files acted on. */
int tp_episode_recover_dir(const char *dir, FILE *out, int *recovered);

/* `teleop check`: verifies everything docs/episode-format.md ("What check
 * verifies") lists, on one snapshot of the file. Writes one line per problem
 * to report; returns 0 valid, 1 invalid. A valid episode being recorded is
 * reported as "FILE: ok (live: being recorded)". */
int tp_episode_check(const char *path, FILE *report);
/* The same; *live (may be NULL) tells whether a writer was recording the
 * file when it was checked. */
int tp_episode_check_status(const char *path, FILE *report, bool *live);
/* `teleop info`: human summary or one JSON object. Returns 0 or 1 with the
 * message on err_out. */
int tp_episode_info(const char *path, bool json, FILE *out, FILE *err_out);

#endif
