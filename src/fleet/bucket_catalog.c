/* teleop — the bucket catalog (include/teleop/bucket_catalog.h,
 * docs/upload.md "Bucket catalog"): entry objects per episode, snapshots,
 * the merging read and compaction. */
#include "teleop/bucket_catalog.h"
#include "fleet_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define ENTRIES_DIR "_catalog/entries/"
#define SNAPSHOT_PREFIX "_catalog/snapshot-"
#define MAX_ENTRY_BYTES (1 << 20)
#define MAX_SNAPSHOT_BYTES ((size_t)1 << 31)
#define READERS 8

int fleet_fail(tp_s3_error *e, const char *code, const char *fmt, ...)
{
    if (!e)
        return -1;
    e->http_status = 0;
    snprintf(e->code, sizeof e->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

bool tp_bcat_station_valid(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > TP_BCAT_STATION_MAX || s[0] == '.' || s[0] == '-')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

void tp_bcat_default_station(char *out, size_t len)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = 0;
    host[sizeof host - 1] = 0;
    size_t k = 0;
    for (const char *s = host; *s && k < TP_BCAT_STATION_MAX && k + 1 < len; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (k == 0 && (c == '.' || c == '-'))
            continue;
        out[k++] = ok ? c : '-';
    }
    out[k] = 0;
    if (!k || !tp_bcat_station_valid(out))
        snprintf(out, len, "station");
}

static const char *base_name(const char *key)
{
    const char *s = strrchr(key, '/');
    return s ? s + 1 : key;
}

int tp_bcat_entry_key(char *out, size_t len, const char *prefix, const char *station, const char *episode_key)
{
    const char *name = base_name(episode_key);
    size_t n = strlen(name);
    if (n > 3 && !strcmp(name + n - 3, ".db"))
        n -= 3;
    int w = snprintf(out, len, "%s%s" ENTRIES_DIR "%s/%.*s.json", prefix, *prefix ? "/" : "", station, (int)n,
                     name);
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

int tp_bcat_sha256_file(const char *path, char out[65], int64_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 20);
    int rc = -1;
    int64_t total = 0;
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf, 1 << 20);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        total += r;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    if (size)
        *size = total;
    rc = 0;
out:
    free(buf);
    EVP_MD_CTX_free(ctx);
    close(fd);
    return rc;
}

/* ---- entries as JSON ---- */

static void add_i64(cJSON *o, const char *name, int64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, v);
    cJSON_AddStringToObject(o, name, t);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The stored entry: the local catalog's JSON fields (teleop catalog
 * --json) plus the bucket's own. */
static char *entry_json(const tp_catalog_entry *ce, const char *bucket, const char *station, const char *key,
                        const char *sha256, const char *etag, int64_t size)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char path[1200];
    snprintf(path, sizeof path, "s3://%s/%s", bucket, key);
    cJSON_AddNumberToObject(o, "catalog_version", TP_BCAT_VERSION);
    cJSON_AddStringToObject(o, "station", station);
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddStringToObject(o, "name", base_name(key));
    add_i64(o, "start_unix_ns", ce->start_unix_ns);
    cJSON_AddNumberToObject(o, "duration_s", ce->duration_s);
    cJSON_AddStringToObject(o, "task", ce->task);
    cJSON_AddStringToObject(o, "operator", ce->operator_name);
    cJSON_AddStringToObject(o, "outcome", ce->outcome);
    cJSON_AddStringToObject(o, "verdict", ce->verdict);
    cJSON_AddNumberToObject(o, "rating", ce->rating);
    cJSON_AddItemToObject(o, "tags", tp_catalog_list_json(ce->tags));
    cJSON_AddItemToObject(o, "qa_flags", ce->qa_flags ? tp_catalog_list_json(ce->qa_flags) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "notes", ce->notes);
    cJSON_AddBoolToObject(o, "delete_marked", ce->delete_marked);
    cJSON_AddNumberToObject(o, "size_bytes", (double)size);
    add_i64(o, "trim_in_ns", ce->trim_in_ns);
    add_i64(o, "trim_out_ns", ce->trim_out_ns);
    cJSON_AddStringToObject(o, "sha256", sha256);
    cJSON_AddStringToObject(o, "etag", etag ? etag : "");
    add_i64(o, "uploaded_unix_ms", now_ms());
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

