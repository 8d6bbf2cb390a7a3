/* teleop — s3:// episode sources (tp_bcat_fetch): the catalog entry names
 * the episode's SHA-256, the object is downloaded into a cache folder and
 * verified against it before anything reads it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "teleop/bucket_catalog.h"
#include "fleet_internal.h"

static int make_parents(const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* A key is stored below the cache as it is: refuse what would climb out. */
static bool safe_key(const char *key)
{
    if (!*key || key[0] == '/')
        return false;
    for (const char *p = key; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p = slash ? slash + 1 : p + n;
    }
    return true;
}

/* One item into the cache, verified. path gets the local file. */
static int fetch_item(tp_s3 *s3, const char *bucket, const tp_bcat_item *it, const char *cache_dir, char *path,
                      size_t pathlen, tp_s3_error *e)
{
    if (!safe_key(it->key))
        return fleet_fail(e, "InvalidKey", "s3://%s/%s: a key the cache cannot hold", bucket, it->key);
    if ((size_t)snprintf(path, pathlen, "%s/%s/%s", cache_dir, bucket, it->key) >= pathlen)
        return fleet_fail(e, "KeyTooLong", "s3://%s/%s: path too long", bucket, it->key);
    char sha[65], err[1200];
    struct stat st;
    if (stat(path, &st) == 0 && tp_bcat_sha256_file(path, sha, NULL, err, sizeof err) == 0 &&
        !strcmp(sha, it->sha256))
        return 0; /* cached and intact */
    if (make_parents(path))
        return fleet_fail(e, "CacheError", "%s: cannot create its folder: %s", path, strerror(errno));
    int g = tp_s3_get_file(s3, bucket, it->key, path, NULL, e);
    if (g == 1)
        return fleet_fail(e, "NoSuchKey", "s3://%s/%s: listed in the catalog but not in the bucket", bucket, it->key);
    if (g)
        return -1;
    if (tp_bcat_sha256_file(path, sha, NULL, err, sizeof err))
        return fleet_fail(e, "CacheError", "%s", err);
    if (strcmp(sha, it->sha256)) {
        unlink(path);
        return fleet_fail(e, "ChecksumMismatch", "s3://%s/%s: SHA-256 %s, its catalog entry says %s (not used)", bucket,
                    it->key, sha, it->sha256);
    }
    return 0;
}

static int push(char ***paths, int *n, const char *p)
{
    char **np = realloc(*paths, sizeof *np * (size_t)(*n + 1));
    if (!np)
        return -1;
    *paths = np;
    if (!(np[*n] = strdup(p)))
        return -1;
    (*n)++;
    return 0;
}

int tp_bcat_fetch(tp_s3 *s3, const char *url, const char *cache_dir, char ***paths, int *n_paths, tp_s3_error *e)
{
    *paths = NULL;
    *n_paths = 0;
    char bucket[256], key[1024], err[1024];
    if (tp_s3_parse_url(url, bucket, sizeof bucket, key, sizeof key, err, sizeof err))
        return fleet_fail(e, "InvalidURL", "%s", err);
    size_t kl = strlen(key);
    bool one = kl > 3 && !strcmp(key + kl - 3, ".db");
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s", key);
    char local[4200];
    for (;;) {
        if (one) {
            /* the nearest enclosing prefix whose catalog lists the key */
            char *slash = strrchr(prefix, '/');
            if (slash)
                *slash = 0;
            else if (prefix[0])
                prefix[0] = 0;
            else
                return fleet_fail(e, "NoCatalogEntry",
                            "%s: no catalog entry for it under any enclosing prefix's _catalog (its SHA-256 cannot "
                            "be verified)",
                            url);
        }
        tp_bcat_listing l;
        if (tp_bcat_read(s3, bucket, prefix, &l, e))
            return -1;
        int rc = 0;
        if (one) {
            const tp_bcat_item *it = tp_bcat_find(&l, key);
            if (!it) {
                tp_bcat_listing_free(&l);
                continue;
            }
            rc = fetch_item(s3, bucket, it, cache_dir, local, sizeof local, e);
            if (!rc && push(paths, n_paths, local))
                rc = fleet_fail(e, "OutOfMemory", "out of memory");
        } else {
            if (l.n == 0)
                rc = fleet_fail(e, "EmptyCatalog", "%s: no episode in its catalog (%s/_catalog/)", url,
                          prefix[0] ? prefix : "");
            for (int i = 0; i < l.n && !rc; i++) {
                rc = fetch_item(s3, bucket, &l.items[i], cache_dir, local, sizeof local, e);
                if (!rc && push(paths, n_paths, local))
                    rc = fleet_fail(e, "OutOfMemory", "out of memory");
            }
        }
        tp_bcat_listing_free(&l);
        if (rc) {
            for (int i = 0; i < *n_paths; i++)
                free((*paths)[i]);
            free(*paths);
            *paths = NULL;
            *n_paths = 0;
        }
        return rc;
    }
}
