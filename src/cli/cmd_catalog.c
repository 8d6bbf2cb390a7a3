/* teleop catalog — list recorded episodes from the catalog index: sort,
 * filter, search, the tag list. The printing takes a listing whatever made
 * it, so other sources (issue 13: s3://) reuse it. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "teleop/catalog.h"

static const char *const sort_names[] = {
    [TP_SORT_DATE] = "date",       [TP_SORT_TASK] = "task",       [TP_SORT_OPERATOR] = "operator",
    [TP_SORT_DURATION] = "duration", [TP_SORT_OUTCOME] = "outcome", [TP_SORT_VERDICT] = "verdict",
    [TP_SORT_RATING] = "rating",   [TP_SORT_TAGS] = "tags",       [TP_SORT_QA] = "qa",
    [TP_SORT_NAME] = "name",
};

int catalog_query_option(int opt, const char *arg, tp_catalog_query *q)
{
    switch (opt) {
    case CATALOG_OPT_SORT: {
        int k = -1;
        for (int i = 0; i < (int)(sizeof sort_names / sizeof sort_names[0]); i++)
            if (!strcmp(arg, sort_names[i]))
                k = i;
        if (k < 0)
            return cli_usage_error("catalog", "unknown sort key '%s'", arg);
        q->sort = (tp_catalog_sort)k;
        return 1;
    }
    case CATALOG_OPT_DESC: q->descending = true; return 1;
    case CATALOG_OPT_SEARCH: q->text = arg; return 1;
    case CATALOG_OPT_OUTCOME: q->outcome = arg; return 1;
    case CATALOG_OPT_VERDICT:
        if (strcmp(arg, "success") && strcmp(arg, "failure") && strcmp(arg, "none"))
            return cli_usage_error("catalog", "--verdict is success, failure or none, not '%s'", arg);
        q->verdict = arg;
        return 1;
    case CATALOG_OPT_OPERATOR: q->operator_name = arg; return 1;
    case CATALOG_OPT_TAG: q->tag = arg; return 1;
    case CATALOG_OPT_QA: q->qa_flag = arg; return 1;
    case CATALOG_OPT_RATING: {
        char *end;
        long r = strtol(arg, &end, 10);
        if (!*arg || *end || r < 1 || r > 5)
            return cli_usage_error("catalog", "--min-rating is 1 to 5, not '%s'", arg);
        q->min_rating = (int)r;
        return 1;
    }
    case CATALOG_OPT_DELETED: q->include_deleted = true; return 1;
    default: return 0;
    }
}

static void format_date(int64_t unix_ns, char *out, size_t len)
{
    time_t t = (time_t)(unix_ns / 1000000000LL);
    struct tm tm;
    if (unix_ns <= 0 || !localtime_r(&t, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, len, "-");
}

static void format_duration(double s, char *out, size_t len)
{
    if (s >= 3600)
        snprintf(out, len, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60) % 60, (int)s % 60);
    else
        snprintf(out, len, "%d:%04.1f", (int)(s / 60), s - 60 * (int)(s / 60));
}

/* Characters (not bytes) of UTF-8 text, for column padding. */
static int text_width(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void cell(FILE *out, const char *s, int width)
{
    fputs(s, out);
    for (int pad = width - text_width(s); pad > 0; pad--)
        fputc(' ', out);
    fputs("  ", out);
}

/* The table: date, name, duration, outcome, verdict, rating, tags, QA
 * flags, task (last: free text of any width). */
void catalog_print_table(FILE *out, const tp_catalog_listing *l)
{
    int wname = 4, wtags = 4, wqa = 2;
    for (int i = 0; i < l->n; i++) {
        const tp_catalog_entry *e = &l->entries[i];
        wname = text_width(e->name) > wname ? text_width(e->name) : wname;
        wtags = text_width(e->tags) > wtags ? text_width(e->tags) : wtags;
        int q = e->qa_flags ? text_width(e->qa_flags) : 1;
        wqa = q > wqa ? q : wqa;
    }
    cell(out, "DATE", 19);
    cell(out, "NAME", wname);
    cell(out, "DURATION", 9);
    cell(out, "OUTCOME", 11);
    cell(out, "VERDICT", 7);
    cell(out, "RATING", 6);
    cell(out, "TAGS", wtags);
    cell(out, "QA", wqa);
    fputs("TASK\n", out);
    for (int i = 0; i < l->n; i++) {
        const tp_catalog_entry *e = &l->entries[i];
        char date[32], dur[32], rating[8];
        format_date(e->start_unix_ns, date, sizeof date);
        format_duration(e->duration_s, dur, sizeof dur);
        snprintf(rating, sizeof rating, e->rating ? "%d/5" : "-", e->rating);
        cell(out, date, 19);
        cell(out, e->name, wname);
        fprintf(out, "%9s  ", dur);
        cell(out, e->live ? "recording" : e->delete_marked ? "(deleted)" : e->outcome[0] ? e->outcome : "-", 11);
        cell(out, e->verdict[0] ? e->verdict : "-", 7);
        cell(out, rating, 6);
        cell(out, e->tags[0] ? e->tags : "-", wtags);
        /* "-": never checked; "ok": checked and clean */
        cell(out, !e->qa_flags ? "-" : e->qa_flags[0] ? e->qa_flags : "ok", wqa);
        /* One line per episode: a task with newlines is shown on one. */
        for (const char *p = e->task; *p; p++)
            fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
        fputc('\n', out);
    }
}

/* One JSON object per line, every field of the entry. 0, or -1 out of
 * memory. */
int catalog_print_json(FILE *out, const tp_catalog_listing *l)
{
    for (int i = 0; i < l->n; i++) {
        const tp_catalog_entry *e = &l->entries[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return -1;
        cJSON_AddStringToObject(o, "path", e->path);
        cJSON_AddStringToObject(o, "name", e->name);
        /* int64 nanoseconds exceed a double's 53 bits: as strings, like meta. */
        char ns[32];
        snprintf(ns, sizeof ns, "%lld", (long long)e->start_unix_ns);
        cJSON_AddStringToObject(o, "start_unix_ns", ns);
        cJSON_AddNumberToObject(o, "duration_s", e->duration_s);
        cJSON_AddStringToObject(o, "task", e->task);
        cJSON_AddStringToObject(o, "operator", e->operator_name);
        cJSON_AddStringToObject(o, "outcome", e->outcome);
        cJSON_AddStringToObject(o, "verdict", e->verdict);
        cJSON_AddNumberToObject(o, "rating", e->rating);
        cJSON_AddItemToObject(o, "tags", tp_catalog_list_json(e->tags));
        cJSON_AddItemToObject(o, "qa_flags", e->qa_flags ? tp_catalog_list_json(e->qa_flags) : cJSON_CreateNull());
        cJSON_AddStringToObject(o, "notes", e->notes);
        cJSON_AddBoolToObject(o, "live", e->live);
        cJSON_AddBoolToObject(o, "delete_marked", e->delete_marked);
        cJSON_AddNumberToObject(o, "size_bytes", (double)e->size_bytes);
        snprintf(ns, sizeof ns, "%lld", (long long)e->trim_in_ns);
        cJSON_AddStringToObject(o, "trim_in_ns", ns);
        snprintf(ns, sizeof ns, "%lld", (long long)e->trim_out_ns);
        cJSON_AddStringToObject(o, "trim_out_ns", ns);
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!text)
            return -1;
        fprintf(out, "%s\n", text);
        free(text);
    }
    return 0;
}

static int print_tags(tp_catalog *cat, bool json)
{
    char **names, err[1024];
    int *counts, n;
    if (tp_catalog_tags(cat, &names, &counts, &n, err, sizeof err)) {
        fprintf(stderr, "teleop catalog: %s\n", err);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "tag", names[i]);
            cJSON_AddNumberToObject(o, "count", counts[i]);
            char *text = cJSON_PrintUnformatted(o);
            printf("%s\n", text ? text : "{}");
            free(text);
            cJSON_Delete(o);
        } else
            printf("%6d  %s\n", counts[i], names[i]);
        free(names[i]);
    }
    free(names);
    free(counts);
    return 0;
}

