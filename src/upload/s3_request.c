/* teleop — S3 client: one request, its errors, and its retries with
 * exponential backoff and full jitter (5xx, 429, SlowDown, RequestTimeout,
 * connection errors). Each attempt is a fresh curl handle on the client's
 * shared connection cache. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_internal.h"
#include "teleop/log.h"

void s3_set_error(tp_s3_error *e, long status, const char *code, const char *fmt, ...)
{
    if (!e)
        return;
    e->http_status = status;
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    for (char *p = e->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* ---- errors ---- */

static void describe(const tp_s3 *s3, const char *method, const char *bucket, const char *key, char *out,
                     size_t outlen)
{
    snprintf(out, outlen, "s3 %s: %s %s%s%s", s3->endpoint, method, bucket ? bucket : "", key ? "/" : "",
             key ? key : "");
}

void s3_fail_local(tp_s3 *s3, const char *method, const char *bucket, const char *key, const char *code,
                   tp_s3_error *e, const char *fmt, ...)
{
    if (!e)
        return;
    char head[1024], what[512];
    describe(s3, method, bucket, key, head, sizeof head);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    s3_set_error(e, 0, code, "%s: %s", head, what);
}

static const char *status_code_name(long status)
{
    switch (status) {
    case 301: return "PermanentRedirect";
    case 307: return "TemporaryRedirect";
    case 400: return "BadRequest";
    case 403: return "AccessDenied";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 501: return "NotImplemented";
    case 503: return "ServiceUnavailable";
    default: return "HTTPError";
    }
}

void s3_fail(tp_s3 *s3, const s3_request *rq, const s3_response *rs, tp_s3_error *e)
{
    if (!e)
        return;
    char head[1024];
    describe(s3, rq->method, rq->bucket, rq->key, head, sizeof head);
    const char *code = rs->code[0] ? rs->code : status_code_name(rs->status);
    if (rs->message[0])
        s3_set_error(e, rs->status, code, "%s: %s (%ld): %s", head, code, rs->status, rs->message);
    else
        s3_set_error(e, rs->status, code, "%s: %s (%ld)", head, code, rs->status);
}

/* ---- one request ---- */

typedef struct xfer {
    tp_s3 *s3;
    const s3_request *rq;
    s3_response *rs;
    size_t read_pos;
    curl_off_t sent; /* counted into rq->progress */
    bool too_big, sink_failed;
} xfer;

static size_t on_read(char *buf, size_t size, size_t nitems, void *user)
{
    xfer *x = user;
    size_t want = size * nitems, left = x->rq->body_len - x->read_pos;
    size_t n = want < left ? want : left;
    if (n)
        memcpy(buf, (const char *)x->rq->body + x->read_pos, n);
    x->read_pos += n;
    return n;
}

static int on_seek(void *user, curl_off_t offset, int origin)
{
    xfer *x = user;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->rq->body_len)
        return CURL_SEEKFUNC_FAIL;
    x->read_pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *user)
{
    xfer *x = user;
    size_t n = size * nmemb;
    if (x->rq->sink && s3_ok(x->rs->status)) {
        if (x->rq->sink->write(x->rq->sink->user, data, n)) {
            x->sink_failed = true;
            return 0;
        }
        return n;
    }
    size_t limit = x->rq->max_body ? x->rq->max_body : (size_t)16 << 20;
    if (!s3_ok(x->rs->status))
        limit = 64 << 10; /* an error document */
    if (x->rs->body.len + n > limit) {
        x->too_big = true;
        return 0;
    }
    if (s3_buf_put(&x->rs->body, data, n))
        return 0;
    return n;
}

static void header_value(const char *line, size_t len, size_t name_len, char *out, size_t outlen)
{
    const char *v = line + name_len;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t n = (size_t)(end - v) < outlen - 1 ? (size_t)(end - v) : outlen - 1;
    memcpy(out, v, n);
    out[n] = 0;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *user)
{
    xfer *x = user;
    size_t len = size * nitems;
    char v[256];
    if (len > 5 && !strncmp(line, "HTTP/", 5)) {
        long status = 0;
        const char *sp = memchr(line, ' ', len);
        if (sp)
            status = strtol(sp + 1, NULL, 10);
        x->rs->status = status;
        x->rs->etag[0] = 0;
        x->rs->content_length = -1;
        x->rs->last_modified_ms = 0;
    } else if (len > 5 && !strncasecmp(line, "ETag:", 5)) {
        header_value(line, len, 5, v, sizeof v);
        s3_strip_quotes(v, x->rs->etag, sizeof x->rs->etag);
    } else if (len > 15 && !strncasecmp(line, "Content-Length:", 15)) {
        header_value(line, len, 15, v, sizeof v);
        x->rs->content_length = strtoll(v, NULL, 10);
    } else if (len > 14 && !strncasecmp(line, "Last-Modified:", 14)) {
        header_value(line, len, 14, v, sizeof v);
        time_t t = curl_getdate(v, NULL);
        x->rs->last_modified_ms = t > 0 ? (int64_t)t * 1000 : 0;
    }
    return len;
}