int tp_bcat_put_episode(tp_s3 *s3, const char *bucket, const char *prefix, const char *station,
                        const char *path, const char *episode_key, const char *sha256, const char *etag,
                        tp_s3_error *e)
{
    if (!tp_bcat_station_valid(station))
        return fleet_fail(e, "InvalidStation", "station name '%s': letters, digits, '.', '_', '-' (at most 64)", station);
    char ekey[1100], err[1024];
    if (tp_bcat_entry_key(ekey, sizeof ekey, prefix, station, episode_key))
        return fleet_fail(e, "KeyTooLong", "%s: catalog entry key too long", episode_key);
    tp_catalog_entry ce;
    if (tp_catalog_read_episode(path, &ce, err, sizeof err))
        return fleet_fail(e, "InvalidEpisode", "%s", err);
    char *text = entry_json(&ce, bucket, station, episode_key, sha256, etag, ce.size_bytes);
    tp_catalog_entry_clear(&ce);
    if (!text)
        return fleet_fail(e, "OutOfMemory", "%s: out of memory", path);
    tp_s3_put_options po = {.content_type = "application/json"};
    int rc = tp_s3_put(s3, bucket, ekey, text, strlen(text), &po, NULL, e);
    free(text);
    return rc == 0 ? 0 : -1;
}

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jnum(const cJSON *o, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        return false;
    *out = v->valuedouble;
    return true;
}

