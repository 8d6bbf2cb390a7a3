/* teleop — catalog queries: listing (sort, filters, text search) and the
 * shared tag list, in SQL over temp.catalog (every folder's index). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"
#include "teleop/catalog.h"

static const char *order_expr(tp_catalog_sort sort)
{
    switch (sort) {
    case TP_SORT_DATE: return "start_unix_ns";
    case TP_SORT_TASK: return "task COLLATE NOCASE";
    case TP_SORT_OPERATOR: return "operator COLLATE NOCASE";
    case TP_SORT_DURATION: return "duration_s";
    case TP_SORT_OUTCOME: return "outcome";
    case TP_SORT_VERDICT: return "verdict";
    case TP_SORT_RATING: return "rating";
    case TP_SORT_TAGS: return "tags COLLATE NOCASE";
    case TP_SORT_QA: return "nqa"; /* -1 (never computed) before 0 (clean) */
    case TP_SORT_NAME: return "name";
    }
    return NULL;
}

/* After SQLite reported damage while querying: checks each index, replaces
 * the damaged ones and refreshes. 0 or -1. */
static int repair(tp_catalog *c, char *err, size_t errlen)
{
    for (int i = 0; i < c->nsrcs; i++) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(c->srcs[i].store.db, "PRAGMA quick_check(1)", -1, &st, NULL);
        bool ok = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
                  !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
        if (!ok && catalog_rebuild_source(c, i, err, errlen))
            return -1;
    }
    return tp_catalog_refresh(c, NULL, err, errlen);
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return strdup(s ? s : "");
}

void tp_catalog_listing_free(tp_catalog_listing *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++)
        tp_catalog_entry_clear(&l->entries[i]);
    free(l->entries);
    l->entries = NULL;
    l->n = 0;
}

/* One row of the listing query; false out of memory. */
static bool fill_entry(tp_catalog *c, sqlite3_stmt *st, tp_catalog_entry *e)
{
    memset(e, 0, sizeof *e);
    int src = sqlite3_column_int(st, 0);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    e->path = src >= 0 && src < c->nsrcs && name ? catalog_path_of(&c->srcs[src], name) : NULL;
    e->name = dup_col(st, 1);
    e->start_unix_ns = sqlite3_column_int64(st, 2);
    e->duration_s = sqlite3_column_double(st, 3);
    e->task = dup_col(st, 4);
    e->operator_name = dup_col(st, 5);
    e->outcome = dup_col(st, 6);
    e->verdict = dup_col(st, 7);
    e->rating = sqlite3_column_int(st, 8);
    e->tags = dup_col(st, 9);
    e->qa_flags = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL : dup_col(st, 10);
    e->notes = dup_col(st, 11);
    e->live = sqlite3_column_int(st, 12);
    e->delete_marked = sqlite3_column_int(st, 13);
    e->size_bytes = sqlite3_column_int64(st, 14);
    e->trim_in_ns = sqlite3_column_int64(st, 15);
    e->trim_out_ns = sqlite3_column_int64(st, 16);
    bool qa_ok = sqlite3_column_type(st, 10) == SQLITE_NULL || e->qa_flags;
    return e->path && e->name && e->task && e->operator_name && e->outcome && e->verdict && e->tags && qa_ok &&
           e->notes;
}

static bool set(const char *s) { return s && *s; }

static void bind_named(sqlite3_stmt *st, const char *param, const char *value)
{
    int i = sqlite3_bind_parameter_index(st, param);
    if (i > 0)
        sqlite3_bind_text(st, i, value, -1, SQLITE_STATIC);
}

