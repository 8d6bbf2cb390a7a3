/* teleop — S3 client: configuration, URLs, and one request with retries
 * (include/teleop/s3.h). Signing is libcurl's (CURLOPT_AWS_SIGV4); what
 * libcurl 7.88 leaves to the caller is done here: the canonical query (it
 * signs the query as written, unsorted, "?uploads" without '='), the
 * URI-encoded key (it signs the path as written), x-amz-content-sha256 (it
 * adds none for S3 before 8.1) and x-amz-security-token (it has no session
 * token option). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_internal.h"
#include "teleop/log.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;
static void curl_init(void) { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

int s3_buf_put(s3_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

void s3_buf_free(s3_buf *b)
{
    free(b->data);
    *b = (s3_buf){0};
}

bool s3_ok(long status) { return status >= 200 && status < 300; }

bool s3_cancelled(const tp_s3 *s3) { return s3->cancel && atomic_load(s3->cancel); }

void s3_sleep_ms(tp_s3 *s3, int ms)
{
    while (ms > 0 && !s3_cancelled(s3)) {
        int step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static void lock_cb(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
    (void)h;
    (void)access;
    tp_s3 *s3 = user;
    pthread_mutex_lock(&s3->share_locks[data]);
}

static void unlock_cb(CURL *h, curl_lock_data data, void *user)
{
    (void)h;
    tp_s3 *s3 = user;
    pthread_mutex_unlock(&s3->share_locks[data]);
}

static void set_error(tp_s3_error *e, long status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_error(tp_s3_error *e, long status, const char *code, const char *fmt, ...)
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

static bool parse_endpoint(tp_s3 *s3, const char *url, tp_s3_error *e)
{
    const char *rest;
    if (!strncmp(url, "https://", 8)) {
        strcpy(s3->scheme, "https");
        rest = url + 8;
    } else if (!strncmp(url, "http://", 7)) {
        strcpy(s3->scheme, "http");
        rest = url + 7;
    } else {
        set_error(e, 0, "InvalidEndpoint", "s3: endpoint '%s' must start with http:// or https://", url);
        return false;
    }
    size_t hl = strcspn(rest, "/?#");
    if (hl == 0 || hl >= sizeof s3->host || rest[hl] == '?' || rest[hl] == '#' || memchr(rest, '@', hl)) {
        set_error(e, 0, "InvalidEndpoint", "s3: endpoint '%s' is not scheme://host[:port][/path]", url);
        return false;
    }
    memcpy(s3->host, rest, hl);
    s3->host[hl] = 0;
    for (char *p = s3->host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *path = rest + hl;
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/')
        pl--;
    if (pl >= sizeof s3->base_path) {
        set_error(e, 0, "InvalidEndpoint", "s3: endpoint '%s': path too long", url);
        return false;
    }
    memcpy(s3->base_path, path, pl);
    s3->base_path[pl] = 0;
    snprintf(s3->endpoint, sizeof s3->endpoint, "%s://%s%s", s3->scheme, s3->host, s3->base_path);
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static bool host_without_port_ends_with(const char *host, const char *suffix)
{
    char h[256];
    snprintf(h, sizeof h, "%s", host);
    char *colon = strrchr(h, ':');
    if (colon && !strchr(h, ']'))
        *colon = 0;
    return ends_with(h, suffix);
}

tp_s3 *tp_s3_open(const tp_s3_config *cfg, tp_s3_error *e)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        set_error(e, 0, "CurlInit", "s3: libcurl initialisation failed: %s", curl_easy_strerror(curl_init_result));
        return NULL;
    }
    tp_s3 *s3 = calloc(1, sizeof *s3);
    if (!s3) {
        set_error(e, 0, "OutOfMemory", "s3: out of memory");
        return NULL;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&s3->share_locks[i], NULL);
    if (cfg->credentials) {
        s3->cred = *cfg->credentials;
    } else if (tp_s3_credentials_load(&s3->cred, e) != 0) {
        tp_s3_close(s3);
        return NULL;
    }
    if (!s3->cred.access_key_id[0] || !s3->cred.secret_access_key[0]) {
        set_error(e, 0, "NoCredentials", "s3: no credentials (%s has no access key id and secret)",
                  s3->cred.source[0] ? s3->cred.source : "config");
        tp_s3_close(s3);
        return NULL;
    }
    const char *region = cfg->region && cfg->region[0] ? cfg->region : s3->cred.region;
    if (cfg->endpoint && cfg->endpoint[0]) {
        if (!parse_endpoint(s3, cfg->endpoint, e)) {
            tp_s3_close(s3);
            return NULL;
        }
        if (!region[0])
            region = host_without_port_ends_with(s3->host, ".r2.cloudflarestorage.com") ? "auto" : "us-east-1";
    } else {
        if (!region[0])
            region = "us-east-1";
        char url[256];
        snprintf(url, sizeof url, "https://s3.%s.amazonaws.com", region);
        if (!parse_endpoint(s3, url, e)) {
            tp_s3_close(s3);
            return NULL;
        }
    }
    for (const char *p = region; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            set_error(e, 0, "InvalidRegion", "s3: region '%s' is not a region name", region);
            tp_s3_close(s3);
            return NULL;
        }
    snprintf(s3->region, sizeof s3->region, "%s", region);
    snprintf(s3->sigv4, sizeof s3->sigv4, "aws:amz:%s:s3", s3->region);
    switch (cfg->addressing) {
    case TP_S3_ADDRESSING_PATH: s3->virtual_host = false; break;
    case TP_S3_ADDRESSING_VIRTUAL: s3->virtual_host = true; break;
    default: s3->virtual_host = host_without_port_ends_with(s3->host, ".amazonaws.com"); break;
    }
    const char *ca = cfg->ca_bundle && cfg->ca_bundle[0] ? cfg->ca_bundle : getenv("AWS_CA_BUNDLE");
    if (ca && ca[0]) {
        FILE *f = fopen(ca, "r");
        if (!f) {
            set_error(e, 0, "InvalidCABundle", "s3: CA bundle %s: %s", ca, strerror(errno));
            tp_s3_close(s3);
            return NULL;
        }
        fclose(f);
        snprintf(s3->ca_bundle, sizeof s3->ca_bundle, "%s", ca);
    }
    s3->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 6;
    s3->backoff_base_ms = cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms : 250;
    s3->backoff_max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : 20000;
    s3->connect_timeout_s = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
    s3->low_speed_timeout_s = cfg->low_speed_timeout_s > 0 ? cfg->low_speed_timeout_s : 60;
    s3->max_send_bytes_per_s = cfg->max_send_bytes_per_s > 0 ? cfg->max_send_bytes_per_s : 0;
    s3->cancel = cfg->cancel;
    s3->share = curl_share_init();
    if (!s3->share) {
        set_error(e, 0, "OutOfMemory", "s3: out of memory");
        tp_s3_close(s3);
        return NULL;
    }
    curl_share_setopt(s3->share, CURLSHOPT_LOCKFUNC, lock_cb);
    curl_share_setopt(s3->share, CURLSHOPT_UNLOCKFUNC, unlock_cb);
    curl_share_setopt(s3->share, CURLSHOPT_USERDATA, s3);
    curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    return s3;
}

void tp_s3_close(tp_s3 *s3)
{
    if (!s3)
        return;
    if (s3->share)
        curl_share_cleanup(s3->share);
    curl_slist_free_all(s3->test_connect_to);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&s3->share_locks[i]);
    tp_s3_credentials_clear(&s3->cred);
    free(s3);
}

const char *tp_s3_endpoint(const tp_s3 *s3) { return s3->endpoint; }
const char *tp_s3_region(const tp_s3 *s3) { return s3->region; }

void s3_test_set_date(tp_s3 *s3, const char *amz_date)
{
    snprintf(s3->test_amz_date, sizeof s3->test_amz_date, "%s", amz_date ? amz_date : "");
}

int s3_test_connect_to(tp_s3 *s3, const char *mapping)
{
    struct curl_slist *l = curl_slist_append(s3->test_connect_to, mapping);
    if (!l)
        return -1;
    s3->test_connect_to = l;
    return 0;
}

void s3_test_set_service(tp_s3 *s3, const char *service)
{
    snprintf(s3->sigv4, sizeof s3->sigv4, "aws:amz:%s:%s", s3->region, service);
}

void s3_test_set_list_page(tp_s3 *s3, int max_keys) { s3->list_max_keys = max_keys; }

/* ---- URLs ---- */

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int s3_uri_encode(s3_buf *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/')) {
            if (s3_buf_put(out, p, 1))
                return -1;
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            if (s3_buf_put(out, esc, 3))
                return -1;
        }
    }
    return out->data || !s3_buf_put(out, "", 0) ? 0 : -1;
}

