/* teleop — station sync: `teleop run` uploads each finished, kept episode
 * to an S3 bucket in the background (`[upload]` section,
 * docs/upload.md "Station sync").
 *
 * The queue lives on disk in the recordings folder, one small file per
 * episode (OUT/.upload-queue/NAME.db.job, written to a temporary name,
 * fsync'd and renamed), so a crash or kill leaves it consistent and the
 * next run resumes it (a multipart upload resumes from its
 * NAME.db.upload-state). One thread works the queue at the lowest CPU and
 * I/O priority (nice 19, ioprio IDLE) with curl's send-speed limit; per
 * episode: wait for its QA flags, upload to PREFIX/STATION/NAME.db, verify
 * (HEAD size + ETag recomputed from the file), write its bucket catalog
 * entry, then — only when delete_after_upload — delete the local file.
 * Failures are retried with exponential backoff (up to 5 minutes apart),
 * never dropped.
 *
 * Memory: tp_sync is owned by the caller (tp_sync_stop frees it); it
 * copies the config. tp_sync_enqueue/forget/status may be called from any
 * thread; enqueue does no I/O (the sync thread writes the job file).
 */
#ifndef TELEOP_STATION_SYNC_H
#define TELEOP_STATION_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [upload] (src/station/station_config.c's table). */
typedef struct tp_upload_config {
    bool enabled;
    const char *url;         /* s3://bucket/prefix */
    const char *endpoint;    /* NULL/"": AWS (or AWS_ENDPOINT_URL) */
    const char *region;
    const char *ca_bundle;
    const char *station;     /* NULL/"": the host name */
    double bandwidth_limit_mb_s; /* MB/s (10^6 bytes) for the whole station; 0: none */
    bool delete_after_upload;
    double part_size_mb;     /* multipart part size, MiB; default 8 */
    int parallel;            /* parts in flight; default 2 */
    bool wait_at_exit;       /* the run waits for the queue to empty (Ctrl-C leaves it queued); default true */
    double qa_wait_s;        /* longest wait for an episode's QA flags before uploading it anyway; default 60 */
} tp_upload_config;

static inline void tp_upload_default_config(tp_upload_config *c)
{
    *c = (tp_upload_config){.part_size_mb = 8, .parallel = 2, .wait_at_exit = true, .qa_wait_s = 60};
}

typedef struct tp_sync tp_sync;

/* Opens the bucket (credentials, endpoint), reads the queue left in
 * out_dir/.upload-queue and starts the thread. NULL with one line. */
tp_sync *tp_sync_start(const tp_upload_config *cfg, const char *out_dir, char *err, size_t errlen);
/* Queues a kept episode. 0, or -1 out of memory. */
int tp_sync_enqueue(tp_sync *s, const char *episode_path);
/* An episode deleted (re-record) before its upload: dropped from the queue. */
void tp_sync_forget(tp_sync *s, const char *episode_path);

typedef struct tp_sync_status {
    int queued;          /* waiting, the one in progress included */
    int done, failed;    /* this run: uploaded and verified; attempts that failed */
    bool uploading;
    char current[256];   /* the episode in progress (file name) */
    double fraction;     /* of the one in progress, 0..1 */
    int64_t bytes_done;  /* this run: episodes uploaded and verified */
    int64_t current_bytes; /* of the one in progress, sent or resumed */
    int retry_in_s;      /* > 0: waiting to retry after a failure */
    char last_error[320];
} tp_sync_status;
void tp_sync_get_status(tp_sync *s, tp_sync_status *st);
/* "upload: 2 queued, uploading NAME 45%, 3 done" for the status line. */
void tp_sync_status_text(tp_sync *s, char *buf, size_t len);

/* Waits until the queue is empty or *interrupt turns nonzero or timeout_s
 * passes (< 0: no limit), printing progress on stderr once a second.
 * 0 empty, 1 not (left queued). */
int tp_sync_drain(tp_sync *s, const volatile int *interrupt, double timeout_s);
/* Stops the thread (an upload in flight is cut; its job stays queued) and
 * frees s (NULL: nothing). */
void tp_sync_stop(tp_sync *s);

#endif
