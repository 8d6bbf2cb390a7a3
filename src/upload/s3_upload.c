/* teleop — one file to S3, verified: a single PUT for small files, else a
 * multipart upload with parts in parallel whose progress is kept in
 * "FILE.upload-state" (written atomically after each part) so that an
 * interrupted upload resumes where it stopped. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "s3_internal.h"
#include "teleop/log.h"

#define DEFAULT_PART_SIZE ((int64_t)8 << 20)
#define MIB ((int64_t)1 << 20)

/* ---- progress ---- */

typedef struct progress {
    const tp_s3_upload_options *opt;
    const char *key;
    int64_t total, resumed;
    atomic_llong sent;
    pthread_mutex_t lock;
    int64_t last_ns;
    int files_done, files_total;
} progress;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void report(progress *p, bool force)
{
    if (!p->opt || !p->opt->progress)
        return;
    pthread_mutex_lock(&p->lock);
    int64_t t = now_ns();
    if (force || t - p->last_ns >= 250000000) {
        p->last_ns = t;
        int64_t done = p->resumed + atomic_load(&p->sent);
        tp_s3_progress pr = {.key = p->key, .bytes_done = done > p->total ? p->total : done,
                             .bytes_total = p->total, .files_done = p->files_done, .files_total = p->files_total};
        p->opt->progress(p->opt->progress_user, &pr);
    }
    pthread_mutex_unlock(&p->lock);
}

static void on_progress(void *user) { report(user, false); }

/* ---- the state file ---- */

typedef struct upload_state {
    char bucket[256];
    char key[1024];
    char upload_id[1024];
    int64_t part_size, size, mtime_ns, created_unix;
    tp_s3_part *parts; /* indexed by number - 1; etag "" when not done */
    int nparts;
} upload_state;

static int state_save(const char *state_path, const upload_state *st)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "teleop-upload-state 1\nbucket %s\nkey %s\nupload_id %s\npart_size %" PRId64 "\nsize %" PRId64
               "\nmtime_ns %" PRId64 "\ncreated_unix %" PRId64 "\n",
            st->bucket, st->key, st->upload_id, st->part_size, st->size, st->mtime_ns, st->created_unix);
    for (int i = 0; i < st->nparts; i++)
        if (st->parts[i].etag[0])
            fprintf(f, "part %d %" PRId64 " %s %s\n", st->parts[i].number, st->parts[i].size, st->parts[i].etag,
                    st->parts[i].md5);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, state_path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", state_path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int state_alloc_parts(upload_state *st)
{
    st->nparts = (int)div_up(st->size, st->part_size);
    st->parts = calloc((size_t)st->nparts, sizeof *st->parts);
    if (!st->parts)
        return -1;
    for (int i = 0; i < st->nparts; i++) {
        st->parts[i].number = i + 1;
        int64_t off = (int64_t)i * st->part_size;
        st->parts[i].size = st->size - off < st->part_size ? st->size - off : st->part_size;
    }
    return 0;
}

