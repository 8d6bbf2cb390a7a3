/* teleop — S3-compatible object storage client (AWS S3, MinIO, Ceph, R2):
 * what `teleop upload`, station sync and the shared catalog are built on
 * (docs/upload.md).
 *
 * S3 REST over libcurl; requests are signed by libcurl's AWS SigV4
 * (CURLOPT_AWS_SIGV4) with canonical (sorted, URI-encoded) query strings
 * built here, since libcurl 7.88 signs the query as written. Payloads are
 * signed (x-amz-content-sha256 of the body) and carry Content-MD5; a PUT's
 * returned ETag is checked. TLS verification is always on (ca_bundle adds a
 * private CA). 5xx, 429/SlowDown and connection errors are retried with
 * exponential backoff and full jitter.
 *
 * Errors: every call that can fail fills a tp_s3_error (may be NULL) whose
 * message is one line naming the endpoint, the request and the S3 error
 * code, e.g. "s3 http://127.0.0.1:9000: PUT bucket/key: InvalidAccessKeyId
 * (403)". Secrets never appear in messages or logs.
 *
 * Threads: a tp_s3 may be used from several threads at once (each request
 * has its own curl handle; connections are shared under a lock).
 *
 * Memory: tp_s3 is owned by the caller (tp_s3_close); it copies everything
 * in its config, credentials included (wiped on close). Strings passed to
 * calls are borrowed for the call. Buffers and listings returned are owned
 * by the caller and freed with free() / tp_s3_listing_free /
 * tp_s3_uploads_free as each function says.
 */
#ifndef TELEOP_S3_H
#define TELEOP_S3_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_S3_MIN_PART_SIZE (5 * 1024 * 1024)
#define TP_S3_MAX_PARTS 10000

typedef struct tp_s3 tp_s3;

typedef struct tp_s3_error {
    long http_status;  /* 0: no HTTP response (connection, TLS, local I/O) */
    char code[64];     /* S3 error code ("NoSuchKey", "PreconditionFailed", ...), or "" */
    char message[640]; /* one line, no newline */
} tp_s3_error;

/* ---- credentials ---- */

typedef struct tp_s3_credentials {
    char access_key_id[128];
    char secret_access_key[128];
    char session_token[4096]; /* "" when none */
    char region[64];          /* from AWS_REGION / AWS_DEFAULT_REGION / the profile's config; "" when unset */
    char source[512];         /* "environment" or the credentials file's path: for messages */
} tp_s3_credentials;

/* Loads credentials the AWS way: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 * (+ AWS_SESSION_TOKEN) from the environment, else the profile AWS_PROFILE
 * (default "default") of AWS_SHARED_CREDENTIALS_FILE (default
 * ~/.aws/credentials). A credentials file readable by group or others
 * (mode other than 0600/0400) is refused with one line naming the file and
 * its mode. Region: AWS_REGION, AWS_DEFAULT_REGION, then the profile's
 * region in ~/.aws/config (AWS_CONFIG_FILE). 0, or -1 with e filled. */
int tp_s3_credentials_load(tp_s3_credentials *c, tp_s3_error *e);
/* Wipes c (explicit_bzero). */
void tp_s3_credentials_clear(tp_s3_credentials *c);

/* ---- client ---- */

typedef enum tp_s3_addressing {
    TP_S3_ADDRESSING_AUTO = 0, /* virtual-host for AWS endpoints, path-style otherwise (MinIO, Ceph, IPs) */
    TP_S3_ADDRESSING_PATH,     /* http://endpoint/bucket/key */
    TP_S3_ADDRESSING_VIRTUAL,  /* http://bucket.endpoint/key */
} tp_s3_addressing;

typedef struct tp_s3_config {
    const char *endpoint;    /* "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000",
                              * "https://ACCOUNT.r2.cloudflarestorage.com"; NULL/"": AWS for the region */
    const char *region;      /* NULL/"": the credentials' region, else "us-east-1" (R2: "auto") */
    tp_s3_addressing addressing;
    const char *ca_bundle;   /* PEM file of the CAs to trust; NULL: AWS_CA_BUNDLE, else the system's */
    const tp_s3_credentials *credentials; /* NULL: tp_s3_credentials_load() */
    int max_attempts;        /* per request, first included; 0: 6 */
    int backoff_base_ms;     /* first retry waits up to this (full jitter), doubling; 0: 250 */
    int backoff_max_ms;      /* cap of one wait; 0: 20000 */
    int connect_timeout_s;   /* 0: 10 */
    int low_speed_timeout_s; /* a transfer under 1 KiB/s for this long is cut and retried; 0: 60 */
    int64_t max_send_bytes_per_s; /* upload bandwidth limit per request; 0: none */
    const atomic_bool *cancel; /* when it turns true, transfers stop and calls fail with code "Cancelled"; may be NULL */
} tp_s3_config;

