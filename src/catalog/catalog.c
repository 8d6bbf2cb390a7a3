/* teleop — the episode catalog: folders and files to index, the refresh
 * (one readdir and one stat per *.db; only new, changed, live and gone files
 * touch the index) and the queries, in SQL over every folder's index
 * attached to one connection. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog_internal.h"
#include "teleop/catalog.h"

/* Rows read from episodes are written in transactions of at most this many,
 * so the write lock is held briefly and another process's refresh of the
 * same index waits little. */
#define WRITE_BATCH 128

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static bool ends_with_db(const char *name)
{
    size_t l = strlen(name);
    return l >= 4 && !strcmp(name + l - 3, ".db");
}

char *catalog_path_of(const source *s, const char *name)
{
    char *p = NULL;
    if (!s->dir[0])
        return strdup(name);
    return asprintf(&p, "%s/%s", s->dir, name) < 0 ? NULL : p;
}

/* ---------- attaching the indexes to the query connection ---------- */

static int attach(tp_catalog *c, int i, char *err, size_t errlen)
{
    source *s = &c->srcs[i];
    char sql[64];
    snprintf(sql, sizeof sql, "ATTACH ?1 AS s%d", i);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->q, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->store.path, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(c->q);
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot attach the catalog index %s: %s", s->dir[0] ? s->dir : ".", s->store.path,
                 sqlite3_errmsg(c->q));
        return -1;
    }
    s->attached = true;
    return 0;
}

static void detach(tp_catalog *c, int i)
{
    char sql[32];
    snprintf(sql, sizeof sql, "DETACH s%d", i);
    if (c->srcs[i].attached)
        sqlite3_exec(c->q, sql, NULL, NULL, NULL);
    c->srcs[i].attached = false;
}

/* temp.catalog: every listed episode of every source, with its source;
 * temp.picked: the files named one by one. */
static int create_views(tp_catalog *c, char *err, size_t errlen)
{
    size_t cap = 256 + (size_t)c->nsrcs * 256;
    char *sql = malloc(cap);
    if (!sql) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t len = (size_t)snprintf(sql, cap,
                                  "DROP VIEW IF EXISTS temp.catalog;"
                                  "CREATE TABLE IF NOT EXISTS temp.picked(src INTEGER, name TEXT,"
                                  " PRIMARY KEY(src, name)) WITHOUT ROWID;"
                                  "CREATE TEMP VIEW catalog AS ");
    for (int i = 0; i < c->nsrcs; i++)
        len += (size_t)snprintf(sql + len, cap - len,
                                "%sSELECT %d AS src, * FROM s%d.entries WHERE episode = 1 AND (%s name IN"
                                " (SELECT name FROM temp.picked WHERE src = %d))",
                                i ? " UNION ALL " : "", i, i, c->srcs[i].whole ? "substr(name, -3) = '.db' OR" : "",
                                i);
    int rc = sqlite3_exec(c->q, sql, NULL, NULL, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "catalog: cannot create the listing view: %s", sqlite3_errmsg(c->q));
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_exec(c->q, "DELETE FROM temp.picked", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->q, "INSERT OR IGNORE INTO temp.picked(src, name) VALUES(?, ?)", -1, &st, NULL) !=
            SQLITE_OK) {
        snprintf(err, errlen, "catalog: %s", sqlite3_errmsg(c->q));
        return -1;
    }
    for (int i = 0; i < c->nsrcs; i++)
        for (int k = 0; k < c->srcs[i].nnames; k++) {
            sqlite3_bind_int(st, 1, i);
            sqlite3_bind_text(st, 2, c->srcs[i].names[k], -1, SQLITE_STATIC);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
    sqlite3_finalize(st);
    return 0;
}

int catalog_rebuild_source(tp_catalog *c, int i, char *err, size_t errlen)
{
    detach(c, i);
    if (catalog_store_rebuild(&c->srcs[i].store, err, errlen) || attach(c, i, err, errlen))
        return -1;
    return create_views(c, err, errlen);
}

/* ---------- refresh ---------- */

typedef struct known {
    char *name;
    int64_t size, mtime_ns, inode;
    bool episode, recheck, seen;
} known;

typedef struct present {
    char *name;
    struct stat sb;
} present;

