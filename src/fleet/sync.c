/* teleop — station sync (include/teleop/station_sync.h, docs/upload.md
 * "Station sync"): the on-disk queue and its low-priority upload thread. */
#include "teleop/station_sync.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "teleop/bucket_catalog.h"
#include "teleop/s3.h"

#define QUEUE_DIR ".upload-queue"
#define JOB_SUFFIX ".job"
#define RETRY_FIRST_S 5
#define RETRY_MAX_S 300

/* <linux/ioprio.h> is not in every libc's headers: the values are ABI. */
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_WHO_PROCESS 1

typedef struct job {
    char path[4096];
    char name[256];
    int attempts;
    int64_t next_try_ms, queued_ms;
    int state; /* 0 to upload; 1 uploaded and verified (key, etag, sha256 set) */
    char key[1024], etag[80], sha256[65];
    int64_t size;
    bool on_disk, fresh, forgotten, busy;
    bool retract; /* uploaded this run, then deleted (re-record): take it out of the bucket */
} job;

struct tp_sync {
    tp_upload_config cfg;
    char *url, *endpoint, *region, *ca_bundle;
    char out_dir[4096], qdir[4200];
    char bucket[256], prefix[1024], ep_prefix[1200], station[TP_BCAT_STATION_MAX + 1];
    tp_s3 *s3;
    atomic_bool cancel;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    job *jobs;
    int n, cap;
    bool stopping;
    tp_sync_status st;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

/* ---- job files ---- */

static void job_file(const tp_sync *s, const job *j, char *out, size_t len)
{
    snprintf(out, len, "%s/%s" JOB_SUFFIX, s->qdir, j->name);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* The job's file, replaced atomically (temporary name, fsync, rename). */
static int write_job(tp_sync *s, job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "job_version", 1);
    cJSON_AddStringToObject(o, "path", j->path);
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, j->queued_ms);
    cJSON_AddStringToObject(o, "queued_unix_ms", t);
    cJSON_AddNumberToObject(o, "attempts", j->attempts);
    cJSON_AddStringToObject(o, "state", j->state ? "uploaded" : "queued");
    cJSON_AddStringToObject(o, "key", j->key);
    cJSON_AddStringToObject(o, "etag", j->etag);
    cJSON_AddStringToObject(o, "sha256", j->sha256);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return -1;
    char path[4500], tmp[4600];
    job_file(s, j, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    int rc = -1;
    if (fd >= 0) {
        fchmod(fd, 0644);
        size_t n = strlen(text);
        rc = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
        close(fd);
        if (rc == 0)
            rc = rename(tmp, path);
        if (rc)
            unlink(tmp);
        else
            fsync_dir(s->qdir);
    }
    free(text);
    if (rc == 0)
        j->on_disk = true;
    return rc;
}

static void remove_job_file(tp_sync *s, const job *j)
{
    char path[4500];
    job_file(s, j, path, sizeof path);
    unlink(path);
    fsync_dir(s->qdir);
}

static int read_job(tp_sync *s, const char *file, job *j)
{
    char path[4500];
    snprintf(path, sizeof path, "%s/%s", s->qdir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *o = cJSON_Parse(buf);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "path");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
    int rc = -1;
    if (cJSON_IsString(p) && cJSON_IsString(st) && strlen(p->valuestring) < sizeof j->path) {
        memset(j, 0, sizeof *j);
        snprintf(j->path, sizeof j->path, "%s", p->valuestring);
        snprintf(j->name, sizeof j->name, "%.255s", base_name(j->path));
        j->state = !strcmp(st->valuestring, "uploaded");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "attempts");
        j->attempts = cJSON_IsNumber(a) ? a->valueint : 0;
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "queued_unix_ms");
        j->queued_ms = cJSON_IsString(q) ? strtoll(q->valuestring, NULL, 10) : 0;
        const char *names[] = {"key", "etag", "sha256"};
        char *dst[] = {j->key, j->etag, j->sha256};
        size_t sz[] = {sizeof j->key, sizeof j->etag, sizeof j->sha256};
        for (int i = 0; i < 3; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, names[i]);
            if (cJSON_IsString(v))
                snprintf(dst[i], sz[i], "%s", v->valuestring);
        }
        j->on_disk = true;
        /* the file is named after its episode: anything else is not ours */
        char expect[300];
        snprintf(expect, sizeof expect, "%s" JOB_SUFFIX, j->name);
        rc = strcmp(expect, file) ? -1 : 0;
        if (j->state && (!j->key[0] || strlen(j->sha256) != 64))
            j->state = 0; /* incomplete: upload again */
    }
    cJSON_Delete(o);
    return rc;
}

