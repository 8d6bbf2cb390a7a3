/* teleop — the catalog index file: where it lives, opening it, and
 * replacing it when it is missing, damaged or of another layout (it is a
 * cache of the episodes, so a rebuild loses nothing). */
#include <errno.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_internal.h"
#include "catalog_schema.h"

/* Several processes may share an index (two review windows, a CLI listing
 * while a review writes): writers wait for each other this long. */
#define BUSY_TIMEOUT_MS 10000

bool catalog_damaged(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

static char *join(const char *a, const char *b)
{
    char *out = NULL;
    return asprintf(&out, "%s/%s", a, b) < 0 ? NULL : out;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0700) && errno != EEXIST ? -1 : 0;
}

/* $XDG_CACHE_HOME/teleop, else ~/.cache/teleop (created), or NULL. */
static char *cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    char *base = NULL;
    if (xdg && xdg[0] == '/')
        base = strdup(xdg);
    else {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        base = home ? join(home, ".cache") : NULL;
    }
    char *dir = base ? join(base, "teleop") : NULL;
    free(base);
    if (dir && mkdir_p(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* catalog-<first 32 hex digits of SHA-256(real path)>.sqlite */
static char *cache_name(const char *real)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_Digest(real, strlen(real), md, &len, EVP_sha256(), NULL))
        return NULL;
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    char *out = NULL;
    return asprintf(&out, "catalog-%s.sqlite", hex) < 0 ? NULL : out;
}

static void remove_index_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char buf[4200];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", path, suffixes[i]);
        unlink(buf);
    }
}

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* What the open file is: 1 our current layout, 0 empty (new), 2 anything
 * else (other layout, other application, damaged, another folder's cache
 * index); or -1 with err (a real error: busy beyond the timeout, I/O). */
static int classify(catalog_store *s, char *err, size_t errlen)
{
    int app = 0, ver = 0, tables = 0;
    int rc = pragma_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = pragma_int(s->db, "PRAGMA user_version", &ver);
    if (rc == SQLITE_OK)
        rc = pragma_int(s->db, "SELECT count(*) FROM sqlite_schema", &tables);
    if (catalog_damaged(rc))
        return 2;
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: catalog index %s unreadable: %s", s->real, s->path, sqlite3_errmsg(s->db));
        return -1;
    }
    if (app == 0 && ver == 0 && tables == 0)
        return 0;
    if (app != TP_CATALOG_APPLICATION_ID || ver != TP_CATALOG_LAYOUT)
        return 2;
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(s->db, "SELECT value FROM folder WHERE key = 'path'", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return catalog_damaged(rc) || (rc & 0xff) == SQLITE_ERROR ? 2 : -1;
    rc = sqlite3_step(st);
    /* In the folder itself the index follows the folder when it is moved;
     * in the cache only the folder it was made for may use it. */
    int kind = rc == SQLITE_ROW && (!s->in_cache || !strcmp((const char *)sqlite3_column_text(st, 0), s->real)) ? 1
               : rc == SQLITE_ROW || rc == SQLITE_DONE || catalog_damaged(rc)                                      ? 2
                                                                                                                  : -1;
    if (kind < 0)
        snprintf(err, errlen, "%s: catalog index %s unreadable: %s", s->real, s->path, sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return kind;
}

static int create_schema(catalog_store *s)
{
    /* IMMEDIATE: two processes creating the same new index one after the
     * other; the second finds it made. */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int tables = 0;
    if (pragma_int(s->db, "SELECT count(*) FROM sqlite_schema", &tables) != SQLITE_OK)
        goto fail;
    if (tables == 0) {
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 TP_CATALOG_APPLICATION_ID, TP_CATALOG_LAYOUT);
        sqlite3_stmt *st;
        if (sqlite3_exec(s->db, TP_CATALOG_SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(s->db, "INSERT INTO folder(key, value) VALUES('path', ?)", -1, &st, NULL) != SQLITE_OK)
            goto fail;
        sqlite3_bind_text(st, 1, s->real, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Opens the index at s->path; with fresh, removes whatever is there first.
 * 0, or -1 with err. */
static int open_at(catalog_store *s, bool fresh, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (fresh || attempt)
            remove_index_files(s->path);
        int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
            int kind = classify(s, err, errlen);
            if (kind < 0) {
                sqlite3_close(s->db);
                s->db = NULL;
                return -1;
            }
            /* WAL: listings read while another process refreshes. A cache
             * needs no fsync at each commit (NORMAL keeps it consistent). */
            if (kind == 0 && create_schema(s) == 0)
                kind = 1;
            if (kind == 1 &&
                sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", NULL, NULL, NULL) ==
                    SQLITE_OK)
                return 0;
        }
        snprintf(err, errlen, "%s: cannot open the catalog index %s: %s", s->real, s->path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        s->db = NULL;
    }
    return -1;
}

static bool usable_in_folder(const char *dir, const char *index)
{
    if (access(dir, W_OK) != 0)
        return false;
    return access(index, F_OK) != 0 || access(index, R_OK | W_OK) == 0;
}

int catalog_store_open(catalog_store *s, const char *dir, const char *real, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (!(s->real = strdup(real)) || !(s->path = join(dir, TP_CATALOG_INDEX_NAME))) {
        snprintf(err, errlen, "%s: out of memory", dir);
        catalog_store_close(s);
        return -1;
    }
    if (usable_in_folder(dir, s->path) && open_at(s, false, err, errlen) == 0)
        return 0;
    char *cache = cache_dir(), *name = cache_name(real);
    free(s->path);
    s->path = cache && name ? join(cache, name) : NULL;
    free(cache);
    free(name);
    if (!s->path) {
        snprintf(err, errlen, "%s: folder not writable and no cache folder ($XDG_CACHE_HOME or ~/.cache) for its catalog index",
                 dir);
        catalog_store_close(s);
        return -1;
    }
    s->in_cache = true;
    if (open_at(s, false, err, errlen) == 0)
        return 0;
    catalog_store_close(s);
    return -1;
}

int catalog_store_rebuild(catalog_store *s, char *err, size_t errlen)
{
    sqlite3_close(s->db);
    s->db = NULL;
    return open_at(s, true, err, errlen);
}

void catalog_store_close(catalog_store *s)
{
    sqlite3_close(s->db);
    free(s->path);
    free(s->real);
    memset(s, 0, sizeof *s);
}