static int cmp_known(const void *a, const void *b)
{
    return strcmp(((const known *)a)->name, ((const known *)b)->name);
}

static void free_known(known *k, int n)
{
    for (int i = 0; i < n; i++)
        free(k[i].name);
    free(k);
}

static void free_present(present *p, int n)
{
    for (int i = 0; i < n; i++)
        free(p[i].name);
    free(p);
}

/* The index's rows (name order). SQLite result code. */
static int load_known(sqlite3 *db, known **out, int *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT name, size, mtime_ns, inode, episode, recheck FROM entries ORDER BY name",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    int cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            known *nk = realloc(*out, sizeof *nk * (size_t)cap);
            if (!nk) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = nk;
        }
        known *k = &(*out)[*n];
        k->name = strdup((const char *)sqlite3_column_text(st, 0));
        if (!k->name) {
            rc = SQLITE_NOMEM;
            break;
        }
        k->size = sqlite3_column_int64(st, 1);
        k->mtime_ns = sqlite3_column_int64(st, 2);
        k->inode = sqlite3_column_int64(st, 3);
        k->episode = sqlite3_column_int(st, 4);
        k->recheck = sqlite3_column_int(st, 5);
        k->seen = false;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free_known(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return SQLITE_OK;
}

static int push_present(present **p, int *n, int *cap, const char *name, const struct stat *sb)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        present *np = realloc(*p, sizeof *np * (size_t)*cap);
        if (!np)
            return -1;
        *p = np;
    }
    if (!((*p)[*n].name = strdup(name)))
        return -1;
    (*p)[*n].sb = *sb;
    (*n)++;
    return 0;
}

/* The files of the source as they are now: its folder's *.db (one readdir,
 * one stat each) and the files named one by one. */
static int scan(const source *s, present **out, int *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    int cap = 0;
    const char *dir = s->dir[0] ? s->dir : ".";
    if (s->whole) {
        DIR *d = opendir(dir);
        if (!d) {
            snprintf(err, errlen, "%s: cannot read the folder: %s", dir, strerror(errno));
            return -1;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            struct stat sb;
            if (!ends_with_db(de->d_name) || fstatat(dirfd(d), de->d_name, &sb, 0) != 0)
                continue; /* gone since readdir: as if not there */
            if (push_present(out, n, &cap, de->d_name, &sb)) {
                closedir(d);
                goto oom;
            }
        }
        closedir(d);
    }
    for (int i = 0; i < s->nnames; i++) {
        if (s->whole && ends_with_db(s->names[i]))
            continue; /* the readdir had it */
        char *path = catalog_path_of(s, s->names[i]);
        struct stat sb;
        if (!path)
            goto oom;
        int ok = stat(path, &sb) == 0;
        free(path);
        if (ok && push_present(out, n, &cap, s->names[i], &sb))
            goto oom;
    }
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", dir);
    free_present(*out, *n);
    *out = NULL;
    return -1;
}

static bool same_stat(const known *k, const struct stat *sb)
{
    return k->size == sb->st_size && k->mtime_ns == catalog_mtime_ns(sb) && k->inode == (int64_t)sb->st_ino;
}

#define INSERT_SQL                                                                                                \
    "INSERT OR REPLACE INTO entries(name, size, mtime_ns, inode, episode, recheck, live, start_unix_ns,"         \
    " duration_s, task, operator, outcome, verdict, rating, tags, tags_json, qa_flags, nqa, notes, delete_marked," \
    " trim_in_ns, trim_out_ns, skip_reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"  \
    " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Writes rows in one transaction. SQLite result code. */
