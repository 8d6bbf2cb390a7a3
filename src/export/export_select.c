/* teleop — episode selection for the exports (see export_select.h). */
#include "export_select.h"

#include "teleop/qa.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int tp_export_parse_date(const char *s, bool until, int64_t *out)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    bool date_only = false;
    if (!end || *end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%Y-%m-%d", &tm);
        if (!end || *end)
            return -1;
        date_only = true;
    }
    time_t t = timegm(&tm);
    if (date_only && until)
        t += 86400; /* the whole day */
    *out = (int64_t)t * 1000000000LL - (date_only && until ? 1 : 0);
    return 0;
}

static bool in_list(const char *list, const char *word)
{
    size_t l = strlen(word);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == l && !strncmp(p, word, n))
            return true;
        p += n + (c ? 1 : 0);
    }
    return false;
}

bool tp_export_selected(const tp_export_selection *s, const tp_export_episode *m)
{
    if (s->outcome && !in_list(s->outcome, m->outcome))
        return false;
    if (s->task && !strstr(m->task, s->task))
        return false;
    if (s->operator_name && strcmp(m->operator_name, s->operator_name))
        return false;
    if (s->have_since && m->start_unix_ns < s->since_ns)
        return false;
    if (s->have_until && m->start_unix_ns > s->until_ns)
        return false;
    if (s->min_duration > 0 && m->duration_s < s->min_duration)
        return false;
    if (s->max_duration > 0 && m->duration_s > s->max_duration)
        return false;
    if (m->delete_marked && !s->include_deleted)
        return false;
    if (s->verdict && strcmp(m->verdict, s->verdict))
        return false;
    if (s->min_rating > 0 && m->rating < s->min_rating)
        return false;
    if ((s->qa_clean || s->qa_with) && !m->has_qa)
        return false;
    if (s->qa_clean && m->qa_flags != 0)
        return false;
    if ((m->qa_flags & s->qa_with) != s->qa_with || (m->qa_flags & s->qa_without) != 0)
        return false;
    for (int t = 0; t < s->n_tags; t++) {
        bool has = false;
        for (int k = 0; k < m->n_tags; k++)
            if (!strcmp(m->tags[k], s->tags[t]))
                has = true;
        if (!has)
            return false;
    }
    return true;
}

int tp_export_select_option(tp_export_selection *s, int code, const char *arg, char *err, size_t errlen)
{
    unsigned f;
    char why[128];
    switch (code) {
    case TP_SEL_OPT_QA_CLEAN: s->qa_clean = true; return 1;
    case TP_SEL_OPT_INCLUDE_DELETED: s->include_deleted = true; return 1;
    case TP_SEL_OPT_QA_FLAG:
    case TP_SEL_OPT_NO_QA_FLAG:
        if (!*arg || strchr(arg, ',') || tp_qa_parse_flags(arg, &f, why, sizeof why) != 0) {
            snprintf(err, errlen, "--%s: '%s' is not a QA flag (docs/qa.md)",
                     code == TP_SEL_OPT_QA_FLAG ? "qa-flag" : "no-qa-flag", arg);
            return -1;
        }
        *(code == TP_SEL_OPT_QA_FLAG ? &s->qa_with : &s->qa_without) |= f;
        return 1;
    case TP_SEL_OPT_VERDICT:
        if (strcmp(arg, "success") && strcmp(arg, "failure")) {
            snprintf(err, errlen, "--verdict: '%s' is not success or failure", arg);
            return -1;
        }
        s->verdict = arg;
        return 1;
    case TP_SEL_OPT_MIN_RATING:
        if (strlen(arg) != 1 || arg[0] < '1' || arg[0] > '5') {
            snprintf(err, errlen, "--min-rating: '%s' is not a rating from 1 to 5", arg);
            return -1;
        }
        s->min_rating = arg[0] - '0';
        return 1;
    }
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(char ***paths, int *n, int *cap, char *p)
{
    if (!p)
        return -1;
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 64;
        char **q = realloc(*paths, sizeof *q * (size_t)c);
        if (!q) {
            free(p);
            return -1;
        }
        *paths = q;
        *cap = c;
    }
    (*paths)[(*n)++] = p;
    return 0;
}

int tp_export_collect(char **args, int nargs, char ***paths, int *n, char *err, size_t errlen)
{
    int cap = 0;
    *paths = NULL;
    *n = 0;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st)) {
            snprintf(err, errlen, "%s: %s", args[i], strerror(errno));
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (push(paths, n, &cap, strdup(args[i])))
                goto oom;
            continue;
        }
        DIR *d = opendir(args[i]);
        if (!d) {
            snprintf(err, errlen, "%s: %s", args[i], strerror(errno));
            return -1;
        }
        int first = *n;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l < 4 || strcmp(de->d_name + l - 3, ".db"))
                continue;
            char *p = NULL;
            if (asprintf(&p, "%s/%s", args[i], de->d_name) < 0 || push(paths, n, &cap, p)) {
                closedir(d);
                goto oom;
            }
        }
        closedir(d);
        qsort(*paths + first, (size_t)(*n - first), sizeof **paths, cmp_name);
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}
