/* teleop — catalog entries outside an index: one episode read directly,
 * and a listing from any source (a bucket's catalog, issue 13) filtered
 * and sorted with the same rules as the index's SQL (catalog_query.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog_internal.h"
#include "teleop/catalog.h"

void tp_catalog_entry_clear(tp_catalog_entry *e)
{
    free((char *)e->path);
    free((char *)e->name);
    free((char *)e->task);
    free((char *)e->operator_name);
    free((char *)e->outcome);
    free((char *)e->verdict);
    free((char *)e->tags);
    free((char *)e->qa_flags);
    free((char *)e->notes);
    memset(e, 0, sizeof *e);
}

int tp_catalog_read_episode(const char *path, tp_catalog_entry *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    catalog_row r;
    if (catalog_row_read(path, slash ? slash + 1 : path, &sb, &r) != 0) {
        catalog_row_clear(&r);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (!r.episode) {
        snprintf(err, errlen, "%s", r.skip_reason ? r.skip_reason : "not an episode");
        catalog_row_clear(&r);
        return -1;
    }
    out->path = strdup(path);
    out->name = r.name;
    out->start_unix_ns = r.start_unix_ns;
    out->duration_s = r.duration_s;
    out->task = r.task;
    out->operator_name = r.operator_name;
    out->outcome = r.outcome;
    out->verdict = r.verdict;
    out->rating = r.rating;
    out->tags = r.tags;
    out->qa_flags = r.qa_flags;
    out->notes = r.notes;
    out->live = r.live;
    out->delete_marked = r.delete_marked;
    out->size_bytes = r.size;
    out->trim_in_ns = r.trim_in_ns;
    out->trim_out_ns = r.trim_out_ns;
    free(r.tags_json);
    free(r.skip_reason);
    if (!out->path) {
        tp_catalog_entry_clear(out);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    return 0;
}

/* ASCII case folding, as SQLite's lower() and NOCASE. */
static int fold(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int cmp_nocase(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = fold((unsigned char)*a), y = fold((unsigned char)*b);
        if (x != y || !x)
            return x - y;
    }
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && fold((unsigned char)hay[i]) == fold((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* item is one of the comma-separated list's items */
static bool in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == n && !strncmp(p, item, n))
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

static int qa_count(const tp_catalog_entry *e)
{
    if (!e->qa_flags)
        return -1;
    int n = *e->qa_flags ? 1 : 0;
    for (const char *p = e->qa_flags; *p; p++)
        n += *p == ',';
    return n;
}

static bool matches(const tp_catalog_entry *e, const tp_catalog_query *q)
{
    if (!q->include_deleted && e->delete_marked)
        return false;
    if (q->text && *q->text && !contains_nocase(e->task, q->text) && !contains_nocase(e->notes, q->text) &&
        !contains_nocase(e->name, q->text))
        return false;
    if (q->outcome && strcmp(e->outcome, q->outcome))
        return false;
    if (q->verdict && strcmp(e->verdict, strcmp(q->verdict, "none") ? q->verdict : ""))
        return false;
    if (q->operator_name && strcmp(e->operator_name, q->operator_name))
        return false;
    if (q->tag && !in_list(e->tags, q->tag))
        return false;
    if (q->qa_flag) {
        if (!strcmp(q->qa_flag, "none") ? !e->qa_flags || *e->qa_flags
            : !strcmp(q->qa_flag, "unchecked") ? e->qa_flags != NULL
                                                : !e->qa_flags || !in_list(e->qa_flags, q->qa_flag))
            return false;
    }
    if (q->min_rating > 0 && e->rating < q->min_rating)
        return false;
    if (q->min_duration_s > 0 && e->duration_s < q->min_duration_s)
        return false;
    if (q->max_duration_s > 0 && e->duration_s > q->max_duration_s)
        return false;
    return true;
}

static int cmp_num(double a, double b) { return a < b ? -1 : a > b; }

static const tp_catalog_query *g_q; /* qsort has no context argument */

static int cmp_entries(const void *pa, const void *pb)
{
    const tp_catalog_entry *a = pa, *b = pb;
    int c = 0;
    switch (g_q->sort) {
    case TP_SORT_DATE: c = cmp_num((double)a->start_unix_ns, (double)b->start_unix_ns); break;
    case TP_SORT_TASK: c = cmp_nocase(a->task, b->task); break;
    case TP_SORT_OPERATOR: c = cmp_nocase(a->operator_name, b->operator_name); break;
    case TP_SORT_DURATION: c = cmp_num(a->duration_s, b->duration_s); break;
    case TP_SORT_OUTCOME: c = strcmp(a->outcome, b->outcome); break;
    case TP_SORT_VERDICT: c = strcmp(a->verdict, b->verdict); break;
    case TP_SORT_RATING: c = a->rating - b->rating; break;
    case TP_SORT_TAGS: c = cmp_nocase(a->tags, b->tags); break;
    case TP_SORT_QA: c = qa_count(a) - qa_count(b); break;
    case TP_SORT_NAME: c = strcmp(a->name, b->name); break;
    }
    if (g_q->descending)
        c = -c;
    if (!c)
        c = strcmp(a->name, b->name);
    if (!c)
        c = strcmp(a->path, b->path);
    return c;
}

void tp_catalog_filter(tp_catalog_listing *l, const tp_catalog_query *q)
{
    tp_catalog_query every = {.sort = TP_SORT_DATE, .include_deleted = true};
    if (!q)
        q = &every;
    int n = 0;
    for (int i = 0; i < l->n; i++) {
        if (matches(&l->entries[i], q))
            l->entries[n++] = l->entries[i];
        else
            tp_catalog_entry_clear(&l->entries[i]);
    }
    l->n = n;
    g_q = q;
    if (n > 1)
        qsort(l->entries, (size_t)n, sizeof *l->entries, cmp_entries);
    g_q = NULL;
}
