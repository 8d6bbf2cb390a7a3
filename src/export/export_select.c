/* teleop — episode selection for the exports (see export_select.h). */
#include "export_select.h"

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