static int write_rows(sqlite3 *db, catalog_row *rows, int n)
{
    if (n == 0)
        return SQLITE_OK;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, INSERT_SQL, -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < n; i++) {
        const catalog_row *r = &rows[i];
        bind_text(st, 1, r->name);
        sqlite3_bind_int64(st, 2, r->size);
        sqlite3_bind_int64(st, 3, r->mtime_ns);
        sqlite3_bind_int64(st, 4, r->inode);
        sqlite3_bind_int(st, 5, r->episode);
        sqlite3_bind_int(st, 6, r->recheck);
        sqlite3_bind_int(st, 7, r->live);
        sqlite3_bind_int64(st, 8, r->start_unix_ns);
        sqlite3_bind_double(st, 9, r->duration_s);
        bind_text(st, 10, r->task ? r->task : "");
        bind_text(st, 11, r->operator_name ? r->operator_name : "");
        bind_text(st, 12, r->outcome ? r->outcome : "");
        bind_text(st, 13, r->verdict ? r->verdict : "");
        sqlite3_bind_int(st, 14, r->rating);
        bind_text(st, 15, r->tags ? r->tags : "");
        bind_text(st, 16, r->tags_json ? r->tags_json : "[]");
        bind_text(st, 17, r->qa_flags);
        sqlite3_bind_int(st, 18, r->episode ? r->nqa : -1);
        bind_text(st, 19, r->notes ? r->notes : "");
        sqlite3_bind_int(st, 20, r->delete_marked);
        sqlite3_bind_int64(st, 21, r->trim_in_ns);
        sqlite3_bind_int64(st, 22, r->trim_out_ns);
        bind_text(st, 23, r->skip_reason);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int keep = sqlite3_errcode(db);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        rc = keep ? keep : rc;
    }
    return rc;
}

static int delete_names(sqlite3 *db, char **names, int n)
{
    if (n == 0)
        return SQLITE_OK;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "DELETE FROM entries WHERE name = ?", -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Another process (a second window) may have indexed the file since we
 * loaded the rows: then it need not be read again. Its row's episode flag
 * (0 or 1) when current, else -1. */
static int current_elsewhere(sqlite3 *db, const char *name, const struct stat *sb)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT size, mtime_ns, inode, recheck, episode FROM entries WHERE name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int cur = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        known k = {.size = sqlite3_column_int64(st, 0), .mtime_ns = sqlite3_column_int64(st, 1),
                   .inode = sqlite3_column_int64(st, 2)};
        if (same_stat(&k, sb) && !sqlite3_column_int(st, 3))
            cur = sqlite3_column_int(st, 4) != 0;
    }
    sqlite3_finalize(st);
    return cur;
}

/* Reads the files in stale and writes their rows in batches. SQLite result
 * code (SQLITE_NOMEM out of memory). */
static int reindex(source *s, present **stale, int nstale, tp_catalog_stats *st)
{
    catalog_row rows[WRITE_BATCH];
    int nrows = 0, rc = SQLITE_OK;
    for (int i = 0; i < nstale && rc == SQLITE_OK; i++) {
        int episode = current_elsewhere(s->store.db, stale[i]->name, &stale[i]->sb);
        if (episode >= 0) {
            *(episode ? &st->episodes : &st->skipped) += 1;
            continue;
        }
        char *path = catalog_path_of(s, stale[i]->name);
        if (!path || catalog_row_read(path, stale[i]->name, &stale[i]->sb, &rows[nrows])) {
            free(path);
            rc = SQLITE_NOMEM;
            break;
        }
        free(path);
        st->reindexed++;
        *(rows[nrows].episode ? &st->episodes : &st->skipped) += 1;
        if (++nrows == WRITE_BATCH) {
            rc = write_rows(s->store.db, rows, nrows);
            for (int k = 0; k < nrows; k++)
                catalog_row_clear(&rows[k]);
            nrows = 0;
        }
    }
    if (rc == SQLITE_OK && nrows)
        rc = write_rows(s->store.db, rows, nrows);
    for (int k = 0; k < nrows; k++)
        catalog_row_clear(&rows[k]);
    return rc;
}

static bool named(const source *s, const char *name)
{
    for (int i = 0; i < s->nnames; i++)
        if (!strcmp(s->names[i], name))
            return true;
    return false;
}

/* One source: 0, 1 when its index was found damaged (the caller rebuilds
 * and calls again), -1 with err. */