/* NULL with e filled (bad endpoint, no credentials, refused file). */
tp_s3 *tp_s3_open(const tp_s3_config *cfg, tp_s3_error *e);
void tp_s3_close(tp_s3 *s3);
/* The endpoint as messages name it ("https://s3.us-east-1.amazonaws.com"); owned by s3. */
const char *tp_s3_endpoint(const tp_s3 *s3);
const char *tp_s3_region(const tp_s3 *s3);

/* Splits "s3://bucket/some/prefix" into bucket and prefix (no leading or
 * trailing '/'; "" when none). 0, or -1 with one line in err. */
int tp_s3_parse_url(const char *url, char *bucket, size_t bucket_len, char *prefix, size_t prefix_len,
                    char *err, size_t errlen);
/* prefix + "/" + name into out (just name when prefix is ""). 0, or -1 when too long. */
int tp_s3_join_key(char *out, size_t outlen, const char *prefix, const char *name);

/* ---- objects ---- */

typedef struct tp_s3_object {
    char *key;                 /* listings only (owned by the listing); NULL from tp_s3_head */
    int64_t size;
    char etag[80];             /* without quotes: MD5 hex, or "MD5HEX-NPARTS" for multipart */
    int64_t last_modified_ms;  /* Unix ms; 0 when unknown */
} tp_s3_object;

/* HEAD. 0 found (*out filled, may be NULL), 1 no such key, -1 error. */
int tp_s3_head(tp_s3 *s3, const char *bucket, const char *key, tp_s3_object *out, tp_s3_error *e);

typedef struct tp_s3_put_options {
    const char *content_type;  /* NULL: application/octet-stream */
    bool if_none_match;        /* If-None-Match: * (create only); not every server honours it (docs/upload.md) */
    const char *if_match;      /* If-Match: ETAG (replace only that version); NULL: none */
} tp_s3_put_options;

/* Single PUT of a buffer (atomic: the key shows the old object or the whole
 * new one), with Content-MD5; the returned ETag must equal the MD5. opt may
 * be NULL. 0 stored (*out may be NULL), 1 precondition failed (412, or 409
 * ConditionalRequestConflict), -1 error. */
int tp_s3_put(tp_s3 *s3, const char *bucket, const char *key, const void *data, size_t len,
              const tp_s3_put_options *opt, tp_s3_object *out, tp_s3_error *e);

/* GET into a malloc'd buffer (*data owned by the caller, free()); refuses
 * objects over max_bytes (0: no limit). 0, 1 no such key, -1 error. */
int tp_s3_get(tp_s3 *s3, const char *bucket, const char *key, size_t max_bytes, void **data, size_t *len,
              tp_s3_object *out, tp_s3_error *e);
/* GET into path (written to path.part, fsync'd, renamed; the size checked
 * against Content-Length and, for single-part ETags, the MD5).
 * 0, 1 no such key, -1 error (path untouched). */
int tp_s3_get_file(tp_s3 *s3, const char *bucket, const char *key, const char *path, tp_s3_object *out,
                   tp_s3_error *e);

/* DELETE (a missing key is success). 0 or -1. */
int tp_s3_delete(tp_s3 *s3, const char *bucket, const char *key, tp_s3_error *e);

typedef struct tp_s3_listing {
    tp_s3_object *objects;  /* in key order */
    size_t count;
    char **prefixes;        /* common prefixes when a delimiter was given */
    size_t nprefixes;
} tp_s3_listing;

/* ListObjectsV2 over every page (keys starting with prefix; delimiter NULL
 * or "/"). *out owned by the caller: tp_s3_listing_free. 0 or -1. */
int tp_s3_list(tp_s3 *s3, const char *bucket, const char *prefix, const char *delimiter, tp_s3_listing *out,
               tp_s3_error *e);
void tp_s3_listing_free(tp_s3_listing *l);

/* ---- multipart (low level; tp_s3_upload_file drives these) ---- */

typedef struct tp_s3_part {
    int number;       /* 1..10000 */
    int64_t size;
    char etag[80];    /* without quotes */
    char md5[33];     /* hex of the part's bytes ("" when unknown, e.g. from a listing) */
} tp_s3_part;

/* Starts an upload; upload_id gets the server's id. 0 or -1. */
int tp_s3_multipart_create(tp_s3 *s3, const char *bucket, const char *key, const char *content_type,
                           char *upload_id, size_t upload_id_len, tp_s3_error *e);
/* Uploads one part (Content-MD5, signed payload); part->etag filled, checked
 * against the MD5. part->number and part->size must be set. 0 or -1. */
int tp_s3_multipart_upload_part(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                                const void *data, tp_s3_part *part, tp_s3_error *e);
/* Completes with parts in ascending number order; out->etag is the object's. 0 or -1. */
int tp_s3_multipart_complete(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                             const tp_s3_part *parts, int nparts, tp_s3_object *out, tp_s3_error *e);
/* Aborts (a missing upload is success). 0 or -1. */
int tp_s3_multipart_abort(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                          tp_s3_error *e);
/* The parts the server holds (every page). *parts malloc'd, owned by the
 * caller (free()). 0, 1 no such upload, -1 error. */
int tp_s3_multipart_list_parts(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                               tp_s3_part **parts, int *nparts, tp_s3_error *e);

