/* `teleop export --check`: the dataset's metadata — meta/info.json,
 * tasks, episodes (v2.1 JSON lines, v3.0 parquet) and their stats — read
 * into the checker's model, with the helpers the data checks share. JSON
 * is read through SQLite's JSON functions on an in-memory database. */
#include "check_internal.h"

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const ck_stat_names[NSTATS] = {"min", "max", "mean", "std", "count"};

static void stat_put(stat_set *s, int k, const double *vals, int n)
{
    if (k == STAT_COUNT) {
        s->count = vals[0] >= 0 && vals[0] <= 9e18 ? (int64_t)vals[0] : -1;
        s->present[k] = true;
        return;
    }
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v)
        return;
    memcpy(v, vals, (size_t)n * sizeof *v);
    free(s->v[k]);
    s->v[k] = v;
    s->len[k] = n;
    s->present[k] = true;
}

void ck_stat_sets_free(stat_set *s, int n)
{
    for (int i = 0; s && i < n; i++)
        for (int k = 0; k < NSTATS - 1; k++)
            free(s[i].v[k]);
    free(s);
}

void ck_problem(checker *c, const char *rel, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->out, "%s/%s: ", c->root, rel);
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    va_end(ap);
    c->problems++;
}

void ck_note(checker *c, const char *rel, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->out, "note: %s/%s: ", c->root, rel);
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    va_end(ap);
}

char *ck_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t k;
    while (s && (k = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 2) {
            char *ns = realloc(s, cap * 2);
            if (!ns) {
                free(s);
                s = NULL;
                break;
            }
            s = ns;
            cap *= 2;
        }
    }
    fclose(f);
    if (s)
        s[n] = 0;
    return s;
}

char *ck_joinp(const checker *c, const char *rel)
{
    size_t n = strlen(c->root) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", c->root, rel);
    return p;
}

bool ck_exists_rel(const checker *c, const char *rel)
{
    char *p = ck_joinp(c, rel);
    struct stat sb;
    bool ok = p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
    free(p);
    return ok;
}

/* ---- JSON through SQLite ---- */

static sqlite3_stmt *jq(checker *c, const char *sql, const char *json, const char *path)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    if (path)
        sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
    return st;
}

bool ck_json_valid(checker *c, const char *json)
{
    sqlite3_stmt *st = jq(c, "SELECT json_valid(?1)", json, NULL);
    bool ok = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return ok;
}

/* json_type at path: "null", "true", "false", "integer", "real", "text",
 * "array", "object"; "" when absent. */
void ck_jtype(checker *c, const char *json, const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    sqlite3_stmt *st = jq(c, "SELECT json_type(?1, ?2)", json, path);
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

char *ck_jstr(checker *c, const char *json, const char *path)
{
    char t[16];
    ck_jtype(c, json, path, t, sizeof t);
    if (strcmp(t, "text"))
        return NULL;
    sqlite3_stmt *st = jq(c, "SELECT json_extract(?1, ?2)", json, path);
    char *s = NULL;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        s = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return s;
}

static bool jnum(checker *c, const char *json, const char *path, double *v)
{
    char t[16];
    ck_jtype(c, json, path, t, sizeof t);
    if (strcmp(t, "integer") && strcmp(t, "real"))
        return false;
    sqlite3_stmt *st = jq(c, "SELECT json_extract(?1, ?2)", json, path);
    bool ok = st && sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return ok;
}

bool ck_jint(checker *c, const char *json, const char *path, int64_t *v)
{
    char t[16];
    ck_jtype(c, json, path, t, sizeof t);
    if (strcmp(t, "integer"))
        return false;
    sqlite3_stmt *st = jq(c, "SELECT json_extract(?1, ?2)", json, path);
    bool ok = st && sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ok;
}

/* Numbers of the array at path (nested arrays flattened, as numpy's
 * (3,1,1) image stats; true/false as 1/0, as bool features' min/max are
 * written); -1 when absent or not all numbers. */
static int jnums(checker *c, const char *json, const char *path, double *out, int max)
{
    sqlite3_stmt *st = jq(c, "SELECT type, value FROM json_tree(?1, ?2) WHERE type NOT IN ('array')", json, path);
    if (!st)
        return -1;
    char t[16];
    ck_jtype(c, json, path, t, sizeof t);
    if (strcmp(t, "array")) {
        sqlite3_finalize(st);
        return -1;
    }
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ty = (const char *)sqlite3_column_text(st, 0);
        bool boolean = !strcmp(ty, "true") || !strcmp(ty, "false");
        if (strcmp(ty, "integer") && strcmp(ty, "real") && !boolean) {
            n = -1;
            break;
        }
        if (n < max)
            out[n] = boolean ? (ty[0] == 't') : sqlite3_column_double(st, 1);
        n++;
    }
    sqlite3_finalize(st);
    return n > max ? -1 : n;
}