static bool ji64(const cJSON *o, const char *name, int64_t *out)
{
    const char *s = jstr(o, name);
    if (!s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

/* "a,b" from ["a", "b"]; NULL for anything else */
static char *join_list(const cJSON *a)
{
    if (!cJSON_IsArray(a))
        return NULL;
    size_t len = 1;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        if (!cJSON_IsString(it))
            return NULL;
        len += strlen(it->valuestring) + 1;
    }
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    *p = 0;
    cJSON_ArrayForEach(it, a) {
        p += sprintf(p, "%s%s", p == s ? "" : ",", it->valuestring);
    }
    return s;
}

/* An entry object into a listing entry and an item; false when it is not
 * one (why in why). */
static bool parse_entry(const cJSON *o, tp_catalog_entry *ce, tp_bcat_item *it, const char *why_key, char *why,
                        size_t whylen)
{
    memset(ce, 0, sizeof *ce);
    double version = 0, dur = 0, rating = 0, size = 0;
    const char *station = jstr(o, "station"), *key = jstr(o, "key"), *path = jstr(o, "path"),
               *sha = jstr(o, "sha256"), *etag = jstr(o, "etag");
    int64_t start = 0, tin = 0, tout = 0;
    const cJSON *del = cJSON_GetObjectItemCaseSensitive(o, "delete_marked");
    const cJSON *qa = cJSON_GetObjectItemCaseSensitive(o, "qa_flags");
    if (!cJSON_IsObject(o) || !jnum(o, "catalog_version", &version) || version != TP_BCAT_VERSION || !station ||
        !tp_bcat_station_valid(station) || !key || !path || !sha || strlen(sha) != 64 || !etag ||
        !ji64(o, "start_unix_ns", &start) || !jnum(o, "duration_s", &dur) || !jnum(o, "rating", &rating) ||
        !jnum(o, "size_bytes", &size) || !jstr(o, "task") || !jstr(o, "operator") || !jstr(o, "outcome") ||
        !jstr(o, "verdict") || !jstr(o, "notes") || !cJSON_IsBool(del) || !(cJSON_IsNull(qa) || cJSON_IsArray(qa))) {
        snprintf(why, whylen, "%s: not a catalog entry of version %d (a field missing or of another type)", why_key,
                 TP_BCAT_VERSION);
        return false;
    }
    ji64(o, "trim_in_ns", &tin);
    ji64(o, "trim_out_ns", &tout);
    ce->path = strdup(path);
    /* station/NAME: the same name from two stations stays told apart */
    size_t nl = strlen(station) + strlen(base_name(key)) + 2;
    char *nm = malloc(nl);
    if (nm)
        snprintf(nm, nl, "%s/%s", station, base_name(key));
    ce->name = nm;
    ce->start_unix_ns = start;
    ce->duration_s = dur;
    ce->task = strdup(jstr(o, "task"));
    ce->operator_name = strdup(jstr(o, "operator"));
    ce->outcome = strdup(jstr(o, "outcome"));
    ce->verdict = strdup(jstr(o, "verdict"));
    ce->rating = (int)rating;
    ce->tags = join_list(cJSON_GetObjectItemCaseSensitive(o, "tags"));
    ce->qa_flags = cJSON_IsNull(qa) ? NULL : join_list(qa);
    ce->notes = strdup(jstr(o, "notes"));
    ce->delete_marked = cJSON_IsTrue(del);
    ce->size_bytes = (int64_t)size;
    ce->trim_in_ns = tin;
    ce->trim_out_ns = tout;
    snprintf(it->station, sizeof it->station, "%s", station);
    snprintf(it->key, sizeof it->key, "%s", key);
    snprintf(it->sha256, sizeof it->sha256, "%s", sha);
    snprintf(it->etag, sizeof it->etag, "%s", etag);
    it->json = cJSON_PrintUnformatted(o);
    if (!ce->path || !ce->name || !ce->task || !ce->operator_name || !ce->outcome || !ce->verdict || !ce->tags ||
        (!cJSON_IsNull(qa) && !ce->qa_flags) || !ce->notes || !it->json) {
        tp_catalog_entry_clear(ce);
        free(it->json);
        it->json = NULL;
        snprintf(why, whylen, "%s: out of memory, or a tag that is not text", why_key);
        return false;
    }
    return true;
}

/* ---- reading ---- */

typedef struct fetch_job {
    tp_s3 *s3;
    const char *bucket;
    char **keys;
    void **data;
    size_t *len;
    int *status; /* 0 read, 1 gone, -1 error */
    tp_s3_error *errs;
    int n;
    atomic_int next;
} fetch_job;

static void *fetch_main(void *arg)
{
    fetch_job *j = arg;
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n)
            return NULL;
        j->status[i] = tp_s3_get(j->s3, j->bucket, j->keys[i], MAX_ENTRY_BYTES, &j->data[i], &j->len[i], NULL,
                                 &j->errs[i]);
    }
}

/* GETs keys[0..n) with a few requests in flight. 0, or -1 (the first
 * error in e). Objects gone meanwhile get status 1. */
static int fetch_all(tp_s3 *s3, const char *bucket, char **keys, int n, void **data, size_t *len, int *status,
                     tp_s3_error *e)
{
    if (n == 0)
        return 0;
    fetch_job j = {.s3 = s3, .bucket = bucket, .keys = keys, .data = data, .len = len, .status = status, .n = n};
    j.errs = calloc((size_t)n, sizeof *j.errs);
    if (!j.errs)
        return fleet_fail(e, "OutOfMemory", "catalog: out of memory");
    atomic_init(&j.next, 0);
    pthread_t th[READERS];
    int nth = 0;
    for (; nth < READERS && nth < n; nth++)
        if (pthread_create(&th[nth], NULL, fetch_main, &j) != 0)
            break;
    if (nth == 0)
        fetch_main(&j);
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    int rc = 0;
    for (int i = 0; i < n; i++)
        if (status[i] < 0) {
            if (e)
                *e = j.errs[i];
            rc = -1;
            break;
        }
    free(j.errs);
    return rc;
}

typedef struct snap_entry {
    const char *entry_key, *etag;
    const cJSON *entry;
} snap_entry;

static int cmp_snap(const void *a, const void *b)
{
    return strcmp(((const snap_entry *)a)->entry_key, ((const snap_entry *)b)->entry_key);
}