typedef struct tp_s3_upload {
    char *key;
    char *upload_id;
    int64_t initiated_ms;  /* Unix ms */
} tp_s3_upload;
/* In-progress multipart uploads under prefix (every page). *uploads owned by
 * the caller: tp_s3_uploads_free. 0 or -1. */
int tp_s3_multipart_list_uploads(tp_s3 *s3, const char *bucket, const char *prefix, tp_s3_upload **uploads,
                                 int *count, tp_s3_error *e);
void tp_s3_uploads_free(tp_s3_upload *uploads, int count);
/* Aborts the uploads under prefix initiated more than max_age_s ago;
 * *aborted (may be NULL) counts them. 0 or -1. */
int tp_s3_abort_stale(tp_s3 *s3, const char *bucket, const char *prefix, double max_age_s, int *aborted,
                      tp_s3_error *e);

/* ---- files ---- */

typedef struct tp_s3_progress {
    const char *key;      /* the object being written (borrowed for the call) */
    int64_t bytes_done;   /* of this file, parts resumed included */
    int64_t bytes_total;
    int files_done;       /* datasets: files finished before this one; else 0 */
    int files_total;      /* datasets: files in all; else 1 */
} tp_s3_progress;

typedef struct tp_s3_upload_options {
    int64_t part_size;           /* multipart part size, >= TP_S3_MIN_PART_SIZE; 0: 8 MiB (grown to fit 10000 parts) */
    int parallel;                /* parts in flight; 0: 4. Memory: parallel x part_size of buffers */
    int64_t multipart_threshold; /* files up to this go in one PUT; 0: part_size */
    const char *content_type;    /* NULL: application/octet-stream */
    /* Called from the uploading threads (serialized), at most ~4 times a second. */
    void (*progress)(void *user, const tp_s3_progress *p);
    void *progress_user;
    /* A state file (an interrupted upload) older than this many seconds is
     * not resumed: its upload is aborted on the server and started anew.
     * 0: always resume. */
    double restart_older_than_s;
} tp_s3_upload_options;

typedef struct tp_s3_upload_result {
    int64_t bytes;          /* file size */
    int64_t bytes_sent;     /* this run (resumed parts excluded) */
    bool multipart;
    int parts;              /* 0 for a single PUT */
    int parts_resumed;      /* parts found done from an earlier run */
    int retries;            /* requests retried */
    tp_s3_object object;    /* as verified by HEAD (key NULL) */
    bool unchanged;         /* the key already held this file (size and ETag): nothing was sent */
} tp_s3_upload_result;

/* Uploads the file at path to bucket/key and verifies it (HEAD: size and the
 * ETag computed locally, MD5 or multipart MD5-of-MD5s). Small files: one
 * PUT. Larger: multipart, parts in parallel, its state in
 * "PATH.upload-state" (upload id, part size, the file's size and mtime,
 * finished parts with ETags and MD5s; written atomically after each part),
 * so a run after an interruption resumes where it stopped (parts re-checked
 * against the server's list); the state is removed once verified. The key
 * shows nothing (or the previous object) until the upload completes. When
 * no state file exists and the key already holds this file (HEAD: size and
 * ETag), nothing is sent (res->unchanged), so a rerun after a cut skips
 * what is done. opt and res may be NULL. 0, or -1 with e filled (the state
 * kept for a resume). */
int tp_s3_upload_file(tp_s3 *s3, const char *path, const char *bucket, const char *key,
                      const tp_s3_upload_options *opt, tp_s3_upload_result *res, tp_s3_error *e);

/* Compares the object at bucket/key with the file at path: size, and the
 * ETag recomputed from the file (a multipart ETag with part_size; 0: the
 * smallest whole-MiB part size giving the ETag's part count).
 * 0 identical, 1 different or missing (why in e->message), -1 error. */
int tp_s3_verify_file(tp_s3 *s3, const char *path, const char *bucket, const char *key, int64_t part_size,
                      tp_s3_error *e);

/* ---- episodes and datasets (teleop upload) ---- */

/* Uploads one finished episode as prefix/NAME.db after `teleop check`'s
 * validation (a live or invalid episode is refused, e->code "InvalidEpisode"
 * and the check's first line in the message). key_out (may be NULL) gets the
 * key. 0 or -1. */
int tp_s3_upload_episode(tp_s3 *s3, const char *path, const char *bucket, const char *prefix,
                         const tp_s3_upload_options *opt, tp_s3_upload_result *res, char *key_out,
                         size_t key_out_len, tp_s3_error *e);

/* Uploads a dataset folder file by file under prefix/ (relative paths kept),
 * every file verified, the meta/ folder last so a reader that sees
 * meta/info.json finds every file it names. Files named *.upload-state and
 * dot-files are skipped. Files already there and identical are not sent
 * again (a rerun resumes). res (may be NULL) sums the files. 0 or -1. */
int tp_s3_upload_dataset(tp_s3 *s3, const char *dir, const char *bucket, const char *prefix,
                         const tp_s3_upload_options *opt, tp_s3_upload_result *res, tp_s3_error *e);

#endif