/* ---- path templates: "{name}" and "{name:03d}" ---- */



bool ck_format_path(const char *tpl, const tvar *vars, int nvars, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = tpl; *p;) {
        if (*p != '{') {
            if (o + 1 >= n)
                return false;
            out[o++] = *p++;
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close)
            return false;
        char spec[64];
        size_t sl = (size_t)(close - p - 1);
        if (sl >= sizeof spec)
            return false;
        memcpy(spec, p + 1, sl);
        spec[sl] = 0;
        int width = 0;
        char *colon = strchr(spec, ':');
        if (colon) {
            *colon = 0;
            const char *w = colon + 1;
            if (*w == '0')
                w++;
            width = atoi(w);
        }
        const tvar *v = NULL;
        for (int i = 0; i < nvars; i++)
            if (!strcmp(vars[i].name, spec))
                v = &vars[i];
        if (!v)
            return false;
        int k = v->str ? snprintf(out + o, n - o, "%s", v->str)
                       : snprintf(out + o, n - o, "%0*" PRId64, width, v->num);
        if (k < 0 || (size_t)k >= n - o)
            return false;
        o += (size_t)k;
        p = close + 1;
    }
    out[o] = 0;
    return true;
}

/* ---- info.json ---- */

static const char *const fields_v21[] = {"codebase_version", "robot_type", "total_episodes", "total_frames",
                                         "total_tasks", "total_videos", "total_chunks", "chunks_size", "fps",
                                         "splits", "data_path", "video_path", "features"};
static const char *const fields_v30[] = {"codebase_version", "fps", "features", "total_episodes", "total_frames",
                                         "total_tasks", "chunks_size", "data_files_size_in_mb",
                                         "video_files_size_in_mb", "data_path", "video_path", "robot_type",
                                         "splits"};

bool ck_numeric_dtype(const char *d)
{
    return !strcmp(d, "float32") || !strcmp(d, "float64") || !strcmp(d, "int64") || !strcmp(d, "int32") ||
           !strcmp(d, "int16") || !strcmp(d, "int8") || !strcmp(d, "uint8") || !strcmp(d, "bool");
}

