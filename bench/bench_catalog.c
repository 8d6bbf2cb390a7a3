/* teleop-bench-catalog: the catalog index over a folder of N episodes
 * (docs/review.md, "Catalog").
 *
 *   teleop-bench-catalog [N] [--targets] [--runs R] [--dir PARENT]
 *
 * Makes N (default 10000) real small episodes in a temp folder under PARENT
 * (default $TMPDIR, else /tmp): one written with the episode writer (state
 * and action, 28 values at 50 Hz for 2 s, events), copied N times, each copy
 * given its own task, operator, outcome, start time, review keys, QA flags,
 * tags and a note with SQL (every file mtime then an hour old, as a
 * recording folder's are). Then, medians over R runs (default 3):
 *   - cold build: no index; tp_catalog_open reads every episode through the
 *     reader (target <= 60 s);
 *   - warm listing: tp_catalog_open (its refresh: one readdir, one stat per
 *     file) + tp_catalog_list of all N (target <= 1 s);
 *   - a filtered and searched listing (refresh included);
 *   - the refresh after one file changed (one re-read);
 * and the machine's floor on the same folder: readdir + stat of N files,
 * SQLite open + read meta + close of N files, tp_episode_open + close of N
 * files (what a cold build cannot go below on one core).
 * Page cache warm: the files were just written. --targets: exit 1 when a
 * target is missed. */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "teleop/catalog.h"
#include "teleop/episode.h"

#define MAX_RUNS 15

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "teleop-bench-catalog: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

/* dir/name into out (4200 bytes); a longer path is refused. */
static void join(char *out, const char *dir, const char *name)
{
    if (snprintf(out, 4200, "%s/%s", dir, name) >= 4200)
        die("path too long", dir);
}

static const char *const tasks[] = {
    "pick the red cube", "place the cube in the bin", "把杯子放到托盘上", "open the drawer",
    "fold the towel",    "stack three blocks",        "拿起红色方块",     "wipe the table",
};
static const char *const operators[] = {"alice", "bob", "李雷", "carol"};
static const char *const outcomes[] = {"completed", "completed", "completed", "stopped", "error", "interrupted"};
static const char *const tagsets[][3] = {
    {NULL}, {"good", NULL}, {"good", "demo", NULL}, {"retry", NULL}, {"collision", "retry", NULL}, {"训练", NULL},
};
static const char *const qa[] = {NULL, "", "", "jerky", "low_movement,jerky", "dropped_frames"};

static void write_template(const char *path)
{
    char err[512];
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    if (!w)
        die("cannot write the template episode", err);
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = 28, .units = "rad", .rate_hz = 50};
    tp_stream_desc ac = st;
    ac.name = "action";
    ac.kind = TP_STREAM_ACTION;
    int ids = tp_episode_writer_add_stream(w, &st), ida = tp_episode_writer_add_stream(w, &ac);
    const int64_t t0 = 1000000000LL;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)t0);
    tp_episode_writer_set_meta(w, "start_t_ns", buf);
    snprintf(buf, sizeof buf, "%lld", (long long)(t0 + 2000000000LL));
    tp_episode_writer_set_meta(w, "end_t_ns", buf);
    tp_episode_writer_set_meta(w, "wall_clock_offset_ns", "0");
    tp_episode_writer_set_meta(w, "task", "template");
    tp_episode_writer_set_meta(w, "operator", "template");
    if (ids < 1 || ida < 1 || tp_episode_writer_begin(w))
        die("cannot write the template episode", tp_episode_writer_error(w));
    float v[28] = {0};
    for (int k = 0; k < 100; k++) {
        for (int j = 0; j < 28; j++)
            v[j] = 0.01f * (float)(k + j);
        tp_episode_writer_sample(w, ids, k, t0 + k * 20000000LL, v, 28);
        tp_episode_writer_sample(w, ida, k, t0 + k * 20000000LL, v, 28);
    }
    tp_episode_writer_event(w, t0, "episode_start", "template");
    tp_episode_writer_event(w, t0 + 2000000000LL, "episode_end", "completed");
    if (tp_episode_writer_commit(w) || tp_episode_writer_finish(w, "completed"))
        die("cannot write the template episode", tp_episode_writer_error(w));
    tp_episode_writer_close(w);
}

static void copy_file(const void *data, size_t size, const char *to)
{
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd))
        die("cannot write", to);
}