typedef struct qpair {
    char *name, *value;
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

char *s3_query_build(const char *const *pairs)
{
    size_t n = 0;
    while (pairs[2 * n])
        n++;
    qpair *q = calloc(n ? n : 1, sizeof *q);
    if (!q)
        return NULL;
    char *result = NULL;
    s3_buf out = {0};
    size_t i;
    for (i = 0; i < n; i++) {
        s3_buf a = {0}, b = {0};
        if (s3_uri_encode(&a, pairs[2 * i], false) || s3_uri_encode(&b, pairs[2 * i + 1] ? pairs[2 * i + 1] : "", false)) {
            s3_buf_free(&a);
            s3_buf_free(&b);
            goto done;
        }
        q[i].name = a.data;
        q[i].value = b.data;
    }
    qsort(q, n, sizeof *q, qpair_cmp);
    if (s3_buf_put(&out, "", 0))
        goto done;
    for (i = 0; i < n; i++)
        if ((i && s3_buf_put(&out, "&", 1)) || s3_buf_put(&out, q[i].name, strlen(q[i].name)) ||
            s3_buf_put(&out, "=", 1) || s3_buf_put(&out, q[i].value, strlen(q[i].value)))
            goto done;
    result = out.data;
    out.data = NULL;
done:
    for (i = 0; i < n; i++) {
        free(q[i].name);
        free(q[i].value);
    }
    free(q);
    s3_buf_free(&out);
    return result;
}

static bool dns_bucket(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return false;
    for (const char *p = b; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
            return false;
    return b[0] != '-' && b[n - 1] != '-';
}

char *s3_url(const tp_s3 *s3, const char *bucket, const char *key, const char *query)
{
    s3_buf u = {0};
    bool vhost = bucket && s3->virtual_host && dns_bucket(bucket);
    int bad = s3_buf_put(&u, s3->scheme, strlen(s3->scheme)) | s3_buf_put(&u, "://", 3);
    if (vhost)
        bad |= s3_buf_put(&u, bucket, strlen(bucket)) | s3_buf_put(&u, ".", 1);
    bad |= s3_buf_put(&u, s3->host, strlen(s3->host)) | s3_buf_put(&u, s3->base_path, strlen(s3->base_path));
    bad |= s3_buf_put(&u, "/", 1);
    if (bucket && !vhost) {
        bad |= s3_uri_encode(&u, bucket, false);
        if (key)
            bad |= s3_buf_put(&u, "/", 1);
    }
    if (key)
        bad |= s3_uri_encode(&u, key, true);
    if (query && query[0])
        bad |= s3_buf_put(&u, "?", 1) | s3_buf_put(&u, query, strlen(query));
    if (bad) {
        s3_buf_free(&u);
        return NULL;
    }
    return u.data;
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
    set_error(e, 0, code, "%s: %s", head, what);
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
        set_error(e, rs->status, code, "%s: %s (%ld): %s", head, code, rs->status, rs->message);
    else
        set_error(e, rs->status, code, "%s: %s (%ld)", head, code, rs->status);
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
        set_error(e, 0, "OutOfMemory", "%s: out of memory", head);
        return -1;
    }
    int result = -1;
    for (int attempt = 1;; attempt++) {
        response_reset(rs);
        rs->attempts = attempt;
        if (attempt > 1 && rq->sink && rq->sink->reset && rq->sink->reset(rq->sink->user)) {
            set_error(e, 0, "LocalIOError", "%s: cannot restart the download: %s", head, strerror(errno));
            break;
        }
        xfer x = {.s3 = s3, .rq = rq, .rs = rs};
        char errbuf[CURL_ERROR_SIZE] = "";
        CURL *h = curl_easy_init();
        if (!h) {
            set_error(e, 0, "OutOfMemory", "%s: out of memory", head);
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
            set_error(e, 0, "Cancelled", "%s: cancelled", head);
            break;
        }
        if (x.sink_failed) {
            set_error(e, 0, "LocalIOError", "%s: writing the download failed: %s", head, strerror(errno));
            break;
        }
        if (x.too_big) {
            set_error(e, rs->status, "ResponseTooLarge", "%s: response larger than %zu bytes", head,
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
            set_error(e, 0, "Cancelled", "%s: cancelled", head);
            break;
        }
        if (retryable_curl(c))
            set_error(e, 0, "ConnectionError", "%s: %s (after %d attempts)", head, why, attempt);
        else
            set_error(e, 0, "RequestError", "%s: %s", head, why);
        break;
    }
    curl_slist_free_all(headers);
    free(url);
    return result;
}
