/* teleop — S3 multipart uploads: create, upload part, complete, abort,
 * list parts, list uploads, abort the stale ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_internal.h"

typedef struct create_doc {
    char upload_id[1024];
} create_doc;

static void on_create_elem(void *user, const char *path, const char *text)
{
    create_doc *d = user;
    if (!strcmp(path, "InitiateMultipartUploadResult/UploadId"))
        snprintf(d->upload_id, sizeof d->upload_id, "%s", text);
}

int tp_s3_multipart_create(tp_s3 *s3, const char *bucket, const char *key, const char *content_type,
                           char *upload_id, size_t upload_id_len, tp_s3_error *e)
{
    s3_request rq = {.method = "POST", .bucket = bucket, .key = key, .query = "uploads=", .send_body = true,
                     .content_type = content_type ? content_type : "application/octet-stream"};
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        create_doc d = {{0}};
        if (!s3_ok(rs.status))
            s3_fail(s3, &rq, &rs, e);
        else if (s3_xml_parse(rs.body.data ? rs.body.data : "", rs.body.len, on_create_elem, &d) || !d.upload_id[0])
            s3_fail_local(s3, "POST", bucket, key, "MalformedResponse", e, "CreateMultipartUpload: no UploadId");
        else if (strlen(d.upload_id) >= upload_id_len)
            s3_fail_local(s3, "POST", bucket, key, "MalformedResponse", e, "UploadId too long");
        else {
            snprintf(upload_id, upload_id_len, "%s", d.upload_id);
            rc = 0;
        }
    }
    s3_response_free(&rs);
    return rc;
}

static char *part_query(int number, const char *upload_id)
{
    char num[16];
    snprintf(num, sizeof num, "%d", number);
    const char *pairs[] = {"partNumber", num, "uploadId", upload_id, NULL};
    return s3_query_build(pairs);
}


int s3_upload_part_progress(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                            const void *data, tp_s3_part *part, atomic_llong *progress, void (*on_progress)(void *),
                            void *progress_user, tp_s3_error *e)
{
    char *query = part_query(part->number, upload_id);
    if (!query) {
        s3_fail_local(s3, "PUT", bucket, key, "OutOfMemory", e, "out of memory");
        return -1;
    }
    s3_request rq = {.method = "PUT", .bucket = bucket, .key = key, .query = query, .body = data,
                     .body_len = (size_t)part->size, .send_body = true, .content_md5 = true,
                     .progress = progress, .on_progress = on_progress, .progress_user = progress_user};
    s3_response rs = {0};
    int rc = -1;
    unsigned char md5[16];
    s3_md5(data, (size_t)part->size, md5);
    s3_hex(md5, 16, part->md5);
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        if (!s3_ok(rs.status)) {
            s3_fail(s3, &rq, &rs, e);
        } else if (strcasecmp(rs.etag, part->md5)) {
            char what[64];
            snprintf(what, sizeof what, "part %d", part->number);
            s3_fail_local(s3, "PUT", bucket, key, "BadDigest", e, "%s: the server's ETag %s is not the MD5 %s", what,
                          rs.etag[0] ? rs.etag : "(none)", part->md5);
        } else {
            snprintf(part->etag, sizeof part->etag, "%s", rs.etag);
            rc = 0;
        }
    }
    s3_response_free(&rs);
    free(query);
    return rc;
}

int tp_s3_multipart_upload_part(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                                const void *data, tp_s3_part *part, tp_s3_error *e)
{
    return s3_upload_part_progress(s3, bucket, key, upload_id, data, part, NULL, NULL, NULL, e);
}

typedef struct complete_doc {
    char etag[80];
} complete_doc;

static void on_complete_elem(void *user, const char *path, const char *text)
{
    complete_doc *d = user;
    if (!strcmp(path, "CompleteMultipartUploadResult/ETag"))
        s3_strip_quotes(text, d->etag, sizeof d->etag);
}

static void on_error_elem(void *user, const char *path, const char *text)
{
    s3_response *rs = user;
    if (!strcmp(path, "Error/Code"))
        snprintf(rs->code, sizeof rs->code, "%s", text);
    else if (!strcmp(path, "Error/Message"))
        snprintf(rs->message, sizeof rs->message, "%s", text);
}

int tp_s3_multipart_complete(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                             const tp_s3_part *parts, int nparts, tp_s3_object *out, tp_s3_error *e)
{
    s3_buf body = {0};
    int bad = s3_buf_put(&body, "<CompleteMultipartUpload>", 25);
    char line[256];
    for (int i = 0; i < nparts; i++) {
        int n = snprintf(line, sizeof line, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>",
                         parts[i].number, parts[i].etag);
        bad |= s3_buf_put(&body, line, (size_t)n);
    }
    bad |= s3_buf_put(&body, "</CompleteMultipartUpload>", 26);
    const char *pairs[] = {"uploadId", upload_id, NULL};
    char *query = bad ? NULL : s3_query_build(pairs);
    if (!query) {
        s3_buf_free(&body);
        s3_fail_local(s3, "POST", bucket, key, "OutOfMemory", e, "out of memory");
        return -1;
    }
    s3_request rq = {.method = "POST", .bucket = bucket, .key = key, .query = query, .body = body.data,
                     .body_len = body.len, .send_body = true, .content_type = "application/xml"};
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        char root[64];
        s3_xml_root(rs.body.data ? rs.body.data : "", rs.body.len, root, sizeof root);
        if (!s3_ok(rs.status)) {
            s3_fail(s3, &rq, &rs, e);
        } else if (!strcmp(root, "Error")) {
            /* S3 answers 200 and then an error document when completing fails late */
            s3_xml_parse(rs.body.data, rs.body.len, on_error_elem, &rs);
            rs.status = 500;
            s3_fail(s3, &rq, &rs, e);
        } else {
            complete_doc d = {{0}};
            if (s3_xml_parse(rs.body.data ? rs.body.data : "", rs.body.len, on_complete_elem, &d) ||
                strcmp(root, "CompleteMultipartUploadResult")) {
                s3_fail_local(s3, "POST", bucket, key, "MalformedResponse", e,
                              "CompleteMultipartUpload: no CompleteMultipartUploadResult");
            } else {
                if (out) {
                    out->key = NULL;
                    out->size = 0;
                    for (int i = 0; i < nparts; i++)
                        out->size += parts[i].size;
                    snprintf(out->etag, sizeof out->etag, "%s", d.etag);
                    out->last_modified_ms = 0;
                }
                rc = 0;
            }
        }
    }
    s3_response_free(&rs);
    s3_buf_free(&body);
    free(query);
    return rc;
}