/* ---- the queue in memory (under lock) ---- */

static job *add_job(tp_sync *s)
{
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 16;
        job *nj = realloc(s->jobs, sizeof *nj * (size_t)nc);
        if (!nj)
            return NULL;
        s->jobs = nj;
        s->cap = nc;
    }
    job *j = &s->jobs[s->n++];
    memset(j, 0, sizeof *j);
    return j;
}

static job *find_job(tp_sync *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->jobs[i].name, name))
            return &s->jobs[i];
    return NULL;
}

static void drop_job(tp_sync *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->jobs[i].name, name)) {
            memmove(&s->jobs[i], &s->jobs[i + 1], sizeof *s->jobs * (size_t)(s->n - i - 1));
            s->n--;
            return;
        }
}

static int cmp_jobs(const void *a, const void *b)
{
    const job *x = a, *y = b;
    if (x->queued_ms != y->queued_ms)
        return x->queued_ms < y->queued_ms ? -1 : 1;
    return strcmp(x->name, y->name);
}

int tp_sync_enqueue(tp_sync *s, const char *episode_path)
{
    job fresh;
    size_t len = strlen(episode_path);
    if (len >= sizeof fresh.path)
        return -1;
    /* its queue file first, so a crash from here on still uploads it */
    memset(&fresh, 0, sizeof fresh);
    memcpy(fresh.path, episode_path, len + 1);
    snprintf(fresh.name, sizeof fresh.name, "%.255s", base_name(episode_path));
    fresh.queued_ms = now_ms();
    fresh.fresh = true;
    write_job(s, &fresh); /* on failure the thread tries again before uploading */
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    job *j = find_job(s, fresh.name);
    if (!j) {
        j = add_job(s);
        if (j)
            *j = fresh;
        else
            rc = -1;
    }
    s->st.queued = s->n;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void tp_sync_forget(tp_sync *s, const char *episode_path)
{
    pthread_mutex_lock(&s->lock);
    job *j = find_job(s, base_name(episode_path));
    if (j) {
        j->forgotten = true;
    } else if ((j = add_job(s))) {
        /* already uploaded: its object and entry go too (names are never reused) */
        snprintf(j->name, sizeof j->name, "%.255s", base_name(episode_path));
        snprintf(j->key, sizeof j->key, "%.600s/%.255s", s->ep_prefix, j->name);
        j->retract = true;
    }
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

/* ---- one episode ---- */

static bool stopping(tp_sync *s)
{
    pthread_mutex_lock(&s->lock);
    bool v = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return v;
}

/* QA flags stored (the station's QA thread writes them after "kept"). */
static bool has_qa(const char *path)
{
    sqlite3 *db = NULL;
    bool yes = false;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 500);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT 1 FROM meta WHERE key = 'qa_unix_ns'", -1, &st, NULL) == SQLITE_OK) {
            yes = sqlite3_step(st) == SQLITE_ROW;
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db);
    return yes;
}

static void on_progress(void *user, const tp_s3_progress *p)
{
    tp_sync *s = user;
    pthread_mutex_lock(&s->lock);
    s->st.fraction = p->bytes_total > 0 ? (double)p->bytes_done / (double)p->bytes_total : 0;
    s->st.current_bytes = p->bytes_done;
    pthread_mutex_unlock(&s->lock);
}

