/* teleop — S3 client internals shared by the src/upload files (not a public API). */
#ifndef TELEOP_S3_INTERNAL_H
#define TELEOP_S3_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/s3.h"

struct tp_s3 {
    char endpoint[600];   /* scheme://host[:port][/base], no trailing '/' */
    char scheme[8];       /* "http" or "https" */
    char host[256];       /* host[:port] */
    char base_path[256];  /* "" or "/base" */
    char region[64];
    char sigv4[128];      /* "aws:amz:REGION:SERVICE" */
    bool virtual_host;
    tp_s3_credentials cred;
    char ca_bundle[1024];
    int max_attempts, backoff_base_ms, backoff_max_ms, connect_timeout_s, low_speed_timeout_s;
    int64_t max_send_bytes_per_s;
    const atomic_bool *cancel;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    atomic_int retries; /* requests retried since open */
    /* Test hooks (tests/upload only): a fixed X-Amz-Date, a curl CONNECT_TO
     * mapping so a vector's host name reaches a loopback listener. */
    char test_amz_date[32];
    struct curl_slist *test_connect_to;
    int list_max_keys; /* tests: small pages to exercise continuation; 0: the server's (1000) */
};

/* A growable byte buffer. */
typedef struct s3_buf {
    char *data;
    size_t len, cap;
} s3_buf;
int s3_buf_put(s3_buf *b, const void *p, size_t n); /* 0 or -1 (out of memory) */
void s3_buf_free(s3_buf *b);

/* Streams a GET body somewhere else than memory; reset() is called before a
 * retry so the sink starts over. Return 0 to go on, -1 to abort. */
typedef struct s3_sink {
    int (*write)(void *user, const void *data, size_t len);
    int (*reset)(void *user);
    void *user;
} s3_sink;

typedef struct s3_request {
    const char *method;      /* GET PUT POST HEAD DELETE */
    const char *bucket;      /* NULL: the service */
    const char *key;         /* NULL: the bucket */
    const char *query;       /* canonical (s3_query_build), NULL or "" when none */
    const void *body;
    size_t body_len;
    bool send_body;          /* PUT/POST with body (may be empty) */
    const char *content_type; /* NULL: no Content-Type header */
    bool content_md5;        /* add Content-MD5 of body */
    bool no_payload_hash;    /* tests: leave x-amz-content-sha256 out (non-S3 vectors) */
    const char *headers[6];  /* extra "Name: value" lines, NULL-terminated */
    size_t max_body;         /* response body limit (0: 16 MiB for memory) */
    const s3_sink *sink;     /* NULL: response into s3_response.body */
    /* upload progress: bytes of this request's body sent so far are added
     * (and taken back on a retry) to *progress when not NULL */
    atomic_llong *progress;
    void (*on_progress)(void *user);
    void *progress_user;
} s3_request;

typedef struct s3_response {
    long status;
    s3_buf body;
    char etag[80];           /* unquoted */
    int64_t content_length;  /* -1 unknown */
    int64_t last_modified_ms;
    char code[64];           /* S3 error code from an <Error> body, or derived */
    char message[256];       /* S3 <Message> */
    char authorization[512]; /* tests: the Authorization header curl sent (never logged) */
    int attempts;
} s3_response;

/* Sends rq with retries (5xx, 429, SlowDown, RequestTimeout, connection
 * errors) and backoff. 0 when a final HTTP response arrived (any status:
 * rs->status), -1 on a transport failure after the last attempt or a
 * cancel (e filled). rs must be zeroed; s3_response_free after. */
int s3_perform(tp_s3 *s3, const s3_request *rq, s3_response *rs, tp_s3_error *e);
void s3_response_free(s3_response *rs);
/* Fills e from a non-2xx response (code from the body, else from the status). */
void s3_fail(tp_s3 *s3, const s3_request *rq, const s3_response *rs, tp_s3_error *e);
/* Fills e with a local problem about rq: "s3 ENDPOINT: VERB bucket/key: what". */
void s3_fail_local(tp_s3 *s3, const char *method, const char *bucket, const char *key, const char *code,
                   tp_s3_error *e, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
bool s3_ok(long status);
void s3_set_error(tp_s3_error *e, long status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* URI-encodes s per SigV4 (unreserved kept; '/' kept when keep_slash). */
int s3_uri_encode(s3_buf *out, const char *s, bool keep_slash);
/* Canonical query: the pairs sorted by name then value, names and values
 * URI-encoded, '=' always present (libcurl 7.88 signs the query exactly as
 * written). pairs: name, value (NULL = ""), ..., NULL. Returns a malloc'd
 * string or NULL (out of memory). */
char *s3_query_build(const char *const *pairs);
/* The request URL for rq (malloc'd). */
char *s3_url(const tp_s3 *s3, const char *bucket, const char *key, const char *query);

/* Hashes. */
void s3_md5(const void *data, size_t len, unsigned char out[16]);
void s3_hex(const unsigned char *bin, size_t n, char *out);  /* out: 2n+1 */
void s3_base64(const unsigned char *bin, size_t n, char *out, size_t outlen);
void s3_sha256_hex(const void *data, size_t len, char out[65]);
/* MD5 of a file region (hex); 0 or -1 with errno. */
int s3_file_md5(int fd, int64_t off, int64_t len, char hex[33]);
/* The multipart ETag "hex(md5(md5_1..md5_n))-n" from part MD5s (hex). */
void s3_multipart_etag(const char (*part_md5)[33], int n, char *out, size_t outlen);

/* XML: calls on_end(user, path, text) at each element's end with its path
 * from the root ("ListBucketResult/Contents/Key") and its text (trimmed of
 * nothing; "" for containers). 0, or -1 when not well-formed. */
typedef void (*s3_xml_end_fn)(void *user, const char *path, const char *text);
int s3_xml_parse(const char *data, size_t len, s3_xml_end_fn on_end, void *user);
/* The root element's name of a document ("" when none). */
void s3_xml_root(const char *data, size_t len, char *out, size_t outlen);

int64_t s3_parse_iso8601_ms(const char *s); /* "2013-09-17T18:07:53.000Z"; 0 when unparsable */
void s3_strip_quotes(const char *in, char *out, size_t outlen);
void s3_sleep_ms(tp_s3 *s3, int ms); /* returns early on cancel */
bool s3_cancelled(const tp_s3 *s3);

/* Multipart pieces (s3_multipart.c) for the file uploader and the tests. */
int s3_upload_part_progress(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                            const void *data, tp_s3_part *part, atomic_llong *progress, void (*on_progress)(void *),
                            void *progress_user, tp_s3_error *e);
int s3_parse_list_parts(const char *xml, size_t len, tp_s3_part **parts, int *n, bool *truncated, char *next_marker,
                        size_t next_len);
int s3_parse_list_uploads(const char *xml, size_t len, tp_s3_upload **uploads, int *n, bool *truncated,
                          char *next_key, char *next_id, size_t next_len);

/* tp_s3_upload_file with the progress's file counts (datasets). */
int s3_upload_file_counted(tp_s3 *s3, const char *path, const char *bucket, const char *key,
                           const tp_s3_upload_options *opt, int files_done, int files_total,
                           tp_s3_upload_result *res, tp_s3_error *e);

/* Test hooks: see struct tp_s3. */
void s3_test_set_date(tp_s3 *s3, const char *amz_date);
int s3_test_connect_to(tp_s3 *s3, const char *mapping);
void s3_test_set_service(tp_s3 *s3, const char *service);
void s3_test_set_list_page(tp_s3 *s3, int max_keys);

#endif