int tp_s3_multipart_abort(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id, tp_s3_error *e)
{
    const char *pairs[] = {"uploadId", upload_id, NULL};
    char *query = s3_query_build(pairs);
    if (!query) {
        s3_fail_local(s3, "DELETE", bucket, key, "OutOfMemory", e, "out of memory");
        return -1;
    }
    s3_request rq = {.method = "DELETE", .bucket = bucket, .key = key, .query = query};
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        if (s3_ok(rs.status) || rs.status == 404)
            rc = 0;
        else
            s3_fail(s3, &rq, &rs, e);
    }
    s3_response_free(&rs);
    free(query);
    return rc;
}

/* ---- ListParts ---- */

typedef struct parts_doc {
    tp_s3_part *parts;
    int n, cap;
    tp_s3_part cur;
    bool truncated, oom;
    char next_marker[16];
} parts_doc;

static void on_parts_elem(void *user, const char *path, const char *text)
{
    parts_doc *d = user;
    if (!strcmp(path, "ListPartsResult/Part/PartNumber"))
        d->cur.number = atoi(text);
    else if (!strcmp(path, "ListPartsResult/Part/ETag"))
        s3_strip_quotes(text, d->cur.etag, sizeof d->cur.etag);
    else if (!strcmp(path, "ListPartsResult/Part/Size"))
        d->cur.size = strtoll(text, NULL, 10);
    else if (!strcmp(path, "ListPartsResult/Part")) {
        if (d->n == d->cap) {
            int cap = d->cap ? d->cap * 2 : 64;
            tp_s3_part *p = realloc(d->parts, (size_t)cap * sizeof *p);
            if (!p) {
                d->oom = true;
                return;
            }
            d->parts = p;
            d->cap = cap;
        }
        d->parts[d->n++] = d->cur;
        d->cur = (tp_s3_part){0};
    } else if (!strcmp(path, "ListPartsResult/IsTruncated"))
        d->truncated = !strcmp(text, "true");
    else if (!strcmp(path, "ListPartsResult/NextPartNumberMarker"))
        snprintf(d->next_marker, sizeof d->next_marker, "%s", text);
}