/* 1 loaded, 0 none, -1 unreadable (why in why). */
static int state_load(const char *state_path, upload_state *st, char *why, size_t whylen)
{
    memset(st, 0, sizeof *st);
    FILE *f = fopen(state_path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(why, whylen, "%s", strerror(errno));
        return -1;
    }
    char line[4096];
    int rc = -1;
    if (!fgets(line, sizeof line, f) || strcmp(line, "teleop-upload-state 1\n")) {
        snprintf(why, whylen, "not a teleop upload state (version 1)");
        goto done;
    }
    bool have_parts = false;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (!n || line[n - 1] != '\n') {
            snprintf(why, whylen, "truncated line");
            goto done;
        }
        line[n - 1] = 0;
        char *sp = strchr(line, ' ');
        if (!sp) {
            snprintf(why, whylen, "bad line '%s'", line);
            goto done;
        }
        *sp = 0;
        const char *v = sp + 1;
        if (!strcmp(line, "bucket"))
            snprintf(st->bucket, sizeof st->bucket, "%s", v);
        else if (!strcmp(line, "key"))
            snprintf(st->key, sizeof st->key, "%s", v);
        else if (!strcmp(line, "upload_id"))
            snprintf(st->upload_id, sizeof st->upload_id, "%s", v);
        else if (!strcmp(line, "part_size"))
            st->part_size = strtoll(v, NULL, 10);
        else if (!strcmp(line, "size"))
            st->size = strtoll(v, NULL, 10);
        else if (!strcmp(line, "mtime_ns"))
            st->mtime_ns = strtoll(v, NULL, 10);
        else if (!strcmp(line, "created_unix"))
            st->created_unix = strtoll(v, NULL, 10);
        else if (!strcmp(line, "part")) {
            if (!have_parts) {
                if (st->part_size < TP_S3_MIN_PART_SIZE || st->size <= 0 ||
                    div_up(st->size, st->part_size) > TP_S3_MAX_PARTS || state_alloc_parts(st)) {
                    snprintf(why, whylen, "bad part_size or size");
                    goto done;
                }
                have_parts = true;
            }
            int num;
            long long size;
            char etag[80], md5[40];
            if (sscanf(v, "%d %lld %79s %39s", &num, &size, etag, md5) != 4 || num < 1 || num > st->nparts ||
                size != st->parts[num - 1].size || strlen(md5) != 32) {
                snprintf(why, whylen, "bad part line '%s'", v);
                goto done;
            }
            snprintf(st->parts[num - 1].etag, sizeof st->parts[num - 1].etag, "%s", etag);
            snprintf(st->parts[num - 1].md5, sizeof st->parts[num - 1].md5, "%s", md5);
        }
    }
    if (!st->bucket[0] || !st->key[0] || !st->upload_id[0] || st->part_size < TP_S3_MIN_PART_SIZE || st->size <= 0) {
        snprintf(why, whylen, "incomplete");
        goto done;
    }
    if (!have_parts && state_alloc_parts(st)) {
        snprintf(why, whylen, "out of memory");
        goto done;
    }
    rc = 1;
done:
    fclose(f);
    if (rc != 1) {
        free(st->parts);
        st->parts = NULL;
    }
    return rc;
}

/* ---- helpers ---- */

static int64_t mtime_ns_of(const struct stat *sb) { return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec; }

static int read_full(int fd, void *buf, size_t len, int64_t off)
{
    char *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static bool unchanged(int fd, int64_t size, int64_t mtime_ns)
{
    struct stat sb;
    return fstat(fd, &sb) == 0 && sb.st_size == size && mtime_ns_of(&sb) == mtime_ns;
}

/* The object's ETag against the file: whole-file MD5 for a plain ETag
 * (what a single PUT gives, and what some servers give for multipart
 * too), MD5 of the part MD5s for "X-N". 0 equal, 1 different, -1 error. */
static int etag_matches(int fd, int64_t size, const char *etag, int64_t part_size, char *why, size_t whylen)
{
    const char *dash = strchr(etag, '-');
    if (!dash) {
        char md5[33];
        if (s3_file_md5(fd, 0, size, md5)) {
            snprintf(why, whylen, "reading the file: %s", strerror(errno));
            return -1;
        }
        if (strcasecmp(md5, etag)) {
            snprintf(why, whylen, "ETag %s is not the file's MD5 %s", etag, md5);
            return 1;
        }
        return 0;
    }
    int n = atoi(dash + 1);
    if (n < 1 || n > TP_S3_MAX_PARTS) {
        snprintf(why, whylen, "ETag %s: bad part count", etag);
        return 1;
    }
    if (part_size <= 0) {
        part_size = div_up(div_up(size, n), MIB) * MIB;
        if (part_size < TP_S3_MIN_PART_SIZE)
            part_size = TP_S3_MIN_PART_SIZE;
    }
    if (div_up(size, part_size) != n) {
        snprintf(why, whylen, "ETag %s has %d parts, the file makes %" PRId64 " of %" PRId64 " bytes", etag, n,
                 div_up(size, part_size), part_size);
        return 1;
    }
    char (*md5s)[33] = calloc((size_t)n, sizeof *md5s);
    if (!md5s) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int64_t off = (int64_t)i * part_size;
        if (s3_file_md5(fd, off, size - off < part_size ? size - off : part_size, md5s[i])) {
            snprintf(why, whylen, "reading the file: %s", strerror(errno));
            free(md5s);
            return -1;
        }
    }
    char want[80];
    s3_multipart_etag((const char(*)[33])md5s, n, want, sizeof want);
    free(md5s);
    if (strcasecmp(want, etag)) {
        snprintf(why, whylen, "ETag %s is not the file's multipart ETag %s", etag, want);
        return 1;
    }
    return 0;
}