static int refresh_source(source *s, tp_catalog_stats *st, char *err, size_t errlen)
{
    known *k = NULL;
    present *p = NULL, **stale = NULL;
    char **gone = NULL;
    int nk = 0, np = 0, nstale = 0, ngone = 0, ret = -1;
    int rc = load_known(s->store.db, &k, &nk);
    if (catalog_damaged(rc))
        return 1;
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: catalog index %s unreadable: %s", s->real, s->store.path,
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->store.db));
        return -1;
    }
    if (scan(s, &p, &np, err, errlen))
        goto done;
    stale = malloc(sizeof *stale * (size_t)(np ? np : 1));
    gone = malloc(sizeof *gone * (size_t)(nk ? nk : 1));
    if (!stale || !gone) {
        snprintf(err, errlen, "%s: out of memory", s->real);
        goto done;
    }
    for (int i = 0; i < np; i++) {
        known key = {.name = p[i].name};
        known *hit = nk ? bsearch(&key, k, (size_t)nk, sizeof *k, cmp_known) : NULL;
        if (hit)
            hit->seen = true;
        if (hit && !hit->recheck && same_stat(hit, &p[i].sb)) {
            if (hit->episode)
                st->episodes++;
            else
                st->skipped++;
        } else
            stale[nstale++] = &p[i];
    }
    /* Gone: a *.db of a whole folder no longer there, or a file named one
     * by one no longer there. Rows of other files (named by another
     * process) are that process's. */
    for (int i = 0; i < nk; i++)
        if (!k[i].seen && ((s->whole && ends_with_db(k[i].name)) || named(s, k[i].name)))
            gone[ngone++] = k[i].name;
    rc = delete_names(s->store.db, gone, ngone);
    if (rc == SQLITE_OK) {
        st->removed += ngone;
        rc = reindex(s, stale, nstale, st);
    }
    if (catalog_damaged(rc)) {
        ret = 1;
        goto done;
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot update the catalog index %s: %s", s->real, s->store.path,
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->store.db));
        goto done;
    }
    ret = 0;
done:
    free_known(k, nk);
    free_present(p, np);
    free(stale);
    free(gone);
    return ret;
}

int tp_catalog_refresh(tp_catalog *c, tp_catalog_stats *stats, char *err, size_t errlen)
{
    double t0 = now_s();
    tp_catalog_stats st = {0};
    for (int i = 0; i < c->nsrcs; i++) {
        tp_catalog_stats one = {0};
        int r = refresh_source(&c->srcs[i], &one, err, errlen);
        if (r == 1) { /* damaged: start this folder's index afresh */
            one = (tp_catalog_stats){0};
            if (catalog_rebuild_source(c, i, err, errlen))
                return -1;
            r = refresh_source(&c->srcs[i], &one, err, errlen);
            if (r == 1)
                snprintf(err, errlen, "%s: the catalog index %s is damaged again after a rebuild", c->srcs[i].real,
                         c->srcs[i].store.path);
        }
        if (r)
            return -1;
        st.episodes += one.episodes;
        st.reindexed += one.reindexed;
        st.removed += one.removed;
        st.skipped += one.skipped;
    }
    st.seconds = now_s() - t0;
    c->last = st;
    if (stats)
        *stats = st;
    return 0;
}

void tp_catalog_last_refresh(const tp_catalog *c, tp_catalog_stats *stats) { *stats = c->last; }

/* ---------- open, close, update ---------- */

static int add_name(source *s, const char *name)
{
    if (named(s, name))
        return 0;
    char **nn = realloc(s->names, sizeof *nn * (size_t)(s->nnames + 1));
    if (!nn)
        return -1;
    s->names = nn;
    if (!(nn[s->nnames] = strdup(name)))
        return -1;
    s->nnames++;
    return 0;
}

/* The source for folder dir (real path real), added when new. */
static source *source_for(tp_catalog *c, const char *dir, const char *real)
{
    for (int i = 0; i < c->nsrcs; i++)
        if (!strcmp(c->srcs[i].real, real))
            return &c->srcs[i];
    source *ns = realloc(c->srcs, sizeof *ns * (size_t)(c->nsrcs + 1));
    if (!ns)
        return NULL;
    c->srcs = ns;
    source *s = &ns[c->nsrcs];
    memset(s, 0, sizeof *s);
    s->dir = strdup(dir);
    s->real = strdup(real);
    if (!s->dir || !s->real) {
        free(s->dir);
        free(s->real);
        return NULL;
    }
    c->nsrcs++;
    return s;
}

