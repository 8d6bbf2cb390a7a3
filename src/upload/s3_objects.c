/* teleop — S3 objects: HEAD, PUT, GET, DELETE, ListObjectsV2. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_internal.h"

int tp_s3_parse_url(const char *url, char *bucket, size_t bucket_len, char *prefix, size_t prefix_len, char *err,
                    size_t errlen)
{
    if (strncmp(url, "s3://", 5)) {
        snprintf(err, errlen, "'%s' is not an s3://bucket/prefix URL", url);
        return -1;
    }
    const char *b = url + 5;
    size_t bl = strcspn(b, "/");
    if (bl == 0 || bl >= bucket_len) {
        snprintf(err, errlen, "'%s': no bucket name (s3://bucket/prefix)", url);
        return -1;
    }
    memcpy(bucket, b, bl);
    bucket[bl] = 0;
    const char *p = b + bl;
    while (*p == '/')
        p++;
    size_t pl = strlen(p);
    while (pl && p[pl - 1] == '/')
        pl--;
    if (pl >= prefix_len) {
        snprintf(err, errlen, "'%s': prefix too long", url);
        return -1;
    }
    memcpy(prefix, p, pl);
    prefix[pl] = 0;
    return 0;
}

int tp_s3_join_key(char *out, size_t outlen, const char *prefix, const char *name)
{
    int n = prefix && prefix[0] ? snprintf(out, outlen, "%s/%s", prefix, name) : snprintf(out, outlen, "%s", name);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static void fill_object(tp_s3_object *out, const s3_response *rs)
{
    if (!out)
        return;
    out->key = NULL;
    out->size = rs->content_length;
    snprintf(out->etag, sizeof out->etag, "%s", rs->etag);
    out->last_modified_ms = rs->last_modified_ms;
}

int tp_s3_head(tp_s3 *s3, const char *bucket, const char *key, tp_s3_object *out, tp_s3_error *e)
{
    s3_request rq = {.method = "HEAD", .bucket = bucket, .key = key};
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        if (s3_ok(rs.status)) {
            fill_object(out, &rs);
            rc = 0;
        } else {
            if (rs.status == 404)
                snprintf(rs.code, sizeof rs.code, "NoSuchKey");
            s3_fail(s3, &rq, &rs, e);
            rc = rs.status == 404 ? 1 : -1;
        }
    }
    s3_response_free(&rs);
    return rc;
}

int tp_s3_put(tp_s3 *s3, const char *bucket, const char *key, const void *data, size_t len,
              const tp_s3_put_options *opt, tp_s3_object *out, tp_s3_error *e)
{
    char if_match[128];
    s3_request rq = {.method = "PUT", .bucket = bucket, .key = key, .body = data, .body_len = len,
                     .send_body = true, .content_md5 = true,
                     .content_type = opt && opt->content_type ? opt->content_type : "application/octet-stream"};
    int nh = 0;
    if (opt && opt->if_none_match)
        rq.headers[nh++] = "If-None-Match: *";
    if (opt && opt->if_match) {
        snprintf(if_match, sizeof if_match, "If-Match: \"%s\"", opt->if_match);
        rq.headers[nh++] = if_match;
    }
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        if (s3_ok(rs.status)) {
            unsigned char md5[16];
            char hex[33];
            s3_md5(data ? data : "", len, md5);
            s3_hex(md5, 16, hex);
            if (strcasecmp(rs.etag, hex)) {
                s3_fail_local(s3, "PUT", bucket, key, "BadDigest", e,
                              "the server's ETag %s is not the MD5 %s of what was sent",
                              rs.etag[0] ? rs.etag : "(none)", hex);
            } else {
                if (out) {
                    out->key = NULL;
                    out->size = (int64_t)len;
                    snprintf(out->etag, sizeof out->etag, "%s", hex);
                    out->last_modified_ms = rs.last_modified_ms;
                }
                rc = 0;
            }
        } else {
            s3_fail(s3, &rq, &rs, e);
            rc = rs.status == 412 || (rs.status == 409 && !strcmp(rs.code, "ConditionalRequestConflict")) ? 1 : -1;
        }
    }
    s3_response_free(&rs);
    return rc;
}

int tp_s3_get(tp_s3 *s3, const char *bucket, const char *key, size_t max_bytes, void **data, size_t *len,
              tp_s3_object *out, tp_s3_error *e)
{
    *data = NULL;
    *len = 0;
    s3_request rq = {.method = "GET", .bucket = bucket, .key = key, .max_body = max_bytes ? max_bytes : SIZE_MAX};
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        if (s3_ok(rs.status)) {
            if (rs.content_length >= 0 && (size_t)rs.content_length != rs.body.len) {
                s3_fail_local(s3, "GET", bucket, key, "IncompleteBody", e, "got %zu bytes of %lld", rs.body.len,
                              (long long)rs.content_length);
            } else {
                fill_object(out, &rs);
                if (out)
                    out->size = (int64_t)rs.body.len;
                if (!rs.body.data && s3_buf_put(&rs.body, "", 0)) {
                    s3_fail_local(s3, "GET", bucket, key, "OutOfMemory", e, "out of memory");
                } else {
                    *data = rs.body.data;
                    *len = rs.body.len;
                    rs.body = (s3_buf){0};
                    rc = 0;
                }
            }
        } else {
            s3_fail(s3, &rq, &rs, e);
            rc = rs.status == 404 ? 1 : -1;
        }
    }
    s3_response_free(&rs);
    return rc;
}

typedef struct file_sink {
    int fd;
    int64_t written;
} file_sink;

static int file_write(void *user, const void *data, size_t len)
{
    file_sink *f = user;
    const char *p = data;
    while (len) {
        ssize_t n = write(f->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
        f->written += n;
    }
    return 0;
}

static int file_reset(void *user)
{
    file_sink *f = user;
    f->written = 0;
    if (ftruncate(f->fd, 0) || lseek(f->fd, 0, SEEK_SET) < 0)
        return -1;
    return 0;
}

int tp_s3_get_file(tp_s3 *s3, const char *bucket, const char *key, const char *path, tp_s3_object *out,
                   tp_s3_error *e)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.part", path) >= (int)sizeof tmp) {
        s3_fail_local(s3, "GET", bucket, key, "LocalIOError", e, "%s: path too long", path);
        return -1;
    }
    file_sink fs = {.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (fs.fd < 0) {
        s3_fail_local(s3, "GET", bucket, key, "LocalIOError", e, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    s3_sink sink = {file_write, file_reset, &fs};
    s3_request rq = {.method = "GET", .bucket = bucket, .key = key, .sink = &sink};
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        if (!s3_ok(rs.status)) {
            s3_fail(s3, &rq, &rs, e);
            rc = rs.status == 404 ? 1 : -1;
        } else if (rs.content_length >= 0 && rs.content_length != fs.written) {
            s3_fail_local(s3, "GET", bucket, key, "IncompleteBody", e, "got %lld bytes of %lld",
                          (long long)fs.written, (long long)rs.content_length);
        } else if (fsync(fs.fd) != 0) {
            s3_fail_local(s3, "GET", bucket, key, "LocalIOError", e, "%s: %s", tmp, strerror(errno));
        } else {
            char md5[33] = "";
            if (rs.etag[0] && !strchr(rs.etag, '-') && strlen(rs.etag) == 32 &&
                s3_file_md5(fs.fd, 0, fs.written, md5) == 0 && strcasecmp(md5, rs.etag)) {
                s3_fail_local(s3, "GET", bucket, key, "BadDigest", e, "downloaded MD5 %s is not the ETag %s", md5,
                              rs.etag);
            } else {
                fill_object(out, &rs);
                if (out)
                    out->size = fs.written;
                rc = 0;
            }
        }
    }
    s3_response_free(&rs);
    close(fs.fd);
    if (rc == 0 && rename(tmp, path) != 0) {
        s3_fail_local(s3, "GET", bucket, key, "LocalIOError", e, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int tp_s3_delete(tp_s3 *s3, const char *bucket, const char *key, tp_s3_error *e)
{
    s3_request rq = {.method = "DELETE", .bucket = bucket, .key = key};
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        if (s3_ok(rs.status) || rs.status == 404)
            rc = 0;
        else
            s3_fail(s3, &rq, &rs, e);
    }
    s3_response_free(&rs);
    return rc;
}

/* ---- ListObjectsV2 ---- */