/* Episode k's own meta, review keys, QA flags, tags and note. */
static void vary(sqlite3 *db, const char *path, int k)
{
    char sql[2048], *msg = NULL;
    const char *task = tasks[k % 8], *op = operators[k % 4], *outcome = outcomes[k % 6];
    const char *verdict = k % 5 == 0 ? NULL : k % 5 < 4 ? "success" : "failure";
    int n = snprintf(sql, sizeof sql,
                     "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; BEGIN;"
                     "UPDATE meta SET value = '%s #%d' WHERE key = 'task';"
                     "UPDATE meta SET value = '%s' WHERE key = 'operator';"
                     "UPDATE meta SET value = '%s' WHERE key = 'outcome';"
                     "UPDATE meta SET value = '%lld' WHERE key = 'wall_clock_offset_ns';"
                     "UPDATE meta SET value = '%lld' WHERE key = 'end_t_ns';",
                     task, k, op, outcome, 1700000000000000000LL + (long long)k * 60000000000LL,
                     1000000000LL + 1000000000LL * (1 + k % 50));
    if (verdict)
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      "INSERT INTO meta VALUES('review_verdict', '%s'), ('rating', '%d');", verdict, 1 + k % 5);
    if (qa[k % 6])
        n += snprintf(sql + n, sizeof sql - (size_t)n, "INSERT INTO meta VALUES('qa_flags', '%s');", qa[k % 6]);
    if (k % 97 == 0)
        n += snprintf(sql + n, sizeof sql - (size_t)n, "INSERT INTO meta VALUES('delete_marked', '1');");
    for (int t = 0; tagsets[k % 6][t]; t++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, "INSERT INTO tags VALUES('%s');", tagsets[k % 6][t]);
    if (k % 3 == 0)
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      "INSERT INTO notes(t_unix_ns, author, text) VALUES(1, 'lead', 'gripper slipped on try %d');",
                      k);
    snprintf(sql + n, sizeof sql - (size_t)n, "COMMIT;");
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(path, msg);
}

static void make_folder(const char *dir, int n)
{
    char tpl[4200], path[4200];
    join(tpl, dir, "../template.db");
    write_template(tpl);
    FILE *f = fopen(tpl, "rb");
    if (!f)
        die("cannot read", tpl);
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    rewind(f);
    char *data = malloc(size);
    if (!data || fread(data, 1, size, f) != size)
        die("cannot read", tpl);
    fclose(f);
    unlink(tpl);
    struct timespec old[2];
    clock_gettime(CLOCK_REALTIME, &old[0]);
    old[0].tv_sec -= 3600;
    old[1] = old[0];
    for (int k = 0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "episode-%05d.db", k);
        join(path, dir, name);
        copy_file(data, size, path);
        sqlite3 *db;
        if (sqlite3_open(path, &db) != SQLITE_OK)
            die("cannot open", path);
        vary(db, path, k);
        sqlite3_close(db);
        utimensat(AT_FDCWD, path, old, 0);
    }
    free(data);
    printf("folder: %d episodes of %zu bytes in %s\n", n, size, dir);
}

/* ---------- the floor ---------- */

static int list_db(const char *dir, char ***names)
{
    DIR *d = opendir(dir);
    if (!d)
        die("cannot read", dir);
    int n = 0, cap = 0;
    *names = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".db"))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            *names = realloc(*names, sizeof **names * (size_t)cap);
        }
        (*names)[n++] = strdup(de->d_name);
    }
    closedir(d);
    return n;
}

static double floor_stat(const char *dir)
{
    double t0 = now_s();
    DIR *d = opendir(dir);
    struct dirent *de;
    struct stat sb;
    int n = 0;
    while ((de = readdir(d)))
        n += fstatat(dirfd(d), de->d_name, &sb, 0) == 0;
    closedir(d);
    return n > 0 ? now_s() - t0 : -1;
}

static double floor_sqlite_meta(const char *dir, char **names, int n)
{
    double t0 = now_s();
    char path[4200];
    for (int i = 0; i < n; i++) {
        join(path, dir, names[i]);
        sqlite3 *db;
        sqlite3_stmt *st;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &st, NULL) != SQLITE_OK)
            die("cannot read meta", path);
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    return now_s() - t0;
}

static double floor_reader(const char *dir, char **names, int n)
{
    double t0 = now_s();
    char path[4200], err[512];
    for (int i = 0; i < n; i++) {
        join(path, dir, names[i]);
        tp_episode *ep = tp_episode_open(path, err, sizeof err);
        if (!ep)
            die("reader", err);
        tp_episode_close(ep);
    }
    return now_s() - t0;
}

/* ---------- the catalog ---------- */

static tp_catalog *open_catalog(const char *dir, tp_catalog_stats *st)
{
    char err[1024];
    const char *paths[] = {dir};
    tp_catalog *c = tp_catalog_open(paths, 1, err, sizeof err);
    if (!c)
        die("catalog", err);
    tp_catalog_last_refresh(c, st);
    return c;
}

static int list_count(tp_catalog *c, const tp_catalog_query *q)
{
    char err[1024];
    tp_catalog_listing l;
    if (tp_catalog_list(c, q, &l, err, sizeof err))
        die("catalog", err);
    int n = l.n;
    tp_catalog_listing_free(&l);
    return n;
}

static void remove_index(const char *dir)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char path[4200];
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, ".teleop-catalog.sqlite%s", suffixes[i]);
        join(path, dir, name);
        unlink(path);
    }
}