/* A path: a folder, or a file (then its folder and name). */
static int add_path(tp_catalog *c, const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *copy = strdup(path), *copy2 = strdup(path);
    char *dir = NULL, *name = NULL, *real = NULL;
    int ret = -1;
    if (!copy || !copy2)
        goto oom;
    if (S_ISDIR(sb.st_mode)) {
        dir = strdup(path);
    } else {
        name = strdup(basename(copy));
        dir = strchr(path, '/') ? strdup(dirname(copy2)) : strdup("");
    }
    if (!dir || (!S_ISDIR(sb.st_mode) && !name))
        goto oom;
    real = realpath(dir[0] ? dir : ".", NULL);
    if (!real) {
        snprintf(err, errlen, "%s: %s", dir[0] ? dir : ".", strerror(errno));
        goto done;
    }
    source *s = source_for(c, dir, real);
    if (!s)
        goto oom;
    if (name ? add_name(s, name) : 0)
        goto oom;
    if (!name)
        s->whole = true;
    ret = 0;
    goto done;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
done:
    free(copy);
    free(copy2);
    free(dir);
    free(name);
    free(real);
    return ret;
}

tp_catalog *tp_catalog_open(const char *const *paths, int npaths, char *err, size_t errlen)
{
    static const char *const fallback[] = {"recordings"};
    if (npaths <= 0) {
        paths = fallback;
        npaths = 1;
    }
    tp_catalog *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "catalog: out of memory");
        return NULL;
    }
    for (int i = 0; i < npaths; i++)
        if (add_path(c, paths[i], err, errlen))
            goto fail;
    if (sqlite3_open_v2(":memory:", &c->q, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "catalog: cannot open SQLite: out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(c->q, 10000);
    int limit = sqlite3_limit(c->q, SQLITE_LIMIT_ATTACHED, -1);
    if (c->nsrcs > limit) {
        snprintf(err, errlen, "catalog: episodes from %d folders; at most %d at once", c->nsrcs, limit);
        goto fail;
    }
    for (int i = 0; i < c->nsrcs; i++) {
        source *s = &c->srcs[i];
        if (catalog_store_open(&s->store, s->dir[0] ? s->dir : ".", s->real, err, errlen) || attach(c, i, err, errlen))
            goto fail;
    }
    if (create_views(c, err, errlen) || tp_catalog_refresh(c, NULL, err, errlen))
        goto fail;
    return c;
fail:
    tp_catalog_close(c);
    return NULL;
}

void tp_catalog_close(tp_catalog *c)
{
    if (!c)
        return;
    sqlite3_close(c->q);
    for (int i = 0; i < c->nsrcs; i++) {
        source *s = &c->srcs[i];
        catalog_store_close(&s->store);
        for (int k = 0; k < s->nnames; k++)
            free(s->names[k]);
        free(s->names);
        free(s->dir);
        free(s->real);
    }
    free(c->srcs);
    free(c);
}

int tp_catalog_update(tp_catalog *c, const char *episode_path, char *err, size_t errlen)
{
    char *copy = strdup(episode_path), *copy2 = strdup(episode_path);
    char *real = copy ? realpath(strchr(episode_path, '/') ? dirname(copy) : ".", NULL) : NULL;
    const char *name = copy2 ? basename(copy2) : NULL;
    int ret = -1;
    source *s = NULL;
    for (int i = 0; real && i < c->nsrcs; i++)
        if (!strcmp(c->srcs[i].real, real))
            s = &c->srcs[i];
    struct stat sb;
    if (!real || !name || !s) {
        snprintf(err, errlen, "%s: not in a folder of this catalog", episode_path);
        goto done;
    }
    if (stat(episode_path, &sb) != 0) {
        /* Gone (moved to the trash by review): drop its row. */
        char *names[] = {(char *)name};
        int rc = delete_names(s->store.db, names, 1);
        if (rc != SQLITE_OK)
            snprintf(err, errlen, "%s: cannot update the catalog index: %s", episode_path, sqlite3_errmsg(s->store.db));
        ret = rc == SQLITE_OK ? 0 : -1;
        goto done;
    }
    catalog_row row;
    if (catalog_row_read(episode_path, name, &sb, &row)) {
        snprintf(err, errlen, "%s: out of memory", episode_path);
        goto done;
    }
    int rc = write_rows(s->store.db, &row, 1);
    catalog_row_clear(&row);
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "%s: cannot update the catalog index: %s", episode_path, sqlite3_errmsg(s->store.db));
    ret = rc == SQLITE_OK ? 0 : -1;
done:
    free(copy);
    free(copy2);
    free(real);
    return ret;
}