static int on_xferinfo(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    xfer *x = user;
    if (x->rq->progress && ulnow > x->sent) {
        atomic_fetch_add(x->rq->progress, (long long)(ulnow - x->sent));
        x->sent = ulnow;
        if (x->rq->on_progress)
            x->rq->on_progress(x->rq->progress_user);
    }
    return s3_cancelled(x->s3) ? 1 : 0;
}

/* Tests: the Authorization line curl sent (the signature, never the secret). */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *user)
{
    (void)h;
    xfer *x = user;
    if (type != CURLINFO_HEADER_OUT)
        return 0;
    const char *end = data + size;
    for (const char *p = data; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 15 && !strncasecmp(p, "Authorization:", 14))
            header_value(p, n, 14, x->rs->authorization, sizeof x->rs->authorization);
        p += n + 1;
    }
    return 0;
}

typedef struct err_doc {
    char code[64], message[256];
} err_doc;

static void on_error_elem(void *user, const char *path, const char *text)
{
    err_doc *d = user;
    if (!strcmp(path, "Error/Code"))
        snprintf(d->code, sizeof d->code, "%s", text);
    else if (!strcmp(path, "Error/Message"))
        snprintf(d->message, sizeof d->message, "%s", text);
}

static void parse_error_body(s3_response *rs)
{
    if (!rs->body.len)
        return;
    char root[32];
    s3_xml_root(rs->body.data, rs->body.len, root, sizeof root);
    if (strcmp(root, "Error"))
        return;
    err_doc d = {0};
    if (s3_xml_parse(rs->body.data, rs->body.len, on_error_elem, &d) == 0) {
        snprintf(rs->code, sizeof rs->code, "%s", d.code);
        snprintf(rs->message, sizeof rs->message, "%s", d.message);
    }
}

static bool retryable_status(const s3_response *rs)
{
    if (rs->status == 429 || rs->status == 500 || rs->status == 502 || rs->status == 503 || rs->status == 504)
        return true;
    return !strcmp(rs->code, "SlowDown") || !strcmp(rs->code, "RequestTimeout") ||
           !strcmp(rs->code, "InternalError") || !strcmp(rs->code, "ServiceUnavailable");
}

static bool retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
        return true;
    default:
        return false;
    }
}

static int backoff_ms(const tp_s3 *s3, int attempt)
{
    double cap = s3->backoff_base_ms;
    for (int i = 1; i < attempt && cap < s3->backoff_max_ms; i++)
        cap *= 2;
    if (cap > s3->backoff_max_ms)
        cap = s3->backoff_max_ms;
    /* full jitter: uniform in [0, cap], at least 1 ms */
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&cap ^ (unsigned)attempt * 2654435761u;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed ^= (unsigned)ts.tv_nsec;
    int ms = (int)(cap * ((double)rand_r(&seed) / RAND_MAX));
    return ms > 0 ? ms : 1;
}

static void response_reset(s3_response *rs)
{
    rs->status = 0;
    rs->body.len = 0;
    if (rs->body.data)
        rs->body.data[0] = 0;
    rs->etag[0] = rs->code[0] = rs->message[0] = 0;
    rs->content_length = -1;
    rs->last_modified_ms = 0;
}

void s3_response_free(s3_response *rs) { s3_buf_free(&rs->body); }

static struct curl_slist *build_headers(tp_s3 *s3, const s3_request *rq)
{
    struct curl_slist *h = NULL, *t;
    char line[4200];
#define ADD(...)                                                                                                       \
    do {                                                                                                               \
        snprintf(line, sizeof line, __VA_ARGS__);                                                                      \
        if (!(t = curl_slist_append(h, line)))                                                                         \
            goto oom;                                                                                                  \
        h = t;                                                                                                         \
    } while (0)
    if (s3->test_amz_date[0])
        ADD("X-Amz-Date: %s", s3->test_amz_date);
    if (!rq->no_payload_hash) {
        char sha[65];
        s3_sha256_hex(rq->body ? rq->body : "", rq->body ? rq->body_len : 0, sha);
        ADD("x-amz-content-sha256: %s", sha);
    }
    if (rq->content_md5) {
        unsigned char md5[16];
        char b64[32];
        s3_md5(rq->body ? rq->body : "", rq->body_len, md5);
        s3_base64(md5, 16, b64, sizeof b64);
        ADD("Content-MD5: %s", b64);
    }
    if (rq->content_type)
        ADD("Content-Type: %s", rq->content_type);
    if (s3->cred.session_token[0])
        ADD("x-amz-security-token: %s", s3->cred.session_token);
    for (int i = 0; i < 6 && rq->headers[i]; i++)
        ADD("%s", rq->headers[i]);
#undef ADD
    explicit_bzero(line, sizeof line);
    return h;
oom:
    explicit_bzero(line, sizeof line);
    curl_slist_free_all(h);
    return NULL;
}