static int load_features(checker *c)
{
    const char *rel = "meta/info.json";
    sqlite3_stmt *st = jq(c, "SELECT key, value, type FROM json_each(?1, '$.features')", c->info, NULL);
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        feature *nf = realloc(c->f, (size_t)(c->nf + 1) * sizeof *nf);
        if (!nf)
            break;
        c->f = nf;
        feature *f = &c->f[c->nf++];
        memset(f, 0, sizeof *f);
        f->key = strdup((const char *)sqlite3_column_text(st, 0));
        const char *val = (const char *)sqlite3_column_text(st, 1);
        if (strcmp((const char *)sqlite3_column_text(st, 2), "object")) {
            ck_problem(c, rel, "feature %s is not an object", f->key);
            f->dtype = strdup("");
            continue;
        }
        f->dtype = ck_jstr(c, val, "$.dtype");
        if (!f->dtype) {
            ck_problem(c, rel, "feature %s has no dtype", f->key);
            f->dtype = strdup("");
        }
        double shape[MAX_DIMS];
        int nd = jnums(c, val, "$.shape", shape, MAX_DIMS);
        if (nd <= 0)
            ck_problem(c, rel, "feature %s has no valid shape", f->key);
        for (int i = 0; i < nd; i++) {
            if (!(shape[i] >= 1 && shape[i] <= 1e9) || shape[i] != floor(shape[i])) {
                ck_problem(c, rel, "feature %s: shape dimension %g is not a positive integer", f->key, shape[i]);
                nd = 0;
                break;
            }
            f->shape[i] = (int64_t)shape[i];
        }
        f->ndim = nd > 0 ? nd : 0;
        f->video = !strcmp(f->dtype, "video");
        f->numeric = ck_numeric_dtype(f->dtype) && f->ndim == 1 && f->shape[0] <= MAX_FEATURE_DIM;
        f->dim = f->numeric ? (int)f->shape[0] : 0;
        if (f->video) {
            if (f->ndim != 3)
                ck_problem(c, rel, "video feature %s: shape must be [height, width, channels]", f->key);
            char *s = ck_jstr(c, val, "$.info.\"video.codec\"");
            snprintf(f->vcodec, sizeof f->vcodec, "%s", s ? s : "");
            free(s);
            s = ck_jstr(c, val, "$.info.\"video.pix_fmt\"");
            snprintf(f->vpix_fmt, sizeof f->vpix_fmt, "%s", s ? s : "");
            free(s);
            ck_jint(c, val, "$.info.\"video.width\"", &f->vwidth);
            ck_jint(c, val, "$.info.\"video.height\"", &f->vheight);
            jnum(c, val, "$.info.\"video.fps\"", &f->vfps);
        }
    }
    sqlite3_finalize(st);
    static const struct {
        const char *key, *dtype;
    } defaults[] = {{"timestamp", "float32"}, {"frame_index", "int64"}, {"episode_index", "int64"},
                    {"index", "int64"},       {"task_index", "int64"}};
    for (size_t d = 0; d < sizeof defaults / sizeof defaults[0]; d++) {
        const feature *f = NULL;
        for (int i = 0; i < c->nf; i++)
            if (!strcmp(c->f[i].key, defaults[d].key))
                f = &c->f[i];
        if (!f)
            ck_problem(c, rel, "features: missing %s", defaults[d].key);
        else if (strcmp(f->dtype, defaults[d].dtype) || f->ndim != 1 || f->shape[0] != 1)
            ck_problem(c, rel, "features: %s must be %s of shape [1] (is %s)", defaults[d].key, defaults[d].dtype,
                    f->dtype);
    }
    return 0;
}

int ck_feature_index(const checker *c, const char *key)
{
    for (int i = 0; i < c->nf; i++)
        if (!strcmp(c->f[i].key, key))
            return i;
    return -1;
}

int ck_load_info(checker *c)
{
    const char *rel = "meta/info.json";
    char *path = ck_joinp(c, rel);
    c->info = path ? ck_read_text(path) : NULL;
    free(path);
    if (!c->info) {
        ck_problem(c, rel, "missing: not a LeRobot dataset");
        return -1;
    }
    if (!ck_json_valid(c, c->info)) {
        ck_problem(c, rel, "not valid JSON");
        return -1;
    }
    char *ver = ck_jstr(c, c->info, "$.codebase_version");
    if (!ver) {
        ck_problem(c, rel, "codebase_version missing");
        return -1;
    }
    if (!strcmp(ver, "v2.1"))
        c->version = 21;
    else if (!strcmp(ver, "v3.0"))
        c->version = 30;
    else {
        ck_problem(c, rel, "codebase_version %s not supported (v2.1 and v3.0 are)", ver);
        free(ver);
        return -1;
    }
    free(ver);
    const char *const *fields = c->version == 21 ? fields_v21 : fields_v30;
    size_t nfields = c->version == 21 ? sizeof fields_v21 / sizeof *fields_v21 : sizeof fields_v30 / sizeof *fields_v30;
    for (size_t i = 0; i < nfields; i++) {
        char p[64], t[16];
        snprintf(p, sizeof p, "$.%s", fields[i]);
        ck_jtype(c, c->info, p, t, sizeof t);
        if (!t[0])
            ck_problem(c, rel, "missing field %s (LeRobot %s)", fields[i], c->version == 21 ? "v2.1" : "v3.0");
    }
    if (!jnum(c, c->info, "$.fps", &c->fps) || !(c->fps > 0)) {
        ck_problem(c, rel, "fps missing or not positive");
        return -1;
    }
    if (!ck_jint(c, c->info, "$.chunks_size", &c->chunks_size) || c->chunks_size < 1 || c->chunks_size > 1000000000) {
        ck_problem(c, rel, "chunks_size missing or not an integer in 1..1000000000");
        c->chunks_size = 1000;
    }
    c->data_path = ck_jstr(c, c->info, "$.data_path");
    c->video_path = ck_jstr(c, c->info, "$.video_path");
    if (!c->data_path) {
        ck_problem(c, rel, "data_path missing or not a string");
        return -1;
    }
    char t[16];
    ck_jtype(c, c->info, "$.features", t, sizeof t);
    if (strcmp(t, "object")) {
        ck_problem(c, rel, "features missing or not an object");
        return -1;
    }
    load_features(c);
    bool any_video = false;
    for (int i = 0; i < c->nf; i++)
        any_video |= c->f[i].video;
    if (any_video && !c->video_path) {
        ck_problem(c, rel, "video_path is null but there are video features");
        return -1;
    }
    return 0;
}