/* HEAD and compare; known part MD5s (may be NULL) spare re-reading. */
static int verify(tp_s3 *s3, int fd, int64_t size, const char *bucket, const char *key, int64_t part_size,
                  const upload_state *st, tp_s3_object *obj, tp_s3_error *e)
{
    tp_s3_object o;
    int h = tp_s3_head(s3, bucket, key, &o, e);
    /* AWS S3 reads its own writes at once; some S3-compatible stores show a
     * just-written object's size a moment later (s3rver once answered size 0
     * for a 1003-byte PUT it had acknowledged). A few HEADs over about a
     * third of a second before calling the upload failed. */
    for (int again = 0; again < 3 && (h == 1 || (h == 0 && o.size != size)); again++) {
        struct timespec pause = {0, 50000000L << again};
        nanosleep(&pause, NULL);
        h = tp_s3_head(s3, bucket, key, &o, e);
    }
    if (h == 1) {
        s3_fail_local(s3, "HEAD", bucket, key, "VerifyFailed", e, "not found after upload");
        return 1;
    }
    if (h)
        return -1;
    if (o.size != size) {
        s3_fail_local(s3, "HEAD", bucket, key, "VerifyFailed", e, "size %" PRId64 ", the file has %" PRId64, o.size,
                      size);
        return 1;
    }
    char why[256];
    int m;
    if (st && strchr(o.etag, '-') && atoi(strchr(o.etag, '-') + 1) == st->nparts) {
        char (*md5s)[33] = malloc((size_t)st->nparts * sizeof *md5s);
        if (!md5s) {
            s3_fail_local(s3, "HEAD", bucket, key, "OutOfMemory", e, "out of memory");
            return -1;
        }
        for (int i = 0; i < st->nparts; i++)
            memcpy(md5s[i], st->parts[i].md5, 33);
        char want[80];
        s3_multipart_etag((const char(*)[33])md5s, st->nparts, want, sizeof want);
        free(md5s);
        m = strcasecmp(want, o.etag) ? 1 : 0;
        snprintf(why, sizeof why, "ETag %s is not the multipart ETag %s of the parts sent", o.etag, want);
    } else {
        m = etag_matches(fd, size, o.etag, part_size, why, sizeof why);
    }
    if (m) {
        s3_fail_local(s3, "HEAD", bucket, key, m < 0 ? "LocalIOError" : "VerifyFailed", e, "%s", why);
        return m;
    }
    if (obj)
        *obj = o;
    return 0;
}

/* ---- single PUT ---- */

static int single_put(tp_s3 *s3, int fd, int64_t size, int64_t mtime, const char *path, const char *bucket,
                      const char *key, const tp_s3_upload_options *opt, progress *pg, tp_s3_upload_result *res,
                      tp_s3_error *e)
{
    void *buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        s3_fail_local(s3, "PUT", bucket, key, "OutOfMemory", e, "out of memory for %" PRId64 " bytes", size);
        return -1;
    }
    if (read_full(fd, buf, (size_t)size, 0)) {
        s3_fail_local(s3, "PUT", bucket, key, "LocalIOError", e, "%s: %s", path, strerror(errno));
        free(buf);
        return -1;
    }
    if (!unchanged(fd, size, mtime)) {
        s3_fail_local(s3, "PUT", bucket, key, "FileChanged", e, "%s changed while being read", path);
        free(buf);
        return -1;
    }
    s3_request rq = {.method = "PUT", .bucket = bucket, .key = key, .body = buf, .body_len = (size_t)size,
                     .send_body = true, .content_md5 = true,
                     .content_type = opt->content_type ? opt->content_type : "application/octet-stream",
                     .progress = &pg->sent, .on_progress = on_progress, .progress_user = pg};
    s3_response rs = {0};
    int rc = -1;
    if (s3_perform(s3, &rq, &rs, e) == 0) {
        unsigned char md5[16];
        char hex[33];
        s3_md5(buf, (size_t)size, md5);
        s3_hex(md5, 16, hex);
        if (!s3_ok(rs.status))
            s3_fail(s3, &rq, &rs, e);
        else if (strcasecmp(rs.etag, hex))
            s3_fail_local(s3, "PUT", bucket, key, "BadDigest", e, "the server's ETag %s is not the MD5 %s",
                          rs.etag[0] ? rs.etag : "(none)", hex);
        else
            rc = 0;
    }
    s3_response_free(&rs);
    free(buf);
    if (rc)
        return -1;
    res->bytes_sent = size;
    report(pg, true);
    return verify(s3, fd, size, bucket, key, 0, NULL, &res->object, e) ? -1 : 0;
}