static void help(void)
{
    printf("usage: teleop catalog s3://BUCKET/PREFIX [...]   (a bucket's catalog: --help with it)\n"
           "usage: teleop catalog [DIR|EPISODE...] [--sort KEY] [--desc] [--search TEXT] [--outcome X]\n"
           "                      [--verdict X] [--operator NAME] [--tag X] [--qa-flag X] [--min-rating N]\n"
           "                      [--include-deleted] [--json] [--tags] [--stats]\n\n"
           "Lists episodes of the folders (their *.db) and files given (default: recordings) from the\n"
           "catalog index DIR/.teleop-catalog.sqlite (under $XDG_CACHE_HOME/teleop or ~/.cache/teleop\n"
           "when DIR is not writable), refreshed first: new and changed episodes are read, gone ones\n"
           "dropped, episodes being recorded re-read. Files that are not episodes are skipped.\n\n"
           "  --sort KEY        date (default), task, operator, duration, outcome, verdict, rating,\n"
           "                    tags, qa (number of QA flags), name; ties by name\n"
           "  --desc            descending\n"
           "  --search TEXT     substring of task, notes or file name (ASCII case-insensitive)\n"
           "  --outcome X       completed, stopped, error, interrupted ('' while recording)\n"
           "  --verdict X       success, failure, none (not judged)\n"
           "  --operator NAME   recorded by NAME\n"
           "  --tag X           has tag X\n"
           "  --qa-flag X       has QA flag X; none: checked and clean; unchecked: never checked\n"
           "  --min-rating N    rating N (1-5) or more\n"
           "  --include-deleted list episodes marked for deletion too (hidden by default)\n"
           "  --json            one JSON object per episode (per tag with --tags)\n"
           "  --tags            the tags used in these episodes, with counts\n"
           "  --stats           one line on stderr: the refresh's episodes, re-read, removed, skipped, seconds\n\n"
           "Table: date (local), name, duration (m:ss.s), outcome ('recording' while recorded),\n"
           "verdict, rating, tags, QA flags ('-' never checked, 'ok' clean), task.\n");
}