/* ---- parquet helpers ---- */



bool ck_load_col(checker *c, tp_pqr_reader *r, const char *rel, const char *name, pcol *out, bool required)
{
    memset(out, 0, sizeof *out);
    int i = tp_pqr_find_column(r, name);
    if (i < 0) {
        if (required)
            ck_problem(c, rel, "column %s missing", name);
        return false;
    }
    char err[512];
    out->ci = tp_pqr_column(r, (size_t)i);
    if (tp_pqr_read_column(r, (size_t)i, &out->v, err, sizeof err) != 0) {
        /* err starts with the file's path: say it once */
        size_t skip = strlen(c->root) + 1 + strlen(rel) + 2;
        ck_problem(c, rel, "%s", strlen(err) > skip && !strncmp(err, c->root, strlen(c->root)) ? err + skip : err);
        return false;
    }
    out->ok = true;
    return true;
}

static bool numeric_type(tp_pqr_physical t)
{
    return t == TP_PQR_INT32 || t == TP_PQR_INT64 || t == TP_PQR_FLOAT || t == TP_PQR_DOUBLE || t == TP_PQR_BOOLEAN;
}

bool ck_row_i64(const pcol *p, int64_t row, int64_t *v)
{
    if (!p->ok || p->ci->is_list || row >= p->v.nrows || !numeric_type(p->v.type) || p->v.row_value[row] < 0)
        return false;
    *v = tp_pqr_value_i64(&p->v, p->v.row_value[row]);
    return true;
}

bool ck_row_f64(const pcol *p, int64_t row, double *v)
{
    if (!p->ok || p->ci->is_list || row >= p->v.nrows || !numeric_type(p->v.type) || p->v.row_value[row] < 0)
        return false;
    *v = tp_pqr_value_f64(&p->v, p->v.row_value[row]);
    return true;
}

/* Numbers of a list row (a scalar row counts as a list of one); -1 when null. */
int ck_row_list_f64(const pcol *p, int64_t row, double *out, int max)
{
    if (!p->ok || row >= p->v.nrows || !numeric_type(p->v.type) || !p->v.row_valid[row])
        return -1;
    if (!p->ci->is_list) {
        if (max < 1 || p->v.row_value[row] < 0)
            return -1;
        out[0] = tp_pqr_value_f64(&p->v, p->v.row_value[row]);
        return 1;
    }
    int64_t a = p->v.list_off[row], b = p->v.list_off[row + 1];
    int n = 0;
    for (int64_t e = a; e < b; e++, n++) {
        if (p->v.elem_value[e] < 0)
            return -1;
        if (n < max)
            out[n] = tp_pqr_value_f64(&p->v, p->v.elem_value[e]);
    }
    return n;
}

static char *str_at(const pcol *p, int64_t vi)
{
    size_t n = (size_t)(p->v.str_off[vi + 1] - p->v.str_off[vi]);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p->v.str_data + p->v.str_off[vi], n);
        s[n] = 0;
    }
    return s;
}

void ck_free_col(pcol *p) { tp_pqr_values_free(&p->v); }

void ck_episode_free(checker *c, episode *e)
{
    free(e->video);
    ck_stat_sets_free(e->stats, c->nf);
    free(e->ts);
}

/* ---- tasks ---- */

static void add_task(checker *c, const char *rel, int64_t idx, const char *task)
{
    if (idx != c->ntasks) {
        ck_problem(c, rel, "task_index %" PRId64 " out of order (expected %" PRId64 ")", idx, c->ntasks);
        if (idx < 0 || idx > 1000000)
            return;
    }
    if (idx >= c->ntasks) {
        char **nt = realloc(c->tasks, (size_t)(idx + 1) * sizeof *nt);
        if (!nt)
            return;
        for (int64_t i = c->ntasks; i <= idx; i++)
            nt[i] = NULL;
        c->tasks = nt;
        c->ntasks = idx + 1;
    }
    free(c->tasks[idx]);
    c->tasks[idx] = strdup(task);
}

