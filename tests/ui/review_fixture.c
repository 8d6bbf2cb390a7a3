/* Writes the review app tests' fixture folder: three finished episodes
 * (the playback fixture's synthetic recordings: embedded robot, 500 Hz
 * state/action, operator hands, pattern cameras) with known wall-clock
 * dates, tasks and operators (one in Chinese), review annotations and QA
 * flags, so the browser shows a fixed table. Usage: review_fixture DIR */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "playback_fixture.h"
#include "teleop/qa.h"
#include "teleop/review.h"

typedef struct spec {
    const char *name, *task, *op;
    long long wall_s; /* wall-clock start, Unix seconds */
    int cameras;
    double seconds;
    tp_verdict verdict;
    int rating;
    const char *tags[3];
    const char *note;
    int qa; /* -1: never computed */
} spec;

static const spec specs[] = {
    {"episode-20261201-090000-001.db", "pick the red cube", "alice", 1796115600LL, 2, 3.0, TP_VERDICT_SUCCESS, 4,
     {"demo", "grasp", NULL}, "clean grasp", 0},
    {"episode-20261201-091500-002.db", "抓取 杯子 (cup)", "王伟", 1796116500LL, 2, 2.5, TP_VERDICT_FAILURE, 2,
     {"slip", NULL, NULL}, "杯子滑落", TP_QA_DROPPED_FRAMES | TP_QA_JERKY},
    {"episode-20261201-093000-003.db", "open the drawer", "bob", 1796117400LL, 1, 2.0, TP_VERDICT_NONE, 0,
     {NULL, NULL, NULL}, NULL, -1},
};

static int set_meta(const char *path, const char *key, const char *value)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: review_fixture DIR\n");
        return 2;
    }
    mkdir(argv[1], 0755);
    char err[512];
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const spec *s = &specs[i];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], s->name);
        pb_fixture f = {.cameras = s->cameras, .width = 160, .height = 120, .fps = 30, .gop = 15,
                        .seconds = s->seconds, .noise = 2, .codec = "h264"};
        if (pb_fixture_write(path, &f, err, sizeof err)) {
            fprintf(stderr, "review_fixture: %s\n", err);
            return 1;
        }
        char v[64];
        /* the date the browser shows: wall clock at start_t_ns */
        snprintf(v, sizeof v, "%lld", s->wall_s * 1000000000LL - PB_FIXTURE_T0_NS);
        if (set_meta(path, "wall_clock_offset_ns", v) || set_meta(path, "task", s->task) ||
            set_meta(path, "operator", s->op)) {
            fprintf(stderr, "review_fixture: %s: cannot set meta\n", path);
            return 1;
        }
        tp_review r;
        if (tp_review_read(path, &r, err, sizeof err)) {
            fprintf(stderr, "review_fixture: %s\n", err);
            return 1;
        }
        r.verdict = s->verdict;
        r.rating = s->rating;
        for (int t = 0; t < 3 && s->tags[t]; t++)
            snprintf(r.tags[r.n_tags++], TP_REVIEW_TAG_LEN, "%s", s->tags[t]);
        if (s->note) {
            memset(&r.notes[0], 0, sizeof r.notes[0]);
            snprintf(r.notes[0].text, sizeof r.notes[0].text, "%s", s->note);
            r.n_notes = 1;
        }
        if (tp_review_write(path, &r, "fixture", err, sizeof err)) {
            fprintf(stderr, "review_fixture: %s\n", err);
            return 1;
        }
        if (s->qa >= 0) {
            tp_qa_report q = {.flags = (unsigned)s->qa, .duration_s = s->seconds};
            if (tp_qa_store(path, &q, err, sizeof err)) {
                fprintf(stderr, "review_fixture: %s\n", err);
                return 1;
            }
        }
        printf("%s\n", path);
    }
    return 0;
}