int cmd_catalog(int argc, char **argv)
{
    enum { OPT_TAGS = CATALOG_OPT_NEXT };
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        CATALOG_QUERY_LONG_OPTIONS,
        {"tags", no_argument, NULL, OPT_TAGS},
        {NULL, 0, NULL, 0},
    };
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "s3://", 5))
            return cmd_catalog_s3(argc, argv); /* a bucket's catalog (cmd_catalog_s3.c) */
    tp_catalog_query q = {.sort = TP_SORT_DATE};
    bool json = false, tags = false, stats = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return 0;
        case CATALOG_OPT_JSON: json = true; break;
        case CATALOG_OPT_STATS: stats = true; break;
        case OPT_TAGS: tags = true; break;
        case ':': return cli_usage_error("catalog", "option '%s' needs a value", argv[optind - 1]);
        default: {
            int r = catalog_query_option(c, optarg, &q);
            if (r == 2)
                return 2;
            if (r == 0)
                return cli_usage_error("catalog", "unknown option '%s'", argv[optind - 1]);
        }
        }
    }
    char err[1024];
    tp_catalog *cat = tp_catalog_open((const char *const *)argv + optind, argc - optind, err, sizeof err);
    if (!cat) {
        fprintf(stderr, "teleop catalog: %s\n", err);
        return 1;
    }
    int status = 0;
    if (stats) {
        tp_catalog_stats st;
        tp_catalog_last_refresh(cat, &st);
        fprintf(stderr, "catalog: %d episodes, %d re-read, %d removed, %d skipped, %.3f s\n", st.episodes,
                    st.reindexed, st.removed, st.skipped, st.seconds);
    }
    if (tags)
        status = print_tags(cat, json);
    else {
        tp_catalog_listing l;
        if (tp_catalog_list(cat, &q, &l, err, sizeof err)) {
            fprintf(stderr, "teleop catalog: %s\n", err);
            status = 1;
        } else {
            if (json ? catalog_print_json(stdout, &l) : (catalog_print_table(stdout, &l), 0))
                status = 1;
            tp_catalog_listing_free(&l);
        }
    }
    tp_catalog_close(cat);
    return status;
}