static void remove_episode_files(const char *path)
{
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* 0 done (the job file removed), 1 nothing to upload (the episode is gone;
 * job file removed), -1 failed (e filled; retried later). */
static int process(tp_sync *s, job *j, tp_s3_error *e)
{
    struct stat st0;
    bool present = stat(j->path, &st0) == 0;
    if (!present && j->state == 0) {
        remove_job_file(s, j); /* deleted before its upload (re-record, by hand) */
        return 1;
    }
    if (!j->on_disk && write_job(s, j)) {
        snprintf(e->message, sizeof e->message, "%.200s: cannot write its queue file in %.300s", j->name, s->qdir);
        return -1;
    }
    if (j->state == 0) {
        if (j->fresh) {
            double waited = 0;
            while (waited < s->cfg.qa_wait_s && !has_qa(j->path) && !stopping(s)) {
                usleep(250000);
                waited += 0.25;
            }
            j->fresh = false;
        }
        if (stopping(s)) {
            snprintf(e->message, sizeof e->message, "stopped");
            return -1;
        }
        char err[1024];
        int64_t size = 0;
        if (stat(j->path, &st0) || tp_bcat_sha256_file(j->path, j->sha256, &size, err, sizeof err)) {
            snprintf(e->message, sizeof e->message, "%.600s", present ? err : "gone");
            return -1;
        }
        tp_s3_upload_options uo = {.part_size = (int64_t)(s->cfg.part_size_mb * 1024 * 1024),
                                   .parallel = s->cfg.parallel,
                                   .progress = on_progress,
                                   .progress_user = s};
        tp_s3_upload_result res;
        if (tp_s3_upload_episode(s->s3, j->path, s->bucket, s->ep_prefix, &uo, &res, j->key, sizeof j->key, e))
            return -1;
        struct stat st1;
        if (stat(j->path, &st1) || st1.st_size != st0.st_size || st1.st_mtim.tv_sec != st0.st_mtim.tv_sec ||
            st1.st_mtim.tv_nsec != st0.st_mtim.tv_nsec) {
            snprintf(e->message, sizeof e->message, "%s changed during its upload: uploading it again", j->name);
            return -1;
        }
        snprintf(j->etag, sizeof j->etag, "%s", res.object.etag);
        j->size = res.bytes;
        j->state = 1;
        if (write_job(s, j)) {
            snprintf(e->message, sizeof e->message, "%.200s: cannot write its queue file in %.300s", j->name, s->qdir);
            return -1;
        }
    }
    if (stat(j->path, &st0) == 0) {
        /* verified again now: what the entry and a deletion rely on */
        int64_t part = (int64_t)(s->cfg.part_size_mb * 1024 * 1024);
        if (st0.st_size / part >= TP_S3_MAX_PARTS)
            part = 0; /* the upload grew its part size: found from the ETag */
        int v = tp_s3_verify_file(s->s3, j->path, s->bucket, j->key, part, e);
        if (v != 0) {
            if (v == 1) {
                j->state = 0; /* the object is not this file (any more): upload again */
                write_job(s, j);
            }
            return -1;
        }
        if (tp_bcat_put_episode(s->s3, s->bucket, s->prefix, s->station, j->path, j->key, j->sha256, j->etag, e))
            return -1;
        if (s->cfg.delete_after_upload)
            remove_episode_files(j->path);
    }
    /* no local file in state 1: deleted after its entry was written */
    remove_job_file(s, j);
    return 0;
}

static void set_low_priority(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    setpriority(PRIO_PROCESS, (id_t)tid, 19);
    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
}

static void *sync_main(void *arg)
{
    tp_sync *s = arg;
    pthread_setname_np(pthread_self(), "tp-upload");
    set_low_priority();
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->stopping)
            break;
        int64_t now = now_ms(), soonest = INT64_MAX;
        job *pick = NULL;
        for (int i = 0; i < s->n; i++) {
            job *j = &s->jobs[i];
            if (j->retract) {
                job gone = *j;
                drop_job(s, gone.name);
                pthread_mutex_unlock(&s->lock);
                char ekey[1100];
                tp_s3_error ignored;
                tp_s3_delete(s->s3, s->bucket, gone.key, &ignored);
                if (!tp_bcat_entry_key(ekey, sizeof ekey, s->prefix, s->station, gone.key))
                    tp_s3_delete(s->s3, s->bucket, ekey, &ignored);
                pthread_mutex_lock(&s->lock);
                i = -1;
                continue;
            }
            if (j->forgotten && !j->busy) {
                job gone = *j;
                drop_job(s, gone.name);
                pthread_mutex_unlock(&s->lock);
                remove_job_file(s, &gone);
                pthread_mutex_lock(&s->lock);
                i = -1; /* the list may have changed meanwhile */
                continue;
            }
            if (j->next_try_ms <= now) {
                pick = j;
                break;
            }
            if (j->next_try_ms < soonest)
                soonest = j->next_try_ms;
        }
        s->st.queued = s->n;
        if (!pick) {
            s->st.uploading = false;
            s->st.retry_in_s = soonest == INT64_MAX ? 0 : (int)((soonest - now + 999) / 1000);
            int64_t wait = soonest == INT64_MAX ? 1000 : soonest - now;
            if (wait > 1000)
                wait = 1000;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(wait % 1000) * 1000000L;
            ts.tv_sec += wait / 1000 + ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&s->wake, &s->lock, &ts);
            continue;
        }
        job work = *pick;
        pick->busy = true;
        s->st.uploading = true;
        s->st.retry_in_s = 0;
        s->st.fraction = 0;
        s->st.current_bytes = 0;
        snprintf(s->st.current, sizeof s->st.current, "%s", work.name);
        pthread_mutex_unlock(&s->lock);

        tp_s3_error e = {0};
        int rc = process(s, &work, &e);

        pthread_mutex_lock(&s->lock);
        job *j = find_job(s, work.name);
        s->st.uploading = false;
        if (!j)
            continue;
        bool forgotten = j->forgotten;
        s->st.current_bytes = 0;
        if (rc == 1) {
            drop_job(s, work.name);
        } else if (rc == 0) {
            s->st.done++;
            s->st.bytes_done += work.size;
            drop_job(s, work.name);
            if (forgotten && work.key[0]) {
                /* deleted (re-record) while it was being uploaded: take it back */
                char ekey[1100];
                pthread_mutex_unlock(&s->lock);
                tp_s3_error ignored;
                tp_s3_delete(s->s3, s->bucket, work.key, &ignored);
                if (!tp_bcat_entry_key(ekey, sizeof ekey, s->prefix, s->station, work.key))
                    tp_s3_delete(s->s3, s->bucket, ekey, &ignored);
                pthread_mutex_lock(&s->lock);
            }
        } else if (s->stopping) {
            j->busy = false;
        } else {
            work.attempts++;
            s->st.failed++;
            snprintf(s->st.last_error, sizeof s->st.last_error, "%.300s", e.message[0] ? e.message : "failed");
            double delay = fmin(RETRY_MAX_S, RETRY_FIRST_S * pow(2, fmin(work.attempts - 1, 10)));
            work.next_try_ms = now_ms() + (int64_t)(delay * 1000);
            work.busy = false;
            work.forgotten = forgotten;
            *j = work;
            pthread_mutex_unlock(&s->lock);
            write_job(s, &work); /* the attempts survive a restart */
            pthread_mutex_lock(&s->lock);
            if ((j = find_job(s, work.name)))
                j->on_disk = true;
        }
        s->st.queued = s->n;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- lifecycle ---- */