/* SQLite result code; -1 (with err) for a bad query. */
static int run_list(tp_catalog *c, const tp_catalog_query *q, tp_catalog_listing *out, char *err, size_t errlen)
{
    const char *order = order_expr(q->sort);
    if (!order) {
        snprintf(err, errlen, "catalog: unknown sort key %d", (int)q->sort);
        return -1;
    }
    char sql[2048];
    int len = snprintf(sql, sizeof sql,
                       "SELECT src, name, start_unix_ns, duration_s, task, operator, outcome, verdict, rating, tags,"
                       " qa_flags, notes, live, delete_marked, size, trim_in_ns, trim_out_ns FROM temp.catalog"
                       " WHERE 1");
#define ADD(...) len += snprintf(sql + len, sizeof sql - (size_t)len, __VA_ARGS__)
    if (!q->include_deleted)
        ADD(" AND delete_marked = 0");
    /* lower() folds ASCII only, and instr() matches UTF-8 text as it is:
     * Chinese (any script) matches as an exact substring. */
    if (set(q->text))
        ADD(" AND (instr(lower(task), lower(:text)) > 0 OR instr(lower(notes), lower(:text)) > 0"
            " OR instr(lower(name), lower(:text)) > 0)");
    if (q->outcome)
        ADD(" AND outcome = :outcome");
    if (q->verdict)
        ADD(" AND verdict = :verdict");
    if (q->operator_name)
        ADD(" AND operator = :operator");
    if (q->tag)
        ADD(" AND EXISTS (SELECT 1 FROM json_each(tags_json) WHERE value = :tag)");
    if (q->qa_flag && !strcmp(q->qa_flag, "none"))
        ADD(" AND qa_flags = ''");
    else if (q->qa_flag && !strcmp(q->qa_flag, "unchecked"))
        ADD(" AND qa_flags IS NULL");
    else if (q->qa_flag)
        ADD(" AND instr(',' || qa_flags || ',', ',' || :qa || ',') > 0");
    if (q->min_rating > 0)
        ADD(" AND rating >= :rating");
    if (q->min_duration_s > 0)
        ADD(" AND duration_s >= :min_duration");
    if (q->max_duration_s > 0)
        ADD(" AND duration_s <= :max_duration");
    ADD(" ORDER BY %s %s, name, src", order, q->descending ? "DESC" : "ASC");
#undef ADD
    if (len >= (int)sizeof sql) {
        snprintf(err, errlen, "catalog: query too long");
        return -1;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->q, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    bind_named(st, ":text", q->text);
    bind_named(st, ":outcome", q->outcome);
    bind_named(st, ":verdict", q->verdict && !strcmp(q->verdict, "none") ? "" : q->verdict);
    bind_named(st, ":operator", q->operator_name);
    bind_named(st, ":tag", q->tag);
    bind_named(st, ":qa", q->qa_flag);
    int i;
    if ((i = sqlite3_bind_parameter_index(st, ":rating")) > 0)
        sqlite3_bind_int(st, i, q->min_rating);
    if ((i = sqlite3_bind_parameter_index(st, ":min_duration")) > 0)
        sqlite3_bind_double(st, i, q->min_duration_s);
    if ((i = sqlite3_bind_parameter_index(st, ":max_duration")) > 0)
        sqlite3_bind_double(st, i, q->max_duration_s);
    int cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? 2 * cap : 64;
            tp_catalog_entry *ne = realloc(out->entries, sizeof *ne * (size_t)cap);
            if (!ne) {
                rc = SQLITE_NOMEM;
                break;
            }
            out->entries = ne;
        }
        if (!fill_entry(c, st, &out->entries[out->n])) {
            tp_catalog_entry_clear(&out->entries[out->n]);
            rc = SQLITE_NOMEM;
            break;
        }
        out->n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int tp_catalog_list(tp_catalog *c, const tp_catalog_query *q, tp_catalog_listing *out, char *err, size_t errlen)
{
    tp_catalog_query every = {.sort = TP_SORT_DATE, .include_deleted = true};
    out->entries = NULL;
    out->n = 0;
    for (int attempt = 0;; attempt++) {
        int rc = run_list(c, q ? q : &every, out, err, errlen);
        if (rc == SQLITE_OK)
            return 0;
        tp_catalog_listing_free(out);
        if (rc == -1)
            return -1;
        if (catalog_damaged(rc) && attempt == 0) {
            if (repair(c, err, errlen))
                return -1;
            continue;
        }
        snprintf(err, errlen, "catalog: listing failed: %s",
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(c->q));
        return -1;
    }
}

static void free_tags(char **names, int *counts, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(counts);
}

static int run_tags(tp_catalog *c, char ***names, int **counts, int *n)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->q,
                                "SELECT j.value, count(*) FROM temp.catalog e, json_each(e.tags_json) j"
                                " GROUP BY j.value ORDER BY j.value",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    int cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nn = realloc(*names, sizeof *nn * (size_t)cap);
            if (nn)
                *names = nn;
            int *nc = realloc(*counts, sizeof *nc * (size_t)cap);
            if (nc)
                *counts = nc;
            if (!nn || !nc) {
                rc = SQLITE_NOMEM;
                break;
            }
        }
        if (!((*names)[*n] = dup_col(st, 0))) {
            rc = SQLITE_NOMEM;
            break;
        }
        (*counts)[(*n)++] = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int tp_catalog_tags(tp_catalog *c, char ***names, int **counts, int *n, char *err, size_t errlen)
{
    for (int attempt = 0;; attempt++) {
        *names = NULL;
        *counts = NULL;
        *n = 0;
        int rc = run_tags(c, names, counts, n);
        if (rc == SQLITE_OK)
            return 0;
        free_tags(*names, *counts, *n);
        *names = NULL;
        *counts = NULL;
        *n = 0;
        if (catalog_damaged(rc) && attempt == 0) {
            if (repair(c, err, errlen))
                return -1;
            continue;
        }
        snprintf(err, errlen, "catalog: tag list failed: %s",
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(c->q));
        return -1;
    }
}