int s3_perform(tp_s3 *s3, const s3_request *rq, s3_response *rs, tp_s3_error *e)
{
    char head[1024];
    describe(s3, rq->method, rq->bucket, rq->key, head, sizeof head);
    char *url = s3_url(s3, rq->bucket, rq->key, rq->query);
    struct curl_slist *headers = url ? build_headers(s3, rq) : NULL;
    if (!url || !headers) {
        free(url);
        s3_set_error(e, 0, "OutOfMemory", "%s: out of memory", head);
        return -1;
    }
    int result = -1;
    for (int attempt = 1;; attempt++) {
        response_reset(rs);
        rs->attempts = attempt;
        if (attempt > 1 && rq->sink && rq->sink->reset && rq->sink->reset(rq->sink->user)) {
            s3_set_error(e, 0, "LocalIOError", "%s: cannot restart the download: %s", head, strerror(errno));
            break;
        }
        xfer x = {.s3 = s3, .rq = rq, .rs = rs};
        char errbuf[CURL_ERROR_SIZE] = "";
        CURL *h = curl_easy_init();
        if (!h) {
            s3_set_error(e, 0, "OutOfMemory", "%s: out of memory", head);
            break;
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_SHARE, s3->share);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (s3->ca_bundle[0])
            curl_easy_setopt(h, CURLOPT_CAINFO, s3->ca_bundle);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s3->sigv4);
        curl_easy_setopt(h, CURLOPT_USERNAME, s3->cred.access_key_id);
        curl_easy_setopt(h, CURLOPT_PASSWORD, s3->cred.secret_access_key);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)s3->connect_timeout_s);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)s3->low_speed_timeout_s);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        if (s3->max_send_bytes_per_s)
            curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)s3->max_send_bytes_per_s);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
        if (s3->test_connect_to)
            curl_easy_setopt(h, CURLOPT_CONNECT_TO, s3->test_connect_to);
        if (s3->test_amz_date[0]) {
            curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
            curl_easy_setopt(h, CURLOPT_DEBUGDATA, &x);
            curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
        }
        if (!strcmp(rq->method, "HEAD")) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(rq->method, "PUT")) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &x);
            curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
        } else if (!strcmp(rq->method, "POST")) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        } else if (strcmp(rq->method, "GET")) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
        }
        CURLcode c = curl_easy_perform(h);
        curl_easy_cleanup(h);
        /* bytes of a body that was not accepted do not count (a retry sends it again) */
        if (rq->progress && x.sent && !(c == CURLE_OK && s3_ok(rs->status)))
            atomic_fetch_sub(rq->progress, (long long)x.sent);
        if (c == CURLE_OK) {
            if (!s3_ok(rs->status))
                parse_error_body(rs);
            if (!s3_ok(rs->status) && retryable_status(rs) && attempt < s3->max_attempts && !s3_cancelled(s3)) {
                int ms = backoff_ms(s3, attempt);
                tp_log_warn("%s: %s (%ld), attempt %d of %d, retrying in %d ms", head,
                            rs->code[0] ? rs->code : status_code_name(rs->status), rs->status, attempt,
                            s3->max_attempts, ms);
                atomic_fetch_add(&s3->retries, 1);
                s3_sleep_ms(s3, ms);
                continue;
            }
            tp_log_debug("%s -> %ld", head, rs->status);
            result = 0;
            break;
        }
        if (s3_cancelled(s3)) {
            s3_set_error(e, 0, "Cancelled", "%s: cancelled", head);
            break;
        }
        if (x.sink_failed) {
            s3_set_error(e, 0, "LocalIOError", "%s: writing the download failed: %s", head, strerror(errno));
            break;
        }
        if (x.too_big) {
            s3_set_error(e, rs->status, "ResponseTooLarge", "%s: response larger than %zu bytes", head,
                      rq->max_body ? rq->max_body : (size_t)16 << 20);
            break;
        }
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(c);
        if (retryable_curl(c) && attempt < s3->max_attempts) {
            int ms = backoff_ms(s3, attempt);
            tp_log_warn("%s: %s, attempt %d of %d, retrying in %d ms", head, why, attempt, s3->max_attempts, ms);
            atomic_fetch_add(&s3->retries, 1);
            s3_sleep_ms(s3, ms);
            if (!s3_cancelled(s3))
                continue;
            s3_set_error(e, 0, "Cancelled", "%s: cancelled", head);
            break;
        }
        if (retryable_curl(c))
            s3_set_error(e, 0, "ConnectionError", "%s: %s (after %d attempts)", head, why, attempt);
        else
            s3_set_error(e, 0, "RequestError", "%s: %s", head, why);
        break;
    }
    curl_slist_free_all(headers);
    free(url);
    return result;
}
