/* teleop — S3 client: configuration, endpoint and addressing, canonical
 * URLs (include/teleop/s3.h; the requests are in s3_request.c). Signing is
 * libcurl's (CURLOPT_AWS_SIGV4); what
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
        s3_set_error(e, 0, "InvalidEndpoint", "s3: endpoint '%s' must start with http:// or https://", url);
        return false;
    }
    size_t hl = strcspn(rest, "/?#");
    if (hl == 0 || hl >= sizeof s3->host || rest[hl] == '?' || rest[hl] == '#' || memchr(rest, '@', hl)) {
        s3_set_error(e, 0, "InvalidEndpoint", "s3: endpoint '%s' is not scheme://host[:port][/path]", url);
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
        s3_set_error(e, 0, "InvalidEndpoint", "s3: endpoint '%s': path too long", url);
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
        s3_set_error(e, 0, "CurlInit", "s3: libcurl initialisation failed: %s", curl_easy_strerror(curl_init_result));
        return NULL;
    }
    tp_s3 *s3 = calloc(1, sizeof *s3);
    if (!s3) {
        s3_set_error(e, 0, "OutOfMemory", "s3: out of memory");
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
        s3_set_error(e, 0, "NoCredentials", "s3: no credentials (%s has no access key id and secret)",
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
            s3_set_error(e, 0, "InvalidRegion", "s3: region '%s' is not a region name", region);
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
            s3_set_error(e, 0, "InvalidCABundle", "s3: CA bundle %s: %s", ca, strerror(errno));
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
        s3_set_error(e, 0, "OutOfMemory", "s3: out of memory");
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
