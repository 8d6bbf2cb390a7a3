/* teleop — what `teleop upload` sends: one episode (validated as `teleop
 * check` does, never while recorded) or a dataset folder file by file with
 * meta/ last, so a reader that finds meta/info.json finds every file. */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "s3_internal.h"
#include "teleop/episode.h"

/* snprintf whose truncation of long paths is accepted (messages only). */
static void say(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int tp_s3_upload_episode(tp_s3 *s3, const char *path, const char *bucket, const char *prefix,
                         const tp_s3_upload_options *opt, tp_s3_upload_result *res, char *key_out,
                         size_t key_out_len, tp_s3_error *e)
{
    char key[2048];
    if (tp_s3_join_key(key, sizeof key, prefix, base_name(path))) {
        s3_fail_local(s3, "PUT", bucket, prefix, "InvalidArgument", e, "key too long");
        return -1;
    }
    if (key_out)
        snprintf(key_out, key_out_len, "%s", key);
    char *report = NULL;
    size_t report_len = 0;
    FILE *f = open_memstream(&report, &report_len);
    if (!f) {
        s3_fail_local(s3, "PUT", bucket, key, "OutOfMemory", e, "out of memory");
        return -1;
    }
    bool live = false;
    int bad = tp_episode_check_status(path, f, &live);
    fclose(f);
    if (bad || live) {
        char first[400] = "";
        if (report)
            snprintf(first, sizeof first, "%.*s", (int)strcspn(report, "\n"), report);
        if (live)
            s3_fail_local(s3, "PUT", bucket, key, "InvalidEpisode", e,
                          "%s is being recorded; upload it once finished", path);
        else
            s3_fail_local(s3, "PUT", bucket, key, "InvalidEpisode", e, "refused: teleop check: %s",
                          first[0] ? first : path);
        free(report);
        return -1;
    }
    free(report);
    tp_s3_upload_options o = opt ? *opt : (tp_s3_upload_options){0};
    if (!o.content_type)
        o.content_type = "application/vnd.sqlite3";
    return tp_s3_upload_file(s3, path, bucket, key, &o, res, e);
}

typedef struct file_list {
    char **rel;
    int n, cap;
} file_list;

static bool skipped(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n > 13 && !strcmp(name + n - 13, ".upload-state")) ||
           (n > 17 && !strcmp(name + n - 17, ".upload-state.tmp"));
}

static int collect(const char *root, const char *rel, file_list *l, char *why, size_t whylen)
{
    char dir[4096];
    say(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) {
        say(why, whylen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (skipped(de->d_name))
            continue;
        char r[4096], full[4096];
        if (snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >= (int)sizeof r) {
            say(why, whylen, "%s: path too long", dir);
            rc = -1;
            break;
        }
        say(full, sizeof full, "%s/%s", root, r);
        struct stat sb;
        if (stat(full, &sb) != 0) {
            say(why, whylen, "%s: %s", full, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(sb.st_mode)) {
            rc = collect(root, r, l, why, whylen);
        } else if (S_ISREG(sb.st_mode)) {
            if (l->n == l->cap) {
                int cap = l->cap ? l->cap * 2 : 64;
                char **p = realloc(l->rel, (size_t)cap * sizeof *p);
                if (!p) {
                    say(why, whylen, "out of memory");
                    rc = -1;
                    break;
                }
                l->rel = p;
                l->cap = cap;
            }
            if (!(l->rel[l->n] = strdup(r))) {
                say(why, whylen, "out of memory");
                rc = -1;
            } else {
                l->n++;
            }
        }
    }
    closedir(d);
    return rc;
}

/* Data and videos first, then meta/ (info.json the very last): the order a
 * reader relies on. */
static int rank(const char *rel)
{
    if (!strcmp(rel, "meta/info.json"))
        return 2;
    return !strncmp(rel, "meta/", 5) ? 1 : 0;
}

static int rel_cmp(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    int rx = rank(x), ry = rank(y);
    return rx != ry ? rx - ry : strcmp(x, y);
}

int tp_s3_upload_dataset(tp_s3 *s3, const char *dir, const char *bucket, const char *prefix,
                         const tp_s3_upload_options *opt, tp_s3_upload_result *res, tp_s3_error *e)
{
    if (res)
        memset(res, 0, sizeof *res);
    file_list l = {0};
    char why[512];
    if (collect(dir, "", &l, why, sizeof why)) {
        s3_fail_local(s3, "PUT", bucket, prefix, "LocalIOError", e, "%s", why);
        goto fail;
    }
    if (l.n == 0) {
        s3_fail_local(s3, "PUT", bucket, prefix, "InvalidArgument", e, "%s has no files", dir);
        goto fail;
    }
    qsort(l.rel, (size_t)l.n, sizeof *l.rel, rel_cmp);
    for (int i = 0; i < l.n; i++) {
        char key[4096], path[4096];
        if (tp_s3_join_key(key, sizeof key, prefix, l.rel[i])) {
            s3_fail_local(s3, "PUT", bucket, l.rel[i], "InvalidArgument", e, "key too long");
            goto fail;
        }
        say(path, sizeof path, "%s/%s", dir, l.rel[i]);
        tp_s3_upload_result r;
        if (s3_upload_file_counted(s3, path, bucket, key, opt, i, l.n, &r, e))
            goto fail;
        if (res) {
            res->bytes += r.bytes;
            res->bytes_sent += r.bytes_sent;
            res->multipart |= r.multipart;
            res->parts += r.parts;
            res->parts_resumed += r.parts_resumed;
            res->retries += r.retries;
            res->object = r.object;
            res->unchanged = i == 0 ? r.unchanged : res->unchanged && r.unchanged;
        }
    }
    for (int i = 0; i < l.n; i++)
        free(l.rel[i]);
    free(l.rel);
    return 0;
fail:
    for (int i = 0; i < l.n; i++)
        free(l.rel[i]);
    free(l.rel);
    return -1;
}