static int cmp_items(const void *a, const void *b)
{
    return strcmp(((const tp_bcat_item *)a)->key, ((const tp_bcat_item *)b)->key);
}

void tp_bcat_listing_free(tp_bcat_listing *l)
{
    if (!l)
        return;
    tp_catalog_listing_free(&l->list);
    for (int i = 0; i < l->n; i++)
        free(l->items[i].json);
    free(l->items);
    memset(l, 0, sizeof *l);
}

const tp_bcat_item *tp_bcat_find(const tp_bcat_listing *l, const char *path)
{
    /* items are in key order, whatever the list's order became */
    const char *p = path;
    if (!strncmp(p, "s3://", 5)) {
        p = strchr(p + 5, '/');
        if (!p)
            return NULL;
        p++;
    }
    tp_bcat_item probe;
    snprintf(probe.key, sizeof probe.key, "%s", p);
    return l->n ? bsearch(&probe, l->items, (size_t)l->n, sizeof *l->items, cmp_items) : NULL;
}

static bool add_item(tp_bcat_listing *out, int *cap, const cJSON *o, const char *entry_key, const char *entry_etag,
                     const char *why_key)
{
    if (out->n == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        tp_bcat_item *ni = realloc(out->items, sizeof *ni * (size_t)nc);
        tp_catalog_entry *ne = realloc(out->list.entries, sizeof *ne * (size_t)nc);
        if (ni)
            out->items = ni;
        if (ne)
            out->list.entries = ne;
        if (!ni || !ne)
            return false;
        *cap = nc;
    }
    tp_bcat_item *it = &out->items[out->n];
    memset(it, 0, sizeof *it);
    char why[1400];
    if (!parse_entry(o, &out->list.entries[out->n], it, why_key, why, sizeof why)) {
        fprintf(stderr, "teleop catalog: %s (skipped)\n", why);
        out->skipped++;
        return true;
    }
    snprintf(it->entry_key, sizeof it->entry_key, "%s", entry_key);
    snprintf(it->entry_etag, sizeof it->entry_etag, "%s", entry_etag);
    out->n++;
    out->list.n = out->n;
    return true;
}