int s3_parse_list_parts(const char *xml, size_t len, tp_s3_part **parts, int *n, bool *truncated, char *next_marker,
                        size_t next_len)
{
    parts_doc d = {.parts = *parts, .n = *n, .cap = *n};
    int rc = s3_xml_parse(xml, len, on_parts_elem, &d);
    *parts = d.parts;
    *n = d.n;
    *truncated = d.truncated;
    snprintf(next_marker, next_len, "%s", d.next_marker);
    return rc || d.oom ? -1 : 0;
}

int tp_s3_multipart_list_parts(tp_s3 *s3, const char *bucket, const char *key, const char *upload_id,
                               tp_s3_part **parts, int *nparts, tp_s3_error *e)
{
    *parts = NULL;
    *nparts = 0;
    char marker[16] = "";
    for (;;) {
        const char *pairs[] = {"uploadId", upload_id, marker[0] ? "part-number-marker" : NULL, marker, NULL};
        char *query = s3_query_build(pairs);
        if (!query) {
            s3_fail_local(s3, "GET", bucket, key, "OutOfMemory", e, "out of memory");
            goto fail;
        }
        s3_request rq = {.method = "GET", .bucket = bucket, .key = key, .query = query};
        s3_response rs = {0};
        int rc = s3_perform(s3, &rq, &rs, e);
        int result = -1;
        bool truncated = false;
        char next[16] = "";
        if (rc == 0) {
            if (!s3_ok(rs.status)) {
                s3_fail(s3, &rq, &rs, e);
                if (rs.status == 404)
                    result = 1;
            } else if (s3_parse_list_parts(rs.body.data ? rs.body.data : "", rs.body.len, parts, nparts, &truncated,
                                           next, sizeof next)) {
                s3_fail_local(s3, "GET", bucket, key, "MalformedResponse", e, "ListParts response is not XML");
            } else {
                result = 0;
            }
        }
        s3_response_free(&rs);
        free(query);
        if (result == 1) {
            free(*parts);
            *parts = NULL;
            *nparts = 0;
            return 1;
        }
        if (result)
            goto fail;
        if (!truncated)
            return 0;
        if (!next[0] || !strcmp(next, marker)) {
            s3_fail_local(s3, "GET", bucket, key, "MalformedResponse", e, "truncated ListParts without a new marker");
            goto fail;
        }
        snprintf(marker, sizeof marker, "%s", next);
    }
fail:
    free(*parts);
    *parts = NULL;
    *nparts = 0;
    return -1;
}

/* ---- ListMultipartUploads ---- */

typedef struct uploads_doc {
    tp_s3_upload *u;
    int n, cap;
    tp_s3_upload cur;
    bool truncated, oom;
    char next_key[1024], next_id[1024];
} uploads_doc;

static void on_uploads_elem(void *user, const char *path, const char *text)
{
    uploads_doc *d = user;
    if (!strcmp(path, "ListMultipartUploadsResult/Upload/Key")) {
        free(d->cur.key);
        d->oom |= !(d->cur.key = strdup(text));
    } else if (!strcmp(path, "ListMultipartUploadsResult/Upload/UploadId")) {
        free(d->cur.upload_id);
        d->oom |= !(d->cur.upload_id = strdup(text));
    } else if (!strcmp(path, "ListMultipartUploadsResult/Upload/Initiated")) {
        d->cur.initiated_ms = s3_parse_iso8601_ms(text);
    } else if (!strcmp(path, "ListMultipartUploadsResult/Upload")) {
        if (!d->cur.key || !d->cur.upload_id) {
            free(d->cur.key);
            free(d->cur.upload_id);
            d->cur = (tp_s3_upload){0};
            return;
        }
        if (d->n == d->cap) {
            int cap = d->cap ? d->cap * 2 : 16;
            tp_s3_upload *p = realloc(d->u, (size_t)cap * sizeof *p);
            if (!p) {
                d->oom = true;
                return;
            }
            d->u = p;
            d->cap = cap;
        }
        d->u[d->n++] = d->cur;
        d->cur = (tp_s3_upload){0};
    } else if (!strcmp(path, "ListMultipartUploadsResult/IsTruncated")) {
        d->truncated = !strcmp(text, "true");
    } else if (!strcmp(path, "ListMultipartUploadsResult/NextKeyMarker")) {
        snprintf(d->next_key, sizeof d->next_key, "%s", text);
    } else if (!strcmp(path, "ListMultipartUploadsResult/NextUploadIdMarker")) {
        snprintf(d->next_id, sizeof d->next_id, "%s", text);
    }
}