static int load_queue(tp_sync *s, char *err, size_t errlen)
{
    if (mkdir(s->qdir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", s->qdir, strerror(errno));
        return -1;
    }
    DIR *d = opendir(s->qdir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", s->qdir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (strstr(de->d_name, ".tmp-")) {
            unlinkat(dirfd(d), de->d_name, 0); /* a write cut by a crash */
            continue;
        }
        if (n <= strlen(JOB_SUFFIX) || strcmp(de->d_name + n - strlen(JOB_SUFFIX), JOB_SUFFIX))
            continue;
        job j;
        if (read_job(s, de->d_name, &j)) {
            fprintf(stderr, "teleop: %s/%s: not an upload queue file; left alone\n", s->qdir, de->d_name);
            continue;
        }
        job *slot = add_job(s);
        if (!slot) {
            closedir(d);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        *slot = j;
    }
    closedir(d);
    if (s->n > 1)
        qsort(s->jobs, (size_t)s->n, sizeof *s->jobs, cmp_jobs);
    s->st.queued = s->n;
    return 0;
}

tp_sync *tp_sync_start(const tp_upload_config *cfg, const char *out_dir, char *err, size_t errlen)
{
    tp_sync *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->url = dup_or_null(cfg->url);
    s->endpoint = dup_or_null(cfg->endpoint);
    s->region = dup_or_null(cfg->region);
    s->ca_bundle = dup_or_null(cfg->ca_bundle);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    atomic_init(&s->cancel, false);
    if (!s->url) {
        snprintf(err, errlen, "[upload] url: required (s3://bucket/prefix) when enabled");
        goto fail;
    }
    if (tp_s3_parse_url(s->url, s->bucket, sizeof s->bucket, s->prefix, sizeof s->prefix, err, errlen))
        goto fail;
    if (cfg->station && *cfg->station) {
        if (!tp_bcat_station_valid(cfg->station)) {
            snprintf(err, errlen, "[upload] station: '%s' is not a station name (letters, digits, '.', '_', '-')",
                     cfg->station);
            goto fail;
        }
        snprintf(s->station, sizeof s->station, "%s", cfg->station);
    } else {
        tp_bcat_default_station(s->station, sizeof s->station);
    }
    snprintf(s->ep_prefix, sizeof s->ep_prefix, "%s%s%s", s->prefix, s->prefix[0] ? "/" : "", s->station);
    snprintf(s->out_dir, sizeof s->out_dir, "%s", out_dir);
    snprintf(s->qdir, sizeof s->qdir, "%s/" QUEUE_DIR, out_dir);
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", out_dir, strerror(errno));
        goto fail;
    }
    const char *endpoint = s->endpoint;
    if (!endpoint)
        endpoint = getenv("AWS_ENDPOINT_URL_S3") ? getenv("AWS_ENDPOINT_URL_S3") : getenv("AWS_ENDPOINT_URL");
    int parallel = cfg->parallel > 0 ? cfg->parallel : 2;
    tp_s3_config sc = {.endpoint = endpoint,
                       .region = s->region,
                       .ca_bundle = s->ca_bundle,
                       .max_send_bytes_per_s = (int64_t)(cfg->bandwidth_limit_mb_s * 1e6 / parallel),
                       .cancel = &s->cancel};
    tp_s3_error e = {0};
    s->s3 = tp_s3_open(&sc, &e);
    if (!s->s3) {
        snprintf(err, errlen, "[upload] %s", e.message);
        goto fail;
    }
    if (load_queue(s, err, errlen))
        goto fail;
    if (pthread_create(&s->thread, NULL, sync_main, s) != 0) {
        snprintf(err, errlen, "[upload] cannot start the upload thread");
        goto fail;
    }
    s->started = true;
    return s;
fail:
    tp_sync_stop(s);
    return NULL;
}