typedef struct list_page {
    tp_s3_listing *l;
    size_t cap, pcap;
    tp_s3_object cur;
    char next_token[1024];
    bool truncated, oom;
} list_page;

static void on_list_elem(void *user, const char *path, const char *text)
{
    list_page *pg = user;
    if (!strcmp(path, "ListBucketResult/Contents/Key")) {
        free(pg->cur.key);
        pg->cur.key = strdup(text);
        if (!pg->cur.key)
            pg->oom = true;
    } else if (!strcmp(path, "ListBucketResult/Contents/Size")) {
        pg->cur.size = strtoll(text, NULL, 10);
    } else if (!strcmp(path, "ListBucketResult/Contents/ETag")) {
        s3_strip_quotes(text, pg->cur.etag, sizeof pg->cur.etag);
    } else if (!strcmp(path, "ListBucketResult/Contents/LastModified")) {
        pg->cur.last_modified_ms = s3_parse_iso8601_ms(text);
    } else if (!strcmp(path, "ListBucketResult/Contents")) {
        tp_s3_listing *l = pg->l;
        if (!pg->cur.key)
            return;
        if (l->count == pg->cap) {
            size_t cap = pg->cap ? pg->cap * 2 : 64;
            tp_s3_object *o = realloc(l->objects, cap * sizeof *o);
            if (!o) {
                pg->oom = true;
                return;
            }
            l->objects = o;
            pg->cap = cap;
        }
        l->objects[l->count++] = pg->cur;
        pg->cur = (tp_s3_object){0};
    } else if (!strcmp(path, "ListBucketResult/CommonPrefixes/Prefix")) {
        tp_s3_listing *l = pg->l;
        if (l->nprefixes == pg->pcap) {
            size_t cap = pg->pcap ? pg->pcap * 2 : 16;
            char **p = realloc(l->prefixes, cap * sizeof *p);
            if (!p) {
                pg->oom = true;
                return;
            }
            l->prefixes = p;
            pg->pcap = cap;
        }
        if (!(l->prefixes[l->nprefixes] = strdup(text)))
            pg->oom = true;
        else
            l->nprefixes++;
    } else if (!strcmp(path, "ListBucketResult/IsTruncated")) {
        pg->truncated = !strcmp(text, "true");
    } else if (!strcmp(path, "ListBucketResult/NextContinuationToken")) {
        snprintf(pg->next_token, sizeof pg->next_token, "%s", text);
    }
}