int main(int argc, char **argv)
{
    int n = 10000, runs = 3;
    bool targets = false;
    const char *parent = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--targets"))
            targets = true;
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            parent = argv[++i];
        else if (argv[i][0] != '-' && atoi(argv[i]) > 0)
            n = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: teleop-bench-catalog [N] [--targets] [--runs R] [--dir PARENT]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS)
        die("--runs is 1 to 15", NULL);
    char base[4200], dir[4200];
    join(base, parent, "teleop-bench-catalog-XXXXXX");
    if (!mkdtemp(base))
        die("cannot create a folder in", parent);
    join(dir, base, "episodes");
    if (mkdir(dir, 0755))
        die("cannot create", dir);
    double t0 = now_s();
    make_folder(dir, n);
    printf("made in %.1f s\n\n", now_s() - t0);

    char **names;
    int nfiles = list_db(dir, &names);
    double fs[MAX_RUNS], fm[MAX_RUNS], fr[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        fs[r] = floor_stat(dir);
        fm[r] = floor_sqlite_meta(dir, names, nfiles);
        fr[r] = floor_reader(dir, names, nfiles);
    }
    double floor_s = median(fs, runs), floor_m = median(fm, runs), floor_r = median(fr, runs);

    double cold[MAX_RUNS], warm[MAX_RUNS], warm_refresh[MAX_RUNS], filtered[MAX_RUNS], changed[MAX_RUNS];
    int warm_reread = 0, changed_reread = -1, nfiltered = 0;
    tp_catalog_stats st;
    for (int r = 0; r < runs; r++) {
        remove_index(dir);
        double a = now_s();
        tp_catalog *c = open_catalog(dir, &st);
        cold[r] = now_s() - a;
        tp_catalog_close(c);
        if (st.episodes != n)
            die("the cold build did not index every episode", NULL);
    }
    for (int r = 0; r < runs; r++) {
        double a = now_s();
        tp_catalog *c = open_catalog(dir, &st);
        tp_catalog_query all = {.include_deleted = true};
        int listed = list_count(c, &all);
        warm[r] = now_s() - a;
        tp_catalog_close(c);
        warm_refresh[r] = st.seconds;
        warm_reread += st.reindexed;
        if (listed != n)
            die("the warm listing lost episodes", NULL);
    }
    char err[1024];
    tp_catalog *c = open_catalog(dir, &st);
    for (int r = 0; r < runs; r++) {
        double a = now_s();
        if (tp_catalog_refresh(c, &st, err, sizeof err))
            die("catalog", err);
        tp_catalog_query q = {.text = "CUBE", .tag = "good", .min_rating = 2, .sort = TP_SORT_RATING,
                              .descending = true};
        nfiltered = list_count(c, &q);
        filtered[r] = now_s() - a;
    }
    for (int r = 0; r < runs; r++) {
        char path[4200];
        char name[32];
        snprintf(name, sizeof name, "episode-%05d.db", (r * 7919) % n);
        join(path, dir, name);
        sqlite3 *db;
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta VALUES('rating', '%d')", 1 + r % 5);
        if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            die("cannot change", path);
        sqlite3_close(db);
        struct timespec old[2];
        clock_gettime(CLOCK_REALTIME, &old[0]);
        old[0].tv_sec -= 60 + r; /* not "racy": re-read once, as after a review long ago */
        old[1] = old[0];
        utimensat(AT_FDCWD, path, old, 0);
        double a = now_s();
        if (tp_catalog_refresh(c, &st, err, sizeof err))
            die("catalog", err);
        changed[r] = now_s() - a;
        changed_reread = st.reindexed;
    }
    tp_catalog_close(c);

    double cold_m = median(cold, runs), warm_m = median(warm, runs);
    printf("floor (same folder, %d files):\n", nfiles);
    printf("  readdir + stat                      %9.1f ms\n", floor_s * 1e3);
    printf("  SQLite open + read meta + close     %9.1f ms\n", floor_m * 1e3);
    printf("  tp_episode_open + close (reader)    %9.1f ms\n", floor_r * 1e3);
    printf("catalog (median of %d runs):\n", runs);
    printf("  cold build (every episode read)     %9.1f ms   target <= 60000 ms  %s\n", cold_m * 1e3,
           cold_m <= 60 ? "ok" : "MISSED");
    printf("  warm: open + refresh + list all %d %9.1f ms   target <= 1000 ms   %s  (refresh %.1f ms, %d re-read)\n",
           n, warm_m * 1e3, warm_m <= 1 ? "ok" : "MISSED", median(warm_refresh, runs) * 1e3, warm_reread);
    printf("  refresh + filter + search           %9.1f ms   (%d listed: tag good, rating >= 2, 'cube')\n",
           median(filtered, runs) * 1e3, nfiltered);
    printf("  refresh, one file changed           %9.1f ms   (%d re-read)\n", median(changed, runs) * 1e3,
           changed_reread);

    for (int i = 0; i < nfiles; i++)
        free(names[i]);
    free(names);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "teleop-bench-catalog: could not remove %s\n", base);
    if (changed_reread != 1 || warm_reread != 0)
        die("the refresh re-read the wrong files", NULL);
    return targets && (cold_m > 60 || warm_m > 1) ? 1 : 0;
}