void tp_sync_get_status(tp_sync *s, tp_sync_status *st)
{
    pthread_mutex_lock(&s->lock);
    *st = s->st;
    st->queued = s->n;
    pthread_mutex_unlock(&s->lock);
}

void tp_sync_status_text(tp_sync *s, char *buf, size_t len)
{
    tp_sync_status st;
    tp_sync_get_status(s, &st);
    int n = snprintf(buf, len, "upload: %d queued", st.queued);
    if (n < 0 || (size_t)n >= len)
        return;
    if (st.uploading)
        n += snprintf(buf + n, len - (size_t)n, ", uploading %.60s %d%%", st.current, (int)(st.fraction * 100));
    else if (st.retry_in_s > 0 && st.queued)
        n += snprintf(buf + n, len - (size_t)n, ", failed (%d retries), retry in %d s: %.120s", st.failed,
                      st.retry_in_s, st.last_error);
    if (n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ", %d done", st.done);
}

int tp_sync_drain(tp_sync *s, const volatile int *interrupt, double timeout_s)
{
    bool tty = isatty(2);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t last_print = 0;
    for (;;) {
        tp_sync_status st;
        tp_sync_get_status(s, &st);
        if (st.queued == 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if ((interrupt && *interrupt) || (timeout_s >= 0 && el >= timeout_s)) {
            if (tty)
                fprintf(stderr, "\r\033[K");
            fprintf(stderr, "teleop: %d episode(s) left in the upload queue (%s); the next run resumes them\n",
                    st.queued, s->qdir);
            return 1;
        }
        if ((int64_t)el > last_print || last_print == 0) {
            char line[512];
            tp_sync_status_text(s, line, sizeof line);
            if (tty)
                fprintf(stderr, "\r%s\033[K", line);
            else
                fprintf(stderr, "%s\n", line);
            last_print = (int64_t)el + 1;
        }
        usleep(100000);
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    return 0;
}

void tp_sync_stop(tp_sync *s)
{
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        atomic_store(&s->cancel, true);
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    /* jobs not written yet (queued this run, never picked) */
    for (int i = 0; i < s->n; i++)
        if (!s->jobs[i].on_disk && !s->jobs[i].forgotten && !s->jobs[i].retract)
            write_job(s, &s->jobs[i]);
    tp_s3_close(s->s3);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->jobs);
    free(s->url);
    free(s->endpoint);
    free(s->region);
    free(s->ca_bundle);
    free(s);
}