int tp_bcat_read(tp_s3 *s3, const char *bucket, const char *prefix, tp_bcat_listing *out, tp_s3_error *e)
{
    memset(out, 0, sizeof *out);
    char cat[1100], entries_pfx[1100];
    snprintf(cat, sizeof cat, "%s%s_catalog/", prefix, *prefix ? "/" : "");
    snprintf(entries_pfx, sizeof entries_pfx, "%s%s" ENTRIES_DIR, prefix, *prefix ? "/" : "");
    size_t snap_len = strlen(cat) + strlen("snapshot-");
    tp_s3_listing ls;
    if (tp_s3_list(s3, bucket, cat, NULL, &ls, e))
        return -1;
    /* the newest snapshot: names sort by their UTC time */
    const char *newest = NULL;
    for (size_t i = 0; i < ls.count; i++) {
        const char *k = ls.objects[i].key;
        size_t kl = strlen(k);
        if (!strncmp(k, cat, strlen(cat)) && !strncmp(k + strlen(cat), "snapshot-", 9) && kl > snap_len + 5 &&
            !strcmp(k + kl - 5, ".json") && (!newest || strcmp(k, newest) > 0))
            newest = k;
    }
    int rc = -1, cap = 0;
    cJSON *snap = NULL;
    snap_entry *se = NULL;
    int nse = 0;
    char **keys = NULL;
    const char **etags = NULL;
    void **data = NULL;
    size_t *lens = NULL;
    int *status = NULL, nkeys = 0;
    if (newest) {
        void *buf = NULL;
        size_t len = 0;
        int g = tp_s3_get(s3, bucket, newest, MAX_SNAPSHOT_BYTES, &buf, &len, NULL, e);
        if (g < 0)
            goto out;
        if (g == 0) {
            snap = cJSON_ParseWithLength(buf, len);
            free(buf);
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(snap, "entries");
            if (!cJSON_IsArray(arr))
                /* every entry object is still there: read them all */
                fprintf(stderr, "teleop catalog: s3://%s/%s: not a catalog snapshot (no entries array); ignored\n",
                        bucket, newest);
            se = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *se);
            if (!se) {
                fleet_fail(e, "OutOfMemory", "catalog: out of memory");
                goto out;
            }
            const cJSON *it, *list = cJSON_IsArray(arr) ? arr : NULL;
            cJSON_ArrayForEach(it, list) {
                const char *ek = jstr(it, "entry_key"), *et = jstr(it, "entry_etag");
                const cJSON *en = cJSON_GetObjectItemCaseSensitive(it, "entry");
                if (ek && et && cJSON_IsObject(en) && !strncmp(ek, entries_pfx, strlen(entries_pfx)))
                    se[nse++] = (snap_entry){ek, et, en};
            }
            qsort(se, (size_t)nse, sizeof *se, cmp_snap);
            if (cJSON_IsArray(arr))
                snprintf(out->snapshot_key, sizeof out->snapshot_key, "%s", newest);
        }
    }
    /* entry objects: from the snapshot when it holds the same ETag */
    keys = calloc(ls.count + 1, sizeof *keys);
    etags = calloc(ls.count + 1, sizeof *etags);
    data = calloc(ls.count + 1, sizeof *data);
    lens = calloc(ls.count + 1, sizeof *lens);
    status = calloc(ls.count + 1, sizeof *status);
    bool *used = calloc((size_t)nse + 1, sizeof *used);
    if (!keys || !etags || !data || !lens || !status || !used) {
        free(used);
        fleet_fail(e, "OutOfMemory", "catalog: out of memory");
        goto out;
    }
    for (size_t i = 0; i < ls.count; i++) {
        const tp_s3_object *ob = &ls.objects[i];
        size_t kl = strlen(ob->key);
        if (strncmp(ob->key, entries_pfx, strlen(entries_pfx)) || kl < 5 || strcmp(ob->key + kl - 5, ".json"))
            continue;
        snap_entry probe = {.entry_key = ob->key};
        snap_entry *hit = nse ? bsearch(&probe, se, (size_t)nse, sizeof *se, cmp_snap) : NULL;
        if (hit && !strcmp(hit->etag, ob->etag)) {
            used[hit - se] = true;
            if (!add_item(out, &cap, hit->entry, ob->key, ob->etag, ob->key)) {
                free(used);
                fleet_fail(e, "OutOfMemory", "catalog: out of memory");
                goto out;
            }
            out->from_snapshot++;
            continue;
        }
        if (hit)
            used[hit - se] = true; /* changed since: read again */
        etags[nkeys] = ob->etag;
        keys[nkeys++] = ob->key;
    }
    /* the snapshot's entries whose object is gone stay listed */
    for (int i = 0; i < nse; i++)
        if (!used[i]) {
            if (!add_item(out, &cap, se[i].entry, se[i].entry_key, se[i].etag, se[i].entry_key)) {
                free(used);
                fleet_fail(e, "OutOfMemory", "catalog: out of memory");
                goto out;
            }
            out->from_snapshot++;
        }
    free(used);
    if (fetch_all(s3, bucket, keys, nkeys, data, lens, status, e))
        goto out;
    for (int i = 0; i < nkeys; i++) {
        if (status[i] != 0)
            continue; /* deleted between the listing and the read */
        cJSON *o = cJSON_ParseWithLength(data[i], lens[i]);
        char why_key[1200];
        snprintf(why_key, sizeof why_key, "s3://%s/%s", bucket, keys[i]);
        bool ok = add_item(out, &cap, o, keys[i], etags[i], why_key);
        cJSON_Delete(o);
        if (!ok) {
            fleet_fail(e, "OutOfMemory", "catalog: out of memory");
            goto out;
        }
        out->fetched++;
    }
    if (out->n > 1)
        qsort(out->items, (size_t)out->n, sizeof *out->items, cmp_items);
    rc = 0;