void ck_load_tasks(checker *c)
{
    if (c->version == 21) {
        const char *rel = "meta/tasks.jsonl";
        char *p = ck_joinp(c, rel);
        FILE *f = p ? fopen(p, "r") : NULL;
        free(p);
        if (!f) {
            ck_problem(c, rel, "missing");
            return;
        }
        char *line = NULL;
        size_t cap = 0;
        int64_t ln = 0;
        while (getline(&line, &cap, f) > 0) {
            ln++;
            if (line[strspn(line, " \t\r\n")] == 0)
                continue;
            int64_t idx;
            char *task = ck_json_valid(c, line) ? ck_jstr(c, line, "$.task") : NULL;
            if (!task || !ck_jint(c, line, "$.task_index", &idx))
                ck_problem(c, rel, "line %" PRId64 ": not {\"task_index\": int, \"task\": string}", ln);
            else
                add_task(c, rel, idx, task);
            free(task);
        }
        free(line);
        fclose(f);
        return;
    }
    const char *rel = "meta/tasks.parquet";
    char *p = ck_joinp(c, rel), err[512];
    tp_pqr_reader *r = p ? tp_pqr_open(p, err, sizeof err) : NULL;
    free(p);
    if (!r) {
        ck_problem(c, rel, "%s", ck_exists_rel(c, rel) ? err + strlen(c->root) + 1 + strlen(rel) + 2 : "missing");
        return;
    }
    pcol ti, tt;
    bool ok = ck_load_col(c, r, rel, "task_index", &ti, true);
    /* pandas stores the index named "task" as a column of that name */
    bool ok2 = ck_load_col(c, r, rel, "task", &tt, false) || ck_load_col(c, r, rel, "__index_level_0__", &tt, false);
    if (!ok2)
        ck_problem(c, rel, "column task missing");
    if (ok && ok2) {
        if (tt.v.type != TP_PQR_BYTE_ARRAY)
            ck_problem(c, rel, "column task is not a string column");
        else
            for (int64_t row = 0; row < ti.v.nrows && row < tt.v.nrows; row++) {
                int64_t idx;
                if (!ck_row_i64(&ti, row, &idx) || tt.ci->is_list || tt.v.row_value[row] < 0) {
                    ck_problem(c, rel, "row %" PRId64 ": null task or task_index", row);
                    continue;
                }
                char *s = str_at(&tt, tt.v.row_value[row]);
                if (s)
                    add_task(c, rel, idx, s);
                free(s);
            }
    }
    ck_free_col(&ti);
    ck_free_col(&tt);
    tp_pqr_close(r);
}

/* ---- episodes ---- */

static episode *new_episode(checker *c)
{
    episode *ne = realloc(c->ep, (size_t)(c->nep + 1) * sizeof *ne);
    if (!ne)
        return NULL;
    c->ep = ne;
    episode *e = &c->ep[c->nep++];
    memset(e, 0, sizeof *e);
    e->video = calloc((size_t)(c->nf ? c->nf : 1), sizeof *e->video);
    return e;
}

static void check_episode_tasks_json(checker *c, const char *rel, const char *json, int64_t ep)
{
    sqlite3_stmt *st = jq(c, "SELECT value, type FROM json_each(?1, '$.tasks')", json, NULL);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        bool found = false;
        for (int64_t i = 0; i < c->ntasks && !found; i++)
            found = c->tasks[i] && !strcmp(c->tasks[i], t);
        if (!found)
            ck_problem(c, rel, "episode %" PRId64 ": task \"%s\" is not in the tasks", ep, t);
    }
    sqlite3_finalize(st);
}

void ck_parse_stats_json(checker *c, const char *rel, const char *json, const char *prefix, stat_set *out,
                             int64_t ep)
{
    for (int fi = 0; fi < c->nf; fi++) {
        const feature *f = &c->f[fi];
        stat_set *s = &out[fi];
        if (!f->numeric) /* image stats (per channel, sampled frames) are not checked */
            continue;
        for (int k = 0; k < NSTATS; k++) {
            char path[512];
            snprintf(path, sizeof path, "%s.\"%s\".%s", prefix, f->key, ck_stat_names[k]);
            double vals[MAX_FEATURE_DIM];
            int n = jnums(c, json, path, vals, MAX_FEATURE_DIM);
            if (n < 0)
                continue;
            if (k == STAT_COUNT && n != 1) {
                ck_problem(c, rel, "%s: stats %s/count is not [N]", ep < 0 ? "global" : "episode", f->key);
                continue;
            }
            stat_put(s, k, vals, n);
        }
    }
}