/* ---- multipart ---- */

typedef struct mp_job {
    tp_s3 *s3;
    int fd;
    const char *path, *state_path, *bucket, *key;
    upload_state *st;
    progress *pg;
    pthread_mutex_t lock;
    int next; /* index of the next part to look at */
    bool failed;
    tp_s3_error err;
    int64_t sent;
} mp_job;

static void *mp_worker(void *arg)
{
    mp_job *j = arg;
    upload_state *st = j->st;
    char *buf = malloc((size_t)st->part_size);
    if (!buf) {
        pthread_mutex_lock(&j->lock);
        if (!j->failed) {
            j->failed = true;
            s3_fail_local(j->s3, "PUT", j->bucket, j->key, "OutOfMemory", &j->err, "out of memory for a part");
        }
        pthread_mutex_unlock(&j->lock);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&j->lock);
        while (j->next < st->nparts && st->parts[j->next].etag[0])
            j->next++;
        if (j->failed || j->next >= st->nparts || s3_cancelled(j->s3)) {
            pthread_mutex_unlock(&j->lock);
            break;
        }
        tp_s3_part part = st->parts[j->next++];
        pthread_mutex_unlock(&j->lock);
        tp_s3_error e = {0};
        int rc;
        if (read_full(j->fd, buf, (size_t)part.size, (int64_t)(part.number - 1) * st->part_size)) {
            s3_fail_local(j->s3, "PUT", j->bucket, j->key, "LocalIOError", &e, "%s: %s", j->path, strerror(errno));
            rc = -1;
        } else {
            rc = s3_upload_part_progress(j->s3, j->bucket, j->key, st->upload_id, buf, &part, &j->pg->sent,
                                         on_progress, j->pg, &e);
        }
        pthread_mutex_lock(&j->lock);
        if (rc == 0) {
            st->parts[part.number - 1] = part;
            j->sent += part.size;
            if (state_save(j->state_path, st) != 0 && !j->failed) {
                j->failed = true;
                s3_fail_local(j->s3, "PUT", j->bucket, j->key, "LocalIOError", &j->err, "%s: %s", j->state_path,
                              strerror(errno));
            }
        } else if (!j->failed) {
            j->failed = true;
            j->err = e;
        }
        pthread_mutex_unlock(&j->lock);
    }
    free(buf);
    return NULL;
}

static bool not_supported(const tp_s3_error *e)
{
    return e->http_status == 405 || e->http_status == 501 || !strcmp(e->code, "NotImplemented") ||
           !strcmp(e->code, "MethodNotAllowed");
}

static int start_upload(tp_s3 *s3, upload_state *st, const char *state_path, const char *bucket, const char *key,
                        const tp_s3_upload_options *opt, tp_s3_error *e)
{
    if (tp_s3_multipart_create(s3, bucket, key, opt->content_type, st->upload_id, sizeof st->upload_id, e))
        return -1;
    st->created_unix = (int64_t)time(NULL);
    if (state_save(state_path, st)) {
        s3_fail_local(s3, "POST", bucket, key, "LocalIOError", e, "%s: %s", state_path, strerror(errno));
        tp_s3_multipart_abort(s3, bucket, key, st->upload_id, NULL);
        return -1;
    }
    return 0;
}

