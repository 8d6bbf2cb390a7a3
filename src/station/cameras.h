/* teleop — the station's cameras (private to src/station): per camera a
 * capture thread (the device) and an encoder thread, joined by an SPSC frame
 * ring; encoded packets and camera events go to the recorder through SPSC
 * rings of their own.
 *
 * Backpressure: a capture thread never waits. When its frame ring is full
 * (the encoder, or the recorder behind it, is behind) the frame is dropped
 * before encoding, counted and recorded as an event. An encoder waits for
 * room in its packet ring rather than lose an encoded packet (later packets
 * would not decode); that wait fills the frame ring, so the loss lands at
 * capture. The control loop only publishes qpos snapshots and never waits.
 *
 * Memory: camera_rig_create allocates everything (rings, encoders, timing
 * arrays); camera_rig_destroy frees it after the threads are joined. The
 * config's strings are borrowed. The stats array is the caller's; its
 * atomics are written while the threads run.
 */
#ifndef TELEOP_STATION_CAMERAS_H
#define TELEOP_STATION_CAMERAS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "teleop/config.h"
#include "teleop/episode.h"
#include "teleop/session.h"

/* One default camera: the sim head camera. */
void camera_default_config(tp_session_camera *cam, const char *name);

typedef struct camera_rig camera_rig;

typedef struct camera_rig_links {
    const tp_sim *sim;
    atomic_llong *start_ns;  /* 0 until the session clock starts; then its start */
    atomic_int *stop;        /* non-zero: capture ends (the control loop ended) */
    const int64_t *end_ns;   /* the session's end, written before stop is set (or NULL) */
    void (*fail)(void *user, const char *msg); /* a fatal encoder error */
    void *user;
    tp_session_camera_stats *stats; /* one per camera */
    tp_console_tap *console;        /* fed every captured frame, or NULL */
} camera_rig_links;

camera_rig *camera_rig_create(const tp_session_config *cfg, const camera_rig_links *links, char *err,
                              size_t errlen);
void camera_rig_destroy(camera_rig *rig);
int camera_rig_count(const camera_rig *rig);
/* The snapshot rings the control thread feeds (one per sim camera) and each
 * one's camera frame rate. The control loop publishes one snapshot per frame
 * time of its camera (the control tick nearest each k/fps after the start);
 * the camera renders them in order, so a ring holds about a second of frames
 * for a render that runs late. */
int camera_rig_snapshot_rings(camera_rig *rig, tp_ring **rings, double *fps, int max);

/* Starts the capture threads and waits until every device is open (a sim
 * camera has rendered its warm-up frame). -1 with the first failure. */
int camera_rig_start_capture(camera_rig *rig, char *err, size_t errlen);
/* Starts the encoder threads. -1 if one cannot start. */
int camera_rig_start_encoders(camera_rig *rig, char *err, size_t errlen);
/* Joins every thread that started; fills the timing figures in the stats. */
void camera_rig_join(camera_rig *rig);
/* Every encoder has flushed its last packet (or none runs). */
bool camera_rig_done(const camera_rig *rig);

/* Recorder side: a stream per camera, then packets and events into the
 * writer's open transaction. -1 on a write error (the writer has the
 * message). */
int camera_rig_add_streams(camera_rig *rig, tp_episode_writer *w, char *err, size_t errlen);
int camera_rig_drain(camera_rig *rig, tp_episode_writer *w);
/* Recording epochs. Each episode is one epoch: from its boundary on, every
 * encoder encodes into a fresh stream (starting on a keyframe) tagged with
 * the epoch; when the next boundary passes (or no frame came for 0.2 s, after
 * it) the encoder flushes and marks the epoch's end. Frames of an epoch that
 * is not recording are not encoded. Epoch 0 records from the start, so a
 * recorder that never calls this sees one stream. Returns the new epoch. */
int64_t camera_rig_begin_epoch(camera_rig *rig, int64_t boundary_ns, bool recording);
/* Writes the packets of epoch captured in [start_ns, end_ns) (w NULL: drops
 * them) and drops older ones; packets of later epochs stay queued. Camera
 * events stamped in [start_ns, end_ns) go to w (or are dropped), earlier ones
 * are dropped, later ones stay queued. -1 on a write error. */
int camera_rig_drain_epoch(camera_rig *rig, tp_episode_writer *w, int64_t epoch, int64_t start_ns, int64_t end_ns);
/* The recorder has published every boundary before decided_ns (call after
 * camera_rig_begin_epoch for those): frames stamped later wait before
 * encoding, so each lands in the epoch that holds its capture time. Never
 * called: frames never wait. */
void camera_rig_set_decided(camera_rig *rig, int64_t decided_ns);
/* Every camera has delivered the end of epoch (or has stopped for good). */
bool camera_rig_epoch_ended(const camera_rig *rig, int64_t epoch);
/* Frees queued packets and events without writing them. */
void camera_rig_discard(camera_rig *rig);
/* Live status on stderr (warn level), at most once a second per camera and
 * only when frames were dropped or a camera stalled since the last line. */
void camera_rig_report(camera_rig *rig, int64_t now_ns);

#endif
