/* teleop qa — compute and store the automatic QA flags of episodes
 * (include/teleop/qa.h, docs/qa.md). */
#include <dirent.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export/export_select.h"
#include "teleop/qa.h"

/* The episodes of path's folder: its peers for too_short / too_long. */
static int folder_episodes(const char *path, char ***out, int *n, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    char *args[1] = {dir};
    return tp_export_collect(args, 1, out, n, err, errlen);
}

static void free_paths(char **p, int n)
{
    for (int i = 0; i < n; i++)
        free(p[i]);
    free(p);
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* The figures behind each flag, for the one-line summary. */
static void figures(const tp_qa_report *r, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
#define ADD(...)                                                                                                   \
    do {                                                                                                           \
        int k = snprintf(out + len, outlen - len, "%s", len ? "; " : "");                                          \
        if (k > 0 && len + (size_t)k < outlen)                                                                     \
            len += (size_t)k;                                                                                      \
        k = snprintf(out + len, outlen - len, __VA_ARGS__);                                                        \
        if (k > 0 && len + (size_t)k < outlen)                                                                     \
            len += (size_t)k;                                                                                      \
    } while (0)
    if (r->flags & TP_QA_DROPPED_FRAMES)
        ADD("%lld frames dropped, %lld missed", (long long)r->frames_dropped, (long long)r->frames_missed);
    if (r->flags & TP_QA_SYNC_SKEW)
        ADD("max sync skew %.1f ms", r->max_sync_skew_ms);
    if (r->flags & TP_QA_HOLDS)
        ADD("%lld holds", (long long)r->holds);
    if (r->flags & TP_QA_SAFETY)
        ADD("%lld safety interventions", (long long)r->safety_interventions);
    if (r->flags & TP_QA_TRACKING_LOST)
        ADD("%lld tracking losses", (long long)r->tracking_lost);
    if (r->flags & TP_QA_DEADLINE_MISSES)
        ADD("%lld deadline misses", (long long)r->deadline_misses);
    if (r->flags & TP_QA_INTERRUPTED)
        ADD("outcome interrupted or error");
    if (r->flags & (TP_QA_TOO_SHORT | TP_QA_TOO_LONG)) {
        if (r->session_episodes > 0)
            ADD("%.1f s, median %.1f s of %d", r->duration_s, r->session_median_duration_s, r->session_episodes);
        else
            ADD("%.1f s", r->duration_s);
    }
    if (r->flags & TP_QA_LOW_MOVEMENT)
        ADD("moving %.0f %% of frames", r->movement * 100);
    if (r->flags & TP_QA_JERKY)
        ADD("jerk %.0f rad/s^3", r->jerk);
#undef ADD
}

int cmd_qa(int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool dry = false, json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': dry = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: teleop qa [--dry-run] [--json] EPISODE...|DIR...\n\n"
                   "Computes the automatic QA flags of finished episodes (dropped_frames, sync_skew, holds,\n"
                   "safety, tracking_lost, deadline_misses, interrupted, too_short, too_long, low_movement,\n"
                   "jerky; docs/qa.md) and stores them in each episode (meta qa_flags, qa_metrics). The\n"
                   "durations of the other episodes in the same folder are the distribution too_short and\n"
                   "too_long are judged against. Prints one line per episode: 'NAME: clean' or\n"
                   "'NAME: flag,flag (figures)'.\n"
                   "  --dry-run   compute and print, store nothing\n"
                   "  --json      one JSON array: per episode path, flags, metrics, stored\n"
                   "An episode being recorded (or unfinished, or unreadable) is reported and skipped;\n"
                   "the exit status is then 1.\n");
            return 0;
        default: return cli_usage_error("qa", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("qa", "missing EPISODE or DIR");
    char err[1024];
    char **paths = NULL;
    int n = 0;
    if (tp_export_collect(argv + optind, argc - optind, &paths, &n, err, sizeof err) != 0) {
        fprintf(stderr, "teleop qa: %s\n", err);
        return 1;
    }
    int failed = 0, printed = 0;
    if (json)
        printf("[");
    for (int i = 0; i < n; i++) {
        const char *slash = strrchr(paths[i], '/');
        const char *name = slash ? slash + 1 : paths[i];
        char **peers = NULL;
        int npeers = 0;
        tp_qa_report r;
        int rc = folder_episodes(paths[i], &peers, &npeers, err, sizeof err);
        if (rc == 0)
            rc = tp_qa_compute(paths[i], (const char *const *)peers, npeers, &r, err, sizeof err);
        free_paths(peers, npeers);
        bool stored = false;
        if (rc == 0 && !dry) {
            rc = tp_qa_store(paths[i], &r, err, sizeof err);
            stored = rc == 0;
        }
        if (rc != 0) {
            fprintf(stderr, "teleop qa: %s; skipped\n", err);
            failed++;
            continue;
        }
        char flags[256], metrics[1024];
        tp_qa_format_flags(r.flags, flags, sizeof flags);
        if (json) {
            tp_qa_format_metrics(&r, metrics, sizeof metrics);
            printf("%s\n {\"path\": ", printed++ ? "," : "");
            json_string(paths[i]);
            printf(", \"flags\": [");
            for (int b = 0, k = 0; b < TP_QA_FLAG_COUNT; b++)
                if (r.flags & (1u << b))
                    printf("%s\"%s\"", k++ ? ", " : "", tp_qa_flag_name(1u << b));
            printf("], \"metrics\": %s, \"stored\": %s}", metrics, stored ? "true" : "false");
        } else if (!r.flags) {
            printf("%s: clean\n", name);
        } else {
            char fig[1024];
            figures(&r, fig, sizeof fig);
            printf("%s: %s (%s)\n", name, flags, fig);
        }
    }
    if (json)
        printf("\n]\n");
    free_paths(paths, n);
    return failed ? 1 : 0;
}