static int multipart(tp_s3 *s3, int fd, int64_t size, int64_t mtime, int64_t part_size, const char *path,
                     const char *bucket, const char *key, const tp_s3_upload_options *opt, progress *pg,
                     tp_s3_upload_result *res, tp_s3_error *e)
{
    char state_path[4200];
    snprintf(state_path, sizeof state_path, "%s.upload-state", path);
    upload_state st;
    char why[256];
    int loaded = state_load(state_path, &st, why, sizeof why);
    if (loaded < 0) {
        tp_log_warn("upload: %s: %s; starting over", state_path, why);
        loaded = 0;
    }
    bool fresh = true;
    if (loaded == 1) {
        bool same = !strcmp(st.bucket, bucket) && !strcmp(st.key, key) && st.size == size && st.mtime_ns == mtime;
        bool too_old = opt->restart_older_than_s > 0 &&
                       (double)((int64_t)time(NULL) - st.created_unix) > opt->restart_older_than_s;
        if (same && !too_old) {
            fresh = false;
            tp_s3_part *server = NULL;
            int nserver = 0;
            tp_s3_error le = {0};
            int lp = tp_s3_multipart_list_parts(s3, bucket, key, st.upload_id, &server, &nserver, &le);
            if (lp == 1) {
                tp_log_warn("upload: %s: the interrupted upload is gone from the server; starting over", path);
                fresh = true;
            } else if (lp == 0) {
                /* keep only the parts the server holds as recorded */
                for (int i = 0; i < st.nparts; i++) {
                    if (!st.parts[i].etag[0])
                        continue;
                    bool held = false;
                    for (int k = 0; k < nserver; k++)
                        if (server[k].number == st.parts[i].number && server[k].size == st.parts[i].size &&
                            !strcasecmp(server[k].etag, st.parts[i].etag))
                            held = true;
                    if (!held)
                        st.parts[i].etag[0] = 0;
                }
                free(server);
            } else if (!not_supported(&le)) {
                if (e)
                    *e = le;
                free(st.parts);
                return -1;
            } /* a server without ListParts: the state file is the record; complete checks it */
        } else {
            tp_log_warn("upload: %s: %s; aborting the earlier upload and starting over", path,
                        same ? "the interrupted upload is older than the restart age" : "the file or target changed");
            tp_s3_multipart_abort(s3, st.bucket, st.key, st.upload_id, NULL);
        }
        if (fresh) {
            free(st.parts);
            memset(&st, 0, sizeof st);
        }
    }
    if (fresh) {
        snprintf(st.bucket, sizeof st.bucket, "%s", bucket);
        snprintf(st.key, sizeof st.key, "%s", key);
        st.size = size;
        st.mtime_ns = mtime;
        st.part_size = part_size;
        if (state_alloc_parts(&st)) {
            s3_fail_local(s3, "POST", bucket, key, "OutOfMemory", e, "out of memory");
            return -1;
        }
        if (start_upload(s3, &st, state_path, bucket, key, opt, e)) {
            free(st.parts);
            return -1;
        }
    }
    for (int i = 0; i < st.nparts; i++)
        if (st.parts[i].etag[0]) {
            res->parts_resumed++;
            pg->resumed += st.parts[i].size;
        }
    report(pg, true);
    mp_job j = {.s3 = s3, .fd = fd, .path = path, .state_path = state_path, .bucket = bucket, .key = key, .st = &st,
                .pg = pg};
    pthread_mutex_init(&j.lock, NULL);
    int parts_left = st.nparts - res->parts_resumed;
    int nthreads = opt->parallel > 0 ? opt->parallel : 4;
    if (nthreads > parts_left)
        nthreads = parts_left;
    if (nthreads > 64)
        nthreads = 64;
    pthread_t threads[64];
    int started = 0;
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&threads[started], NULL, mp_worker, &j) == 0)
            started++;
    if (nthreads > 0 && started == 0)
        mp_worker(&j);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&j.lock);
    res->bytes_sent = j.sent;
    res->parts = st.nparts;
    res->multipart = true;
    if (!j.failed && s3_cancelled(s3)) {
        j.failed = true;
        s3_fail_local(s3, "PUT", bucket, key, "Cancelled", &j.err, "cancelled");
    }
    if (j.failed) {
        if (e)
            *e = j.err;
        free(st.parts);
        return -1;
    }
    report(pg, true);
    if (!unchanged(fd, size, mtime)) {
        s3_fail_local(s3, "POST", bucket, key, "FileChanged", e, "%s changed during the upload; aborted", path);
        tp_s3_multipart_abort(s3, bucket, key, st.upload_id, NULL);
        unlink(state_path);
        free(st.parts);
        return -1;
    }
    tp_s3_error ce = {0};
    if (tp_s3_multipart_complete(s3, bucket, key, st.upload_id, st.parts, st.nparts, NULL, &ce)) {
        bool gone = !strcmp(ce.code, "NoSuchUpload") || !strcmp(ce.code, "InvalidPart");
        /* a completion whose answer was lost, retried, finds its upload
         * gone: the object may be whole already */
        if (gone && verify(s3, fd, size, bucket, key, st.part_size, &st, &res->object, NULL) == 0) {
            free(st.parts);
            unlink(state_path);
            return 0;
        }
        if (gone) { /* the recorded parts are gone: the next run starts over */
            tp_s3_multipart_abort(s3, bucket, key, st.upload_id, NULL);
            unlink(state_path);
        }
        if (e)
            *e = ce;
        free(st.parts);
        return -1;
    }
    int v = verify(s3, fd, size, bucket, key, st.part_size, &st, &res->object, e);
    free(st.parts);
    if (v)
        return -1;
    unlink(state_path);
    return 0;
}