int s3_parse_list_uploads(const char *xml, size_t len, tp_s3_upload **uploads, int *n, bool *truncated,
                          char *next_key, char *next_id, size_t next_len)
{
    uploads_doc d = {.u = *uploads, .n = *n, .cap = *n};
    int rc = s3_xml_parse(xml, len, on_uploads_elem, &d);
    free(d.cur.key);
    free(d.cur.upload_id);
    *uploads = d.u;
    *n = d.n;
    *truncated = d.truncated;
    snprintf(next_key, next_len, "%s", d.next_key);
    snprintf(next_id, next_len, "%s", d.next_id);
    return rc || d.oom ? -1 : 0;
}

int tp_s3_multipart_list_uploads(tp_s3 *s3, const char *bucket, const char *prefix, tp_s3_upload **uploads,
                                 int *count, tp_s3_error *e)
{
    *uploads = NULL;
    *count = 0;
    char key_marker[1024] = "", id_marker[1024] = "";
    for (;;) {
        const char *pairs[10];
        int n = 0;
        pairs[n++] = "uploads";
        pairs[n++] = "";
        if (prefix && prefix[0]) {
            pairs[n++] = "prefix";
            pairs[n++] = prefix;
        }
        if (key_marker[0]) {
            pairs[n++] = "key-marker";
            pairs[n++] = key_marker;
            pairs[n++] = "upload-id-marker";
            pairs[n++] = id_marker;
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
        bool truncated = false;
        char nk[1024], ni[1024];
        if (rc == 0 && !s3_ok(rs.status)) {
            s3_fail(s3, &rq, &rs, e);
            rc = -1;
        }
        if (rc == 0 && s3_parse_list_uploads(rs.body.data ? rs.body.data : "", rs.body.len, uploads, count,
                                             &truncated, nk, ni, sizeof nk)) {
            s3_fail_local(s3, "GET", bucket, NULL, "MalformedResponse", e, "ListMultipartUploads response is not XML");
            rc = -1;
        }
        s3_response_free(&rs);
        free(query);
        if (rc)
            goto fail;
        if (!truncated)
            return 0;
        if (!nk[0] || (!strcmp(nk, key_marker) && !strcmp(ni, id_marker))) {
            s3_fail_local(s3, "GET", bucket, NULL, "MalformedResponse", e,
                          "truncated ListMultipartUploads without new markers");
            goto fail;
        }
        snprintf(key_marker, sizeof key_marker, "%s", nk);
        snprintf(id_marker, sizeof id_marker, "%s", ni);
    }
fail:
    tp_s3_uploads_free(*uploads, *count);
    *uploads = NULL;
    *count = 0;
    return -1;
}

void tp_s3_uploads_free(tp_s3_upload *uploads, int count)
{
    for (int i = 0; i < count; i++) {
        free(uploads[i].key);
        free(uploads[i].upload_id);
    }
    free(uploads);
}

int tp_s3_abort_stale(tp_s3 *s3, const char *bucket, const char *prefix, double max_age_s, int *aborted,
                      tp_s3_error *e)
{
    if (aborted)
        *aborted = 0;
    tp_s3_upload *u;
    int n;
    if (tp_s3_multipart_list_uploads(s3, bucket, prefix, &u, &n, e))
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (!u[i].initiated_ms || (double)(now_ms - u[i].initiated_ms) / 1000.0 <= max_age_s)
            continue;
        if (tp_s3_multipart_abort(s3, bucket, u[i].key, u[i].upload_id, e)) {
            rc = -1;
            break;
        }
        if (aborted)
            (*aborted)++;
    }
    tp_s3_uploads_free(u, n);
    return rc;
}