out:
    if (data)
        for (int i = 0; i < nkeys; i++)
            free(data[i]);
    free(keys);
    free(etags);
    free(data);
    free(lens);
    free(status);
    free(se);
    cJSON_Delete(snap);
    tp_s3_listing_free(&ls);
    if (rc)
        tp_bcat_listing_free(out);
    return rc;
}

/* ---- compaction ---- */

int tp_bcat_conditional_writes(tp_s3 *s3, const char *bucket, const char *prefix, const char *station,
                               tp_s3_error *e)
{
    unsigned char rnd[8] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        int64_t t = now_ms();
        memcpy(rnd, &t, sizeof rnd);
    }
    char key[1200];
    snprintf(key, sizeof key, "%s%s_catalog/probe/%s-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, *prefix ? "/" : "",
             station, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    tp_s3_put_options po = {.content_type = "text/plain", .if_none_match = true};
    int first = tp_s3_put(s3, bucket, key, "1", 1, &po, NULL, e);
    if (first != 0) {
        if (first == 1)
            fleet_fail(e, "PreconditionFailed", "s3://%s/%s: a new key was refused as existing", bucket, key);
        return -1;
    }
    int second = tp_s3_put(s3, bucket, key, "2", 1, &po, NULL, e);
    tp_s3_error ignored;
    tp_s3_delete(s3, bucket, key, &ignored);
    if (second < 0)
        return -1;
    return second == 1; /* refused: honoured; stored again: ignored */
}

int tp_bcat_compact(tp_s3 *s3, const char *bucket, const char *prefix, const char *station, char *key_out,
                    size_t key_len, int *entries, tp_s3_error *e)
{
    if (!tp_bcat_station_valid(station))
        return fleet_fail(e, "InvalidStation", "station name '%s': letters, digits, '.', '_', '-' (at most 64)", station);
    int conditional = tp_bcat_conditional_writes(s3, bucket, prefix, station, e);
    if (conditional < 0)
        return -1;
    tp_bcat_listing l;
    if (tp_bcat_read(s3, bucket, prefix, &l, e))
        return -1;
    int64_t t = now_ms();
    time_t sec = (time_t)(t / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char key[1200];
    snprintf(key, sizeof key, "%s%s" SNAPSHOT_PREFIX "%04d%02d%02dT%02d%02d%02d%03dZ-%s.json", prefix,
             *prefix ? "/" : "", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(t % 1000), station);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "catalog_version", TP_BCAT_VERSION);
    cJSON_AddStringToObject(o, "station", station);
    add_i64(o, "created_unix_ms", t);
    cJSON_AddStringToObject(o, "base", l.snapshot_key);
    cJSON *arr = cJSON_AddArrayToObject(o, "entries");
    bool oom = !o || !arr;
    for (int i = 0; i < l.n && !oom; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON *entry = cJSON_Parse(l.items[i].json);
        oom = !s || !entry;
        cJSON_AddStringToObject(s, "entry_key", l.items[i].entry_key);
        cJSON_AddStringToObject(s, "entry_etag", l.items[i].entry_etag);
        cJSON_AddItemToObject(s, "entry", entry);
        cJSON_AddItemToArray(arr, s);
    }
    char *text = oom ? NULL : cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int n = l.n;
    tp_bcat_listing_free(&l);
    if (!text)
        return fleet_fail(e, "OutOfMemory", "catalog: out of memory");
    tp_s3_put_options po = {.content_type = "application/json", .if_none_match = conditional == 1};
    int rc = tp_s3_put(s3, bucket, key, text, strlen(text), &po, NULL, e);
    free(text);
    if (rc == 1)
        return fleet_fail(e, "PreconditionFailed", "s3://%s/%s: exists already (another compaction of station %s)", bucket,
                    key, station);
    if (rc)
        return -1;
    if (key_out)
        snprintf(key_out, key_len, "%s", key);
    if (entries)
        *entries = n;
    return 0;
}