int s3_upload_file_counted(tp_s3 *s3, const char *path, const char *bucket, const char *key,
                           const tp_s3_upload_options *opt_in, int files_done, int files_total,
                           tp_s3_upload_result *res_in, tp_s3_error *e)
{
    tp_s3_upload_options defaults = {0};
    const tp_s3_upload_options *opt = opt_in ? opt_in : &defaults;
    tp_s3_upload_result scratch;
    tp_s3_upload_result *res = res_in ? res_in : &scratch;
    memset(res, 0, sizeof *res);
    if (strchr(key, '\n') || strchr(bucket, '\n') || !key[0]) {
        s3_fail_local(s3, "PUT", bucket, key, "InvalidArgument", e, "bad key");
        return -1;
    }
    int64_t part_size = opt->part_size ? opt->part_size : DEFAULT_PART_SIZE;
    if (part_size < TP_S3_MIN_PART_SIZE) {
        s3_fail_local(s3, "PUT", bucket, key, "InvalidArgument", e, "part size %" PRId64 " is under 5 MiB", part_size);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        s3_fail_local(s3, "PUT", bucket, key, "LocalIOError", e, "%s: %s", path,
                      fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int64_t size = sb.st_size, mtime = mtime_ns_of(&sb);
    while (div_up(size, part_size) > TP_S3_MAX_PARTS)
        part_size = div_up(div_up(size, TP_S3_MAX_PARTS), MIB) * MIB;
    int64_t threshold = opt->multipart_threshold > 0 ? opt->multipart_threshold : part_size;
    res->bytes = size;
    progress pg = {.opt = opt, .key = key, .total = size, .files_done = files_done, .files_total = files_total};
    pthread_mutex_init(&pg.lock, NULL);
    int retries0 = atomic_load(&s3->retries);
    char state_path[4200];
    snprintf(state_path, sizeof state_path, "%s.upload-state", path);
    if (access(state_path, F_OK) != 0) {
        /* already there and identical (a rerun after a cut): nothing to send */
        tp_s3_object o;
        char why[256];
        if (tp_s3_head(s3, bucket, key, &o, NULL) == 0 && o.size == size &&
            etag_matches(fd, size, o.etag, part_size, why, sizeof why) == 0) {
            res->unchanged = true;
            res->object = o;
            res->multipart = strchr(o.etag, '-') != NULL;
            pg.resumed = size;
            report(&pg, true);
            pthread_mutex_destroy(&pg.lock);
            close(fd);
            return 0;
        }
    }
    int rc = size <= threshold ? single_put(s3, fd, size, mtime, path, bucket, key, opt, &pg, res, e)
                               : multipart(s3, fd, size, mtime, part_size, path, bucket, key, opt, &pg, res, e);
    res->retries = atomic_load(&s3->retries) - retries0;
    if (rc == 0)
        report(&pg, true);
    pthread_mutex_destroy(&pg.lock);
    close(fd);
    return rc;
}

int tp_s3_upload_file(tp_s3 *s3, const char *path, const char *bucket, const char *key,
                      const tp_s3_upload_options *opt, tp_s3_upload_result *res, tp_s3_error *e)
{
    return s3_upload_file_counted(s3, path, bucket, key, opt, 0, 1, res, e);
}

int tp_s3_verify_file(tp_s3 *s3, const char *path, const char *bucket, const char *key, int64_t part_size,
                      tp_s3_error *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        s3_fail_local(s3, "HEAD", bucket, key, "LocalIOError", e, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = verify(s3, fd, sb.st_size, bucket, key, part_size, NULL, NULL, e);
    close(fd);
    return rc;
}