void ck_load_episodes_v21(checker *c)
{
    const char *rel = "meta/episodes.jsonl";
    char *p = ck_joinp(c, rel);
    FILE *f = p ? fopen(p, "r") : NULL;
    free(p);
    if (!f) {
        ck_problem(c, rel, "missing");
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    int64_t ln = 0;
    while (getline(&line, &cap, f) > 0) {
        ln++;
        if (line[strspn(line, " \t\r\n")] == 0)
            continue;
        int64_t idx, len;
        if (!ck_json_valid(c, line) || !ck_jint(c, line, "$.episode_index", &idx) || !ck_jint(c, line, "$.length", &len)) {
            ck_problem(c, rel, "line %" PRId64 ": not {\"episode_index\": int, \"tasks\": [...], \"length\": int}", ln);
            continue;
        }
        episode *e = new_episode(c);
        if (!e)
            break;
        e->index = idx;
        e->length = len;
        snprintf(e->meta_rel, sizeof e->meta_rel, "meta/episodes_stats.jsonl");
        check_episode_tasks_json(c, rel, line, idx);
    }
    free(line);
    fclose(f);

    rel = "meta/episodes_stats.jsonl";
    p = ck_joinp(c, rel);
    f = p ? fopen(p, "r") : NULL;
    free(p);
    if (!f) {
        ck_problem(c, rel, "missing");
        return;
    }
    c->ep_stats_present = true;
    line = NULL;
    cap = 0;
    ln = 0;
    while (getline(&line, &cap, f) > 0) {
        ln++;
        if (line[strspn(line, " \t\r\n")] == 0)
            continue;
        int64_t idx;
        if (!ck_json_valid(c, line) || !ck_jint(c, line, "$.episode_index", &idx)) {
            ck_problem(c, rel, "line %" PRId64 ": not {\"episode_index\": int, \"stats\": {...}}", ln);
            continue;
        }
        episode *e = NULL;
        for (int64_t i = 0; i < c->nep; i++)
            if (c->ep[i].index == idx)
                e = &c->ep[i];
        if (!e) {
            ck_problem(c, rel, "line %" PRId64 ": episode %" PRId64 " is not in meta/episodes.jsonl", ln, idx);
            continue;
        }
        ck_stat_sets_free(e->stats, c->nf);
        e->stats = calloc((size_t)(c->nf ? c->nf : 1), sizeof *e->stats);
        if (e->stats)
            ck_parse_stats_json(c, rel, line, "$.stats", e->stats, idx);
    }
    free(line);
    fclose(f);
}

void ck_load_episodes_v30(checker *c)
{
    char *pat = ck_joinp(c, "meta/episodes/chunk-*/file-*.parquet");
    glob_t g;
    memset(&g, 0, sizeof g);
    int grc = pat ? glob(pat, 0, NULL, &g) : GLOB_NOSPACE;
    free(pat);
    if (grc != 0 || g.gl_pathc == 0) {
        ck_problem(c, "meta/episodes", "no episode metadata files (meta/episodes/chunk-*/file-*.parquet)");
        globfree(&g);
        return;
    }
    c->ep_stats_present = true;
    for (size_t gi = 0; gi < g.gl_pathc; gi++) {
        const char *rel = g.gl_pathv[gi] + strlen(c->root) + 1;
        char err[512];
        tp_pqr_reader *r = tp_pqr_open(g.gl_pathv[gi], err, sizeof err);
        if (!r) {
            ck_problem(c, rel, "%s", err + strlen(g.gl_pathv[gi]) + 2);
            continue;
        }
        pcol ei, len, from, to, dc, df, tasks;
        ck_load_col(c, r, rel, "episode_index", &ei, true);
        ck_load_col(c, r, rel, "length", &len, true);
        ck_load_col(c, r, rel, "dataset_from_index", &from, true);
        ck_load_col(c, r, rel, "dataset_to_index", &to, true);
        ck_load_col(c, r, rel, "data/chunk_index", &dc, true);
        ck_load_col(c, r, rel, "data/file_index", &df, true);
        ck_load_col(c, r, rel, "tasks", &tasks, true);
        int64_t nrows = tp_pqr_num_rows(r);
        int64_t first = c->nep;
        for (int64_t row = 0; row < nrows; row++) {
            episode *e = new_episode(c);
            if (!e)
                break;
            snprintf(e->meta_rel, sizeof e->meta_rel, "%s", rel);
            if (!ck_row_i64(&ei, row, &e->index) || !ck_row_i64(&len, row, &e->length)) {
                ck_problem(c, rel, "row %" PRId64 ": episode_index or length missing", row);
                e->index = -1;
            }
            e->has_range = ck_row_i64(&from, row, &e->from) && ck_row_i64(&to, row, &e->to);
            e->has_data_loc = ck_row_i64(&dc, row, &e->data_chunk) && ck_row_i64(&df, row, &e->data_file);
            if (tasks.ok && tasks.ci->is_list && tasks.v.type == TP_PQR_BYTE_ARRAY && row < tasks.v.nrows &&
                tasks.v.row_valid[row]) {
                for (int64_t k = tasks.v.list_off[row]; k < tasks.v.list_off[row + 1]; k++) {
                    if (tasks.v.elem_value[k] < 0)
                        continue;
                    char *t = str_at(&tasks, tasks.v.elem_value[k]);
                    bool found = false;
                    for (int64_t i = 0; t && i < c->ntasks && !found; i++)
                        found = c->tasks[i] && !strcmp(c->tasks[i], t);
                    if (t && !found)
                        ck_problem(c, rel, "episode %" PRId64 ": task \"%s\" is not in meta/tasks.parquet", e->index,
                                t);
                    free(t);
                }
            }
        }
        for (int fi = 0; fi < c->nf; fi++) {
            const feature *f = &c->f[fi];
            if (f->video) {
                char name[512];
                pcol vc, vf, vfrom, vto;
                snprintf(name, sizeof name, "videos/%s/chunk_index", f->key);
                ck_load_col(c, r, rel, name, &vc, true);
                snprintf(name, sizeof name, "videos/%s/file_index", f->key);
                ck_load_col(c, r, rel, name, &vf, true);
                snprintf(name, sizeof name, "videos/%s/from_timestamp", f->key);
                ck_load_col(c, r, rel, name, &vfrom, true);
                snprintf(name, sizeof name, "videos/%s/to_timestamp", f->key);
                ck_load_col(c, r, rel, name, &vto, true);
                for (int64_t row = 0; row < nrows && first + row < c->nep; row++) {
                    vloc *v = &c->ep[first + row].video[fi];
                    v->known = ck_row_i64(&vc, row, &v->chunk) && ck_row_i64(&vf, row, &v->file) &&
                               ck_row_f64(&vfrom, row, &v->from_ts) && ck_row_f64(&vto, row, &v->to_ts);
                    if (!v->known && vc.ok && vf.ok && vfrom.ok && vto.ok)
                        ck_problem(c, rel, "row %" PRId64 ": null video location for %s", row, f->key);
                }
                ck_free_col(&vc);
                ck_free_col(&vf);
                ck_free_col(&vfrom);
                ck_free_col(&vto);
            }
            for (int k = 0; f->numeric && k < NSTATS; k++) {
                char name[512];
                snprintf(name, sizeof name, "stats/%s/%s", f->key, ck_stat_names[k]);
                pcol sc;
                if (!ck_load_col(c, r, rel, name, &sc, false))
                    continue;
                for (int64_t row = 0; row < nrows && first + row < c->nep; row++) {
                    episode *e = &c->ep[first + row];
                    if (!e->stats && !(e->stats = calloc((size_t)c->nf, sizeof *e->stats)))
                        continue;
                    double vals[MAX_FEATURE_DIM];
                    int n = ck_row_list_f64(&sc, row, vals, MAX_FEATURE_DIM);
                    if (n < 0 || n > MAX_FEATURE_DIM || (k == STAT_COUNT && n != 1)) {
                        ck_problem(c, rel, "row %" PRId64 ": %s is not a list of numbers", row, name);
                        continue;
                    }
                    stat_put(&e->stats[fi], k, vals, n);
                }
                ck_free_col(&sc);
            }
        }
        ck_free_col(&ei);
        ck_free_col(&len);
        ck_free_col(&from);
        ck_free_col(&to);
        ck_free_col(&dc);
        ck_free_col(&df);
        ck_free_col(&tasks);
        tp_pqr_close(r);
    }
    globfree(&g);
}