int tp_s3_list(tp_s3 *s3, const char *bucket, const char *prefix, const char *delimiter, tp_s3_listing *out,
               tp_s3_error *e)
{
    *out = (tp_s3_listing){0};
    list_page pg = {.l = out};
    char token[1024] = "";
    for (;;) {
        const char *pairs[14];
        int n = 0;
        pairs[n++] = "list-type";
        pairs[n++] = "2";
        if (prefix && prefix[0]) {
            pairs[n++] = "prefix";
            pairs[n++] = prefix;
        }
        if (delimiter && delimiter[0]) {
            pairs[n++] = "delimiter";
            pairs[n++] = delimiter;
        }
        char max_keys[16];
        if (s3->list_max_keys > 0) {
            snprintf(max_keys, sizeof max_keys, "%d", s3->list_max_keys);
            pairs[n++] = "max-keys";
            pairs[n++] = max_keys;
        }
        if (token[0]) {
            pairs[n++] = "continuation-token";
            pairs[n++] = token;
        }
        pairs[n] = NULL;
        char *query = s3_query_build(pairs);
        if (!query) {
            s3_fail_local(s3, "GET", bucket, NULL, "OutOfMemory", e, "out of memory");
            goto fail;
        }
        s3_request rq = {.method = "GET", .bucket = bucket, .query = query};
        s3_response rs = {0};
        int rc = s3_perform(s3, &rq, &rs, e);
        if (rc == 0 && !s3_ok(rs.status)) {
            s3_fail(s3, &rq, &rs, e);
            rc = -1;
        }
        pg.truncated = false;
        pg.next_token[0] = 0;
        if (rc == 0 && s3_xml_parse(rs.body.data ? rs.body.data : "", rs.body.len, on_list_elem, &pg)) {
            s3_fail_local(s3, "GET", bucket, NULL, "MalformedResponse", e, "ListObjectsV2 response is not XML");
            rc = -1;
        }
        s3_response_free(&rs);
        free(query);
        free(pg.cur.key);
        pg.cur = (tp_s3_object){0};
        if (rc)
            goto fail;
        if (pg.oom) {
            s3_fail_local(s3, "GET", bucket, NULL, "OutOfMemory", e, "out of memory");
            goto fail;
        }
        if (!pg.truncated)
            return 0;
        if (!pg.next_token[0] || !strcmp(pg.next_token, token)) {
            s3_fail_local(s3, "GET", bucket, NULL, "MalformedResponse", e,
                          "truncated listing without a new continuation token");
            goto fail;
        }
        snprintf(token, sizeof token, "%s", pg.next_token);
    }
fail:
    tp_s3_listing_free(out);
    return -1;
}

void tp_s3_listing_free(tp_s3_listing *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->objects[i].key);
    for (size_t i = 0; i < l->nprefixes; i++)
        free(l->prefixes[i]);
    free(l->objects);
    free(l->prefixes);
    *l = (tp_s3_listing){0};
}
