/* `teleop export --check DATASET`: LeRobot v2.1 / v3.0 dataset validation.
 * JSON (info.json, the v2.1 .jsonl files, stats.json) is read through
 * SQLite's JSON functions on an in-memory database; parquet through
 * tp_pqr_*; videos through check_video.c. Problems are printed as they are
 * found, each once per file or episode, never once per row. */
#include "teleop/export_check.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_video.h"
#include "teleop/parquet_read.h"

#define TOL TP_LEROBOT_TOLERANCE_S
#define MAX_DIMS 8
#define MAX_FEATURE_DIM 4096 /* values per frame of a feature whose values and stats are checked */

typedef enum { STAT_MIN, STAT_MAX, STAT_MEAN, STAT_STD, STAT_COUNT, NSTATS } stat_kind;
static const char *const stat_names[NSTATS] = {"min", "max", "mean", "std", "count"};

typedef struct feature {
    char *key, *dtype;
    int64_t shape[MAX_DIMS];
    int ndim;
    bool video, numeric, in_data, noted;
    int dim; /* numeric 1-D features: values per frame */
    /* video info (video.*), empty/0 when absent */
    char vcodec[32], vpix_fmt[32];
    int64_t vwidth, vheight;
    double vfps;
} feature;

typedef struct stat_set {
    bool present[NSTATS];
    double *v[NSTATS - 1]; /* min, max, mean, std per dimension (owned) */
    int len[NSTATS - 1];
    int64_t count;
} stat_set;

/* Sums are of x - shift (the dataset's first value of that dimension), so
 * the variance of large values (index, timestamps) keeps its precision. */
typedef struct acc {
    double *min, *max, *sum, *sumsq, *shift; /* one allocation, 5 x dim */
    int64_t count;
    bool shift_set;
} acc;

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

static void stat_sets_free(stat_set *s, int n)
{
    for (int i = 0; s && i < n; i++)
        for (int k = 0; k < NSTATS - 1; k++)
            free(s[i].v[k]);
    free(s);
}

typedef struct vloc {
    int64_t chunk, file;
    double from_ts, to_ts;
    bool known;
} vloc;

typedef struct episode {
    int64_t index, length, from, to, data_chunk, data_file;
    bool has_range, has_data_loc;
    vloc *video;        /* per feature (only video features used) */
    stat_set *stats;    /* per feature; NULL when the dataset has no per-episode stats */
    double *ts;         /* its data timestamps, kept for the video check */
    int64_t nts;
    char meta_rel[128]; /* the metadata file that describes it */
} episode;

typedef struct checker {
    FILE *out;
    const char *root;
    int problems;
    sqlite3 *db;
    char *info;
    int version; /* 21 or 30 */
    double fps;
    int64_t chunks_size;
    char *data_path, *video_path;
    feature *f;
    int nf;
    episode *ep;
    int64_t nep;
    char **tasks;
    int64_t ntasks;
    int64_t next_index;  /* running frame position over the data files */
    acc *global;         /* per feature */
    bool ep_stats_present;
} checker;

static void problem(checker *c, const char *rel, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->out, "%s/%s: ", c->root, rel);
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    va_end(ap);
    c->problems++;
}

static void note(checker *c, const char *rel, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->out, "note: %s/%s: ", c->root, rel);
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    va_end(ap);
}

static char *read_text(const char *path)
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

static char *joinp(const checker *c, const char *rel)
{
    size_t n = strlen(c->root) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", c->root, rel);
    return p;
}

static bool exists_rel(const checker *c, const char *rel)
{
    char *p = joinp(c, rel);
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

static bool json_valid(checker *c, const char *json)
{
    sqlite3_stmt *st = jq(c, "SELECT json_valid(?1)", json, NULL);
    bool ok = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return ok;
}

/* json_type at path: "null", "true", "false", "integer", "real", "text",
 * "array", "object"; "" when absent. */
static void jtype(checker *c, const char *json, const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    sqlite3_stmt *st = jq(c, "SELECT json_type(?1, ?2)", json, path);
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static char *jstr(checker *c, const char *json, const char *path)
{
    char t[16];
    jtype(c, json, path, t, sizeof t);
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
    jtype(c, json, path, t, sizeof t);
    if (strcmp(t, "integer") && strcmp(t, "real"))
        return false;
    sqlite3_stmt *st = jq(c, "SELECT json_extract(?1, ?2)", json, path);
    bool ok = st && sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return ok;
}

static bool jint(checker *c, const char *json, const char *path, int64_t *v)
{
    char t[16];
    jtype(c, json, path, t, sizeof t);
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
    jtype(c, json, path, t, sizeof t);
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

typedef struct tvar {
    const char *name;
    int64_t num;
    const char *str;
} tvar;

static bool format_path(const char *tpl, const tvar *vars, int nvars, char *out, size_t n)
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

static bool numeric_dtype(const char *d)
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
            problem(c, rel, "feature %s is not an object", f->key);
            f->dtype = strdup("");
            continue;
        }
        f->dtype = jstr(c, val, "$.dtype");
        if (!f->dtype) {
            problem(c, rel, "feature %s has no dtype", f->key);
            f->dtype = strdup("");
        }
        double shape[MAX_DIMS];
        int nd = jnums(c, val, "$.shape", shape, MAX_DIMS);
        if (nd <= 0)
            problem(c, rel, "feature %s has no valid shape", f->key);
        for (int i = 0; i < nd; i++) {
            if (!(shape[i] >= 1 && shape[i] <= 1e9) || shape[i] != floor(shape[i])) {
                problem(c, rel, "feature %s: shape dimension %g is not a positive integer", f->key, shape[i]);
                nd = 0;
                break;
            }
            f->shape[i] = (int64_t)shape[i];
        }
        f->ndim = nd > 0 ? nd : 0;
        f->video = !strcmp(f->dtype, "video");
        f->numeric = numeric_dtype(f->dtype) && f->ndim == 1 && f->shape[0] <= MAX_FEATURE_DIM;
        f->dim = f->numeric ? (int)f->shape[0] : 0;
        if (f->video) {
            if (f->ndim != 3)
                problem(c, rel, "video feature %s: shape must be [height, width, channels]", f->key);
            char *s = jstr(c, val, "$.info.\"video.codec\"");
            snprintf(f->vcodec, sizeof f->vcodec, "%s", s ? s : "");
            free(s);
            s = jstr(c, val, "$.info.\"video.pix_fmt\"");
            snprintf(f->vpix_fmt, sizeof f->vpix_fmt, "%s", s ? s : "");
            free(s);
            jint(c, val, "$.info.\"video.width\"", &f->vwidth);
            jint(c, val, "$.info.\"video.height\"", &f->vheight);
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
            problem(c, rel, "features: missing %s", defaults[d].key);
        else if (strcmp(f->dtype, defaults[d].dtype) || f->ndim != 1 || f->shape[0] != 1)
            problem(c, rel, "features: %s must be %s of shape [1] (is %s)", defaults[d].key, defaults[d].dtype,
                    f->dtype);
    }
    return 0;
}

static int feature_index(const checker *c, const char *key)
{
    for (int i = 0; i < c->nf; i++)
        if (!strcmp(c->f[i].key, key))
            return i;
    return -1;
}

static int load_info(checker *c)
{
    const char *rel = "meta/info.json";
    char *path = joinp(c, rel);
    c->info = path ? read_text(path) : NULL;
    free(path);
    if (!c->info) {
        problem(c, rel, "missing: not a LeRobot dataset");
        return -1;
    }
    if (!json_valid(c, c->info)) {
        problem(c, rel, "not valid JSON");
        return -1;
    }
    char *ver = jstr(c, c->info, "$.codebase_version");
    if (!ver) {
        problem(c, rel, "codebase_version missing");
        return -1;
    }
    if (!strcmp(ver, "v2.1"))
        c->version = 21;
    else if (!strcmp(ver, "v3.0"))
        c->version = 30;
    else {
        problem(c, rel, "codebase_version %s not supported (v2.1 and v3.0 are)", ver);
        free(ver);
        return -1;
    }
    free(ver);
    const char *const *fields = c->version == 21 ? fields_v21 : fields_v30;
    size_t nfields = c->version == 21 ? sizeof fields_v21 / sizeof *fields_v21 : sizeof fields_v30 / sizeof *fields_v30;
    for (size_t i = 0; i < nfields; i++) {
        char p[64], t[16];
        snprintf(p, sizeof p, "$.%s", fields[i]);
        jtype(c, c->info, p, t, sizeof t);
        if (!t[0])
            problem(c, rel, "missing field %s (LeRobot %s)", fields[i], c->version == 21 ? "v2.1" : "v3.0");
    }
    if (!jnum(c, c->info, "$.fps", &c->fps) || !(c->fps > 0)) {
        problem(c, rel, "fps missing or not positive");
        return -1;
    }
    if (!jint(c, c->info, "$.chunks_size", &c->chunks_size) || c->chunks_size < 1 || c->chunks_size > 1000000000) {
        problem(c, rel, "chunks_size missing or not an integer in 1..1000000000");
        c->chunks_size = 1000;
    }
    c->data_path = jstr(c, c->info, "$.data_path");
    c->video_path = jstr(c, c->info, "$.video_path");
    if (!c->data_path) {
        problem(c, rel, "data_path missing or not a string");
        return -1;
    }
    char t[16];
    jtype(c, c->info, "$.features", t, sizeof t);
    if (strcmp(t, "object")) {
        problem(c, rel, "features missing or not an object");
        return -1;
    }
    load_features(c);
    bool any_video = false;
    for (int i = 0; i < c->nf; i++)
        any_video |= c->f[i].video;
    if (any_video && !c->video_path) {
        problem(c, rel, "video_path is null but there are video features");
        return -1;
    }
    return 0;
}

/* ---- parquet helpers ---- */

typedef struct pcol {
    tp_pqr_column_values v;
    const tp_pqr_column_info *ci;
    bool ok;
} pcol;

static bool load_col(checker *c, tp_pqr_reader *r, const char *rel, const char *name, pcol *out, bool required)
{
    memset(out, 0, sizeof *out);
    int i = tp_pqr_find_column(r, name);
    if (i < 0) {
        if (required)
            problem(c, rel, "column %s missing", name);
        return false;
    }
    char err[512];
    out->ci = tp_pqr_column(r, (size_t)i);
    if (tp_pqr_read_column(r, (size_t)i, &out->v, err, sizeof err) != 0) {
        /* err starts with the file's path: say it once */
        size_t skip = strlen(c->root) + 1 + strlen(rel) + 2;
        problem(c, rel, "%s", strlen(err) > skip && !strncmp(err, c->root, strlen(c->root)) ? err + skip : err);
        return false;
    }
    out->ok = true;
    return true;
}

static bool numeric_type(tp_pqr_physical t)
{
    return t == TP_PQR_INT32 || t == TP_PQR_INT64 || t == TP_PQR_FLOAT || t == TP_PQR_DOUBLE || t == TP_PQR_BOOLEAN;
}

static bool row_i64(const pcol *p, int64_t row, int64_t *v)
{
    if (!p->ok || p->ci->is_list || row >= p->v.nrows || !numeric_type(p->v.type) || p->v.row_value[row] < 0)
        return false;
    *v = tp_pqr_value_i64(&p->v, p->v.row_value[row]);
    return true;
}

static bool row_f64(const pcol *p, int64_t row, double *v)
{
    if (!p->ok || p->ci->is_list || row >= p->v.nrows || !numeric_type(p->v.type) || p->v.row_value[row] < 0)
        return false;
    *v = tp_pqr_value_f64(&p->v, p->v.row_value[row]);
    return true;
}

/* Numbers of a list row (a scalar row counts as a list of one); -1 when null. */
static int row_list_f64(const pcol *p, int64_t row, double *out, int max)
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

static void free_col(pcol *p) { tp_pqr_values_free(&p->v); }

static void episode_free(checker *c, episode *e)
{
    free(e->video);
    stat_sets_free(e->stats, c->nf);
    free(e->ts);
}

/* ---- tasks ---- */

static void add_task(checker *c, const char *rel, int64_t idx, const char *task)
{
    if (idx != c->ntasks) {
        problem(c, rel, "task_index %" PRId64 " out of order (expected %" PRId64 ")", idx, c->ntasks);
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

static void load_tasks(checker *c)
{
    if (c->version == 21) {
        const char *rel = "meta/tasks.jsonl";
        char *p = joinp(c, rel);
        FILE *f = p ? fopen(p, "r") : NULL;
        free(p);
        if (!f) {
            problem(c, rel, "missing");
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
            char *task = json_valid(c, line) ? jstr(c, line, "$.task") : NULL;
            if (!task || !jint(c, line, "$.task_index", &idx))
                problem(c, rel, "line %" PRId64 ": not {\"task_index\": int, \"task\": string}", ln);
            else
                add_task(c, rel, idx, task);
            free(task);
        }
        free(line);
        fclose(f);
        return;
    }
    const char *rel = "meta/tasks.parquet";
    char *p = joinp(c, rel), err[512];
    tp_pqr_reader *r = p ? tp_pqr_open(p, err, sizeof err) : NULL;
    free(p);
    if (!r) {
        problem(c, rel, "%s", exists_rel(c, rel) ? err + strlen(c->root) + 1 + strlen(rel) + 2 : "missing");
        return;
    }
    pcol ti, tt;
    bool ok = load_col(c, r, rel, "task_index", &ti, true);
    /* pandas stores the index named "task" as a column of that name */
    bool ok2 = load_col(c, r, rel, "task", &tt, false) || load_col(c, r, rel, "__index_level_0__", &tt, false);
    if (!ok2)
        problem(c, rel, "column task missing");
    if (ok && ok2) {
        if (tt.v.type != TP_PQR_BYTE_ARRAY)
            problem(c, rel, "column task is not a string column");
        else
            for (int64_t row = 0; row < ti.v.nrows && row < tt.v.nrows; row++) {
                int64_t idx;
                if (!row_i64(&ti, row, &idx) || tt.ci->is_list || tt.v.row_value[row] < 0) {
                    problem(c, rel, "row %" PRId64 ": null task or task_index", row);
                    continue;
                }
                char *s = str_at(&tt, tt.v.row_value[row]);
                if (s)
                    add_task(c, rel, idx, s);
                free(s);
            }
    }
    free_col(&ti);
    free_col(&tt);
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
            problem(c, rel, "episode %" PRId64 ": task \"%s\" is not in the tasks", ep, t);
    }
    sqlite3_finalize(st);
}

static void parse_stats_json(checker *c, const char *rel, const char *json, const char *prefix, stat_set *out,
                             int64_t ep)
{
    for (int fi = 0; fi < c->nf; fi++) {
        const feature *f = &c->f[fi];
        stat_set *s = &out[fi];
        if (!f->numeric) /* image stats (per channel, sampled frames) are not checked */
            continue;
        for (int k = 0; k < NSTATS; k++) {
            char path[512];
            snprintf(path, sizeof path, "%s.\"%s\".%s", prefix, f->key, stat_names[k]);
            double vals[MAX_FEATURE_DIM];
            int n = jnums(c, json, path, vals, MAX_FEATURE_DIM);
            if (n < 0)
                continue;
            if (k == STAT_COUNT && n != 1) {
                problem(c, rel, "%s: stats %s/count is not [N]", ep < 0 ? "global" : "episode", f->key);
                continue;
            }
            stat_put(s, k, vals, n);
        }
    }
}

static void load_episodes_v21(checker *c)
{
    const char *rel = "meta/episodes.jsonl";
    char *p = joinp(c, rel);
    FILE *f = p ? fopen(p, "r") : NULL;
    free(p);
    if (!f) {
        problem(c, rel, "missing");
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
        if (!json_valid(c, line) || !jint(c, line, "$.episode_index", &idx) || !jint(c, line, "$.length", &len)) {
            problem(c, rel, "line %" PRId64 ": not {\"episode_index\": int, \"tasks\": [...], \"length\": int}", ln);
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
    p = joinp(c, rel);
    f = p ? fopen(p, "r") : NULL;
    free(p);
    if (!f) {
        problem(c, rel, "missing");
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
        if (!json_valid(c, line) || !jint(c, line, "$.episode_index", &idx)) {
            problem(c, rel, "line %" PRId64 ": not {\"episode_index\": int, \"stats\": {...}}", ln);
            continue;
        }
        episode *e = NULL;
        for (int64_t i = 0; i < c->nep; i++)
            if (c->ep[i].index == idx)
                e = &c->ep[i];
        if (!e) {
            problem(c, rel, "line %" PRId64 ": episode %" PRId64 " is not in meta/episodes.jsonl", ln, idx);
            continue;
        }
        stat_sets_free(e->stats, c->nf);
        e->stats = calloc((size_t)(c->nf ? c->nf : 1), sizeof *e->stats);
        if (e->stats)
            parse_stats_json(c, rel, line, "$.stats", e->stats, idx);
    }
    free(line);
    fclose(f);
}

static void load_episodes_v30(checker *c)
{
    char *pat = joinp(c, "meta/episodes/chunk-*/file-*.parquet");
    glob_t g;
    memset(&g, 0, sizeof g);
    int grc = pat ? glob(pat, 0, NULL, &g) : GLOB_NOSPACE;
    free(pat);
    if (grc != 0 || g.gl_pathc == 0) {
        problem(c, "meta/episodes", "no episode metadata files (meta/episodes/chunk-*/file-*.parquet)");
        globfree(&g);
        return;
    }
    c->ep_stats_present = true;
    for (size_t gi = 0; gi < g.gl_pathc; gi++) {
        const char *rel = g.gl_pathv[gi] + strlen(c->root) + 1;
        char err[512];
        tp_pqr_reader *r = tp_pqr_open(g.gl_pathv[gi], err, sizeof err);
        if (!r) {
            problem(c, rel, "%s", err + strlen(g.gl_pathv[gi]) + 2);
            continue;
        }
        pcol ei, len, from, to, dc, df, tasks;
        load_col(c, r, rel, "episode_index", &ei, true);
        load_col(c, r, rel, "length", &len, true);
        load_col(c, r, rel, "dataset_from_index", &from, true);
        load_col(c, r, rel, "dataset_to_index", &to, true);
        load_col(c, r, rel, "data/chunk_index", &dc, true);
        load_col(c, r, rel, "data/file_index", &df, true);
        load_col(c, r, rel, "tasks", &tasks, true);
        int64_t nrows = tp_pqr_num_rows(r);
        int64_t first = c->nep;
        for (int64_t row = 0; row < nrows; row++) {
            episode *e = new_episode(c);
            if (!e)
                break;
            snprintf(e->meta_rel, sizeof e->meta_rel, "%s", rel);
            if (!row_i64(&ei, row, &e->index) || !row_i64(&len, row, &e->length)) {
                problem(c, rel, "row %" PRId64 ": episode_index or length missing", row);
                e->index = -1;
            }
            e->has_range = row_i64(&from, row, &e->from) && row_i64(&to, row, &e->to);
            e->has_data_loc = row_i64(&dc, row, &e->data_chunk) && row_i64(&df, row, &e->data_file);
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
                        problem(c, rel, "episode %" PRId64 ": task \"%s\" is not in meta/tasks.parquet", e->index,
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
                load_col(c, r, rel, name, &vc, true);
                snprintf(name, sizeof name, "videos/%s/file_index", f->key);
                load_col(c, r, rel, name, &vf, true);
                snprintf(name, sizeof name, "videos/%s/from_timestamp", f->key);
                load_col(c, r, rel, name, &vfrom, true);
                snprintf(name, sizeof name, "videos/%s/to_timestamp", f->key);
                load_col(c, r, rel, name, &vto, true);
                for (int64_t row = 0; row < nrows && first + row < c->nep; row++) {
                    vloc *v = &c->ep[first + row].video[fi];
                    v->known = row_i64(&vc, row, &v->chunk) && row_i64(&vf, row, &v->file) &&
                               row_f64(&vfrom, row, &v->from_ts) && row_f64(&vto, row, &v->to_ts);
                    if (!v->known && vc.ok && vf.ok && vfrom.ok && vto.ok)
                        problem(c, rel, "row %" PRId64 ": null video location for %s", row, f->key);
                }
                free_col(&vc);
                free_col(&vf);
                free_col(&vfrom);
                free_col(&vto);
            }
            for (int k = 0; f->numeric && k < NSTATS; k++) {
                char name[512];
                snprintf(name, sizeof name, "stats/%s/%s", f->key, stat_names[k]);
                pcol sc;
                if (!load_col(c, r, rel, name, &sc, false))
                    continue;
                for (int64_t row = 0; row < nrows && first + row < c->nep; row++) {
                    episode *e = &c->ep[first + row];
                    if (!e->stats && !(e->stats = calloc((size_t)c->nf, sizeof *e->stats)))
                        continue;
                    double vals[MAX_FEATURE_DIM];
                    int n = row_list_f64(&sc, row, vals, MAX_FEATURE_DIM);
                    if (n < 0 || n > MAX_FEATURE_DIM || (k == STAT_COUNT && n != 1)) {
                        problem(c, rel, "row %" PRId64 ": %s is not a list of numbers", row, name);
                        continue;
                    }
                    stat_put(&e->stats[fi], k, vals, n);
                }
                free_col(&sc);
            }
        }
        free_col(&ei);
        free_col(&len);
        free_col(&from);
        free_col(&to);
        free_col(&dc);
        free_col(&df);
        free_col(&tasks);
        tp_pqr_close(r);
    }
    globfree(&g);
}

/* ---- data files ---- */

static bool acc_init(acc *a, int dim)
{
    size_t n = (size_t)(dim > 0 ? dim : 1);
    a->min = malloc(5 * n * sizeof *a->min);
    if (!a->min)
        return false;
    a->max = a->min + n;
    a->sum = a->max + n;
    a->sumsq = a->sum + n;
    a->shift = a->sumsq + n;
    for (size_t d = 0; d < n; d++) {
        a->min[d] = INFINITY;
        a->max[d] = -INFINITY;
        a->sum[d] = a->sumsq[d] = a->shift[d] = 0;
    }
    a->count = 0;
    a->shift_set = false;
    return true;
}

static void acc_free(acc *a)
{
    free(a->min);
    a->min = a->max = a->sum = a->sumsq = a->shift = NULL;
}

static void acc_merge(acc *into, const acc *a, int dim)
{
    for (int d = 0; d < dim; d++) {
        into->min[d] = fmin(into->min[d], a->min[d]);
        into->max[d] = fmax(into->max[d], a->max[d]);
        into->sum[d] += a->sum[d];
        into->sumsq[d] += a->sumsq[d];
    }
    into->count += a->count;
}

/* Compares stored stats with those computed from the data: min/max exactly
 * (LeRobot stores the float32 values' exact float64), mean/std within a
 * float32 accumulation tolerance, count exactly. */
static void compare_stats(checker *c, const char *rel, const char *who, const feature *f, const stat_set *s,
                          const acc *a)
{
    if (!s->present[STAT_MIN] && !s->present[STAT_MAX] && !s->present[STAT_MEAN]) {
        problem(c, rel, "%s: no stats for %s", who, f->key);
        return;
    }
    for (int k = 0; k < NSTATS; k++) {
        if (!s->present[k]) {
            problem(c, rel, "%s: stats %s/%s missing", who, f->key, stat_names[k]);
            continue;
        }
        if (k == STAT_COUNT) {
            if (s->count != a->count)
                problem(c, rel, "%s: stats %s/count is %" PRId64 ", the data has %" PRId64 " frames", who, f->key,
                        s->count, a->count);
            continue;
        }
        if (s->len[k] != f->dim) {
            problem(c, rel, "%s: stats %s/%s has %d values, the feature %d", who, f->key, stat_names[k], s->len[k],
                    f->dim);
            continue;
        }
        for (int d = 0; d < f->dim; d++) {
            double n = (double)a->count;
            double dm = a->sum[d] / n;
            double mean = a->shift[d] + dm;
            double var = fmax(0, a->sumsq[d] / n - dm * dm);
            double want = k == STAT_MIN ? a->min[d] : k == STAT_MAX ? a->max[d] : k == STAT_MEAN ? mean : sqrt(var);
            double scale = fmax(1e-6, fmax(fabs(a->min[d]), fabs(a->max[d])));
            double range = a->max[d] - a->min[d];
            double got = s->v[k][d];
            /* LeRobot computes float32 features' mean and std in float32
             * (numpy): relative errors around 1e-7 of the values' magnitude.
             * std is compared through the variance: near zero, sqrt turns a
             * rounding of the variance into a large std difference. */
            bool ok = k == STAT_MEAN  ? fabs(got - want) <= 1e-5 * scale
                      : k == STAT_STD ? fabs(got * got - var) <= 1e-5 * (range * range + scale * range) + 1e-12
                                      : got == want;
            if (!ok && !(isnan(got) && isnan(want))) {
                problem(c, rel, "%s: stats %s/%s[%d] is %.9g, the data gives %.9g", who, f->key, stat_names[k], d,
                        got, want);
                break;
            }
        }
    }
}

typedef struct dcols {
    pcol *col; /* per feature (numeric, in data) */
    int ifx[5]; /* feature indices of timestamp, frame_index, episode_index, index, task_index */
} dcols;

static const char *const default_keys[5] = {"timestamp", "frame_index", "episode_index", "index", "task_index"};

static const char *dtype_physical(const char *dtype, tp_pqr_physical t)
{
    if (!strcmp(dtype, "float32"))
        return t == TP_PQR_FLOAT ? NULL : "float32 (FLOAT)";
    if (!strcmp(dtype, "float64"))
        return t == TP_PQR_DOUBLE ? NULL : "float64 (DOUBLE)";
    if (!strcmp(dtype, "int64"))
        return t == TP_PQR_INT64 ? NULL : "int64 (INT64)";
    if (!strcmp(dtype, "int32") || !strcmp(dtype, "int16") || !strcmp(dtype, "int8") || !strcmp(dtype, "uint8"))
        return t == TP_PQR_INT32 ? NULL : "an INT32 column";
    if (!strcmp(dtype, "bool"))
        return t == TP_PQR_BOOLEAN ? NULL : "bool (BOOLEAN)";
    if (!strcmp(dtype, "string"))
        return t == TP_PQR_BYTE_ARRAY ? NULL : "string (BYTE_ARRAY)";
    return NULL;
}

/* Schema of one data file against info.json's features; loads numeric columns. */
static void load_data_columns(checker *c, tp_pqr_reader *r, const char *rel, dcols *dc)
{
    for (size_t i = 0; i < tp_pqr_num_columns(r); i++) {
        const tp_pqr_column_info *ci = tp_pqr_column(r, i);
        if (i > 0 && !strcmp(tp_pqr_column(r, i - 1)->name, ci->name))
            continue; /* another leaf of the same struct column */
        int fi = feature_index(c, ci->name);
        if (fi < 0)
            problem(c, rel, "column %s is not declared in meta/info.json features", ci->name);
        else if (c->f[fi].video)
            problem(c, rel, "column %s is a video feature: video features are not stored in parquet", ci->name);
    }
    for (int fi = 0; fi < c->nf; fi++) {
        feature *f = &c->f[fi];
        if (f->video)
            continue;
        int ci_idx = tp_pqr_find_column(r, f->key);
        if (ci_idx < 0) {
            problem(c, rel, "feature %s has no column", f->key);
            continue;
        }
        f->in_data = true;
        const tp_pqr_column_info *ci = tp_pqr_column(r, (size_t)ci_idx);
        const char *want = dtype_physical(f->dtype, ci->type);
        if (want) {
            problem(c, rel, "column %s: dtype %s in meta/info.json, parquet type is not %s", f->key, f->dtype, want);
            continue;
        }
        if (!f->numeric) {
            if (f->noted)
                continue;
            f->noted = true;
            if (numeric_dtype(f->dtype))
                note(c, rel, f->ndim > 1 ? "feature %s: %d-dimensional shape, values and stats not checked"
                                         : "feature %s: more than 4096 values per frame, values and stats not checked",
                     f->key, f->ndim);
            else if (strcmp(f->dtype, "string"))
                note(c, rel, "feature %s: dtype %s, values not checked", f->key, f->dtype);
            continue;
        }
        bool scalar_ok = f->dim == 1 && !ci->is_list;
        if (f->dim > 1 && !ci->is_list) {
            problem(c, rel, "column %s: shape [%d] in meta/info.json, but the column holds one value per row", f->key,
                    f->dim);
            continue;
        }
        if (!scalar_ok && !ci->is_list)
            continue;
        load_col(c, r, rel, f->key, &dc->col[fi], true);
        pcol *p = &dc->col[fi];
        if (!p->ok)
            continue;
        for (int64_t row = 0; row < p->v.nrows; row++) {
            if (!p->v.row_valid[row]) {
                problem(c, rel, "column %s: null at row %" PRId64, f->key, row);
                p->ok = false;
                break;
            }
            if (ci->is_list && p->v.list_off[row + 1] - p->v.list_off[row] != f->dim) {
                problem(c, rel, "column %s: row %" PRId64 " has %" PRId64 " values, shape [%d] in meta/info.json",
                        f->key, row, p->v.list_off[row + 1] - p->v.list_off[row], f->dim);
                p->ok = false;
                break;
            }
        }
    }
}

/* Rows [row0, row0+e->length) of a loaded data file are episode e. */
static void check_episode_rows(checker *c, const char *rel, dcols *dc, episode *e, int64_t row0)
{
    const pcol *ts = dc->ifx[0] >= 0 ? &dc->col[dc->ifx[0]] : NULL;
    const pcol *fx = dc->ifx[1] >= 0 ? &dc->col[dc->ifx[1]] : NULL;
    const pcol *ex = dc->ifx[2] >= 0 ? &dc->col[dc->ifx[2]] : NULL;
    const pcol *tx = dc->ifx[4] >= 0 ? &dc->col[dc->ifx[4]] : NULL;
    bool bad_ts = false, bad_fx = false, bad_ex = false, bad_tx = false;
    free(e->ts);
    e->ts = malloc((size_t)(e->length > 0 ? e->length : 1) * sizeof *e->ts);
    e->nts = 0;
    for (int64_t i = 0; i < e->length; i++) {
        int64_t row = row0 + i, v;
        double t;
        if (ts && row_f64(ts, row, &t)) {
            if (e->ts)
                e->ts[e->nts++] = t;
            double want = (double)i / c->fps;
            if (!bad_ts && !(fabs(t - want) <= TOL)) {
                problem(c, rel, "episode %" PRId64 ": timestamp off the %g fps grid at frame %" PRId64
                                " (row %" PRId64 "): %.9g, expected %.9g (tolerance %g s)",
                        e->index, c->fps, i, row, t, want, TOL);
                bad_ts = true;
            }
        }
        if (fx && row_i64(fx, row, &v) && v != i && !bad_fx) {
            problem(c, rel, "episode %" PRId64 ": frame_index at row %" PRId64 " is %" PRId64 ", expected %" PRId64,
                    e->index, row, v, i);
            bad_fx = true;
        }
        if (ex && row_i64(ex, row, &v) && v != e->index && !bad_ex) {
            problem(c, rel, "row %" PRId64 ": episode_index %" PRId64 ", the episode metadata says %" PRId64, row, v,
                    e->index);
            bad_ex = true;
        }
        if (tx && row_i64(tx, row, &v) && (v < 0 || v >= c->ntasks) && !bad_tx) {
            problem(c, rel, "episode %" PRId64 ": task_index %" PRId64 " at row %" PRId64 " is not a task (%" PRId64
                            " tasks)",
                    e->index, v, row, c->ntasks);
            bad_tx = true;
        }
    }
    /* stats of this episode */
    for (int fi = 0; fi < c->nf; fi++) {
        const feature *f = &c->f[fi];
        const pcol *p = &dc->col[fi];
        if (!f->numeric || !p->ok)
            continue;
        acc a, *g = &c->global[fi];
        if (!acc_init(&a, f->dim) || !g->min) {
            acc_free(&a);
            continue;
        }
        for (int64_t i = 0; i < e->length; i++) {
            double vals[MAX_FEATURE_DIM];
            if (row_list_f64(p, row0 + i, vals, MAX_FEATURE_DIM) != f->dim)
                continue;
            if (!g->shift_set) {
                memcpy(g->shift, vals, (size_t)f->dim * sizeof *vals);
                g->shift_set = true;
            }
            for (int d = 0; d < f->dim; d++) {
                double x = vals[d] - g->shift[d];
                a.min[d] = fmin(a.min[d], vals[d]);
                a.max[d] = fmax(a.max[d], vals[d]);
                a.sum[d] += x;
                a.sumsq[d] += x * x;
            }
            a.count++;
        }
        memcpy(a.shift, g->shift, (size_t)f->dim * sizeof *a.shift);
        acc_merge(&c->global[fi], &a, f->dim);
        if (c->ep_stats_present) {
            char who[64];
            snprintf(who, sizeof who, "episode %" PRId64, e->index);
            const char *srel = e->meta_rel;
            if (!e->stats)
                problem(c, srel, "%s: no stats", who);
            else
                compare_stats(c, srel, who, f, &e->stats[fi], &a);
        }
        acc_free(&a);
    }
}

/* Loads a data file; checks `index` contiguity against the running counter.
 * Returns the reader (for the episode checks) or NULL. */
static tp_pqr_reader *open_data_file(checker *c, const char *rel, dcols *dc)
{
    char *p = joinp(c, rel), err[1024];
    tp_pqr_reader *r = p ? tp_pqr_open(p, err, sizeof err) : NULL;
    if (!r) {
        struct stat sb;
        if (p && stat(p, &sb) != 0)
            problem(c, rel, "missing");
        else
            problem(c, rel, "%s", err + strlen(p) + 2);
        free(p);
        return NULL;
    }
    free(p);
    memset(dc->col, 0, (size_t)c->nf * sizeof *dc->col);
    load_data_columns(c, r, rel, dc);
    const pcol *ix = dc->ifx[3] >= 0 ? &dc->col[dc->ifx[3]] : NULL;
    if (ix && ix->ok) {
        for (int64_t row = 0; row < ix->v.nrows; row++) {
            int64_t v;
            if (row_i64(ix, row, &v) && v != c->next_index + row) {
                problem(c, rel, "index not contiguous at row %" PRId64 " (expected %" PRId64 ", got %" PRId64 ")", row,
                        c->next_index + row, v);
                break;
            }
        }
    }
    return r;
}

static void close_data_file(checker *c, tp_pqr_reader *r, dcols *dc)
{
    for (int fi = 0; fi < c->nf; fi++)
        free_col(&dc->col[fi]);
    c->next_index += tp_pqr_num_rows(r);
    tp_pqr_close(r);
}

static void check_data_v21(checker *c, dcols *dc)
{
    for (int64_t i = 0; i < c->nep; i++) {
        episode *e = &c->ep[i];
        char rel[1024];
        tvar vars[] = {{"episode_chunk", e->index / c->chunks_size, NULL}, {"episode_index", e->index, NULL},
                       {"chunk_index", e->index / c->chunks_size, NULL}};
        if (!format_path(c->data_path, vars, 3, rel, sizeof rel)) {
            problem(c, "meta/info.json", "data_path %s: cannot be formatted", c->data_path);
            return;
        }
        tp_pqr_reader *r = open_data_file(c, rel, dc);
        if (!r) {
            c->next_index += e->length;
            continue;
        }
        if (tp_pqr_num_rows(r) != e->length)
            problem(c, rel, "episode %" PRId64 " has %" PRId64 " rows, meta/episodes.jsonl says length %" PRId64,
                    e->index, tp_pqr_num_rows(r), e->length);
        else
            check_episode_rows(c, rel, dc, e, 0);
        close_data_file(c, r, dc);
    }
}

static int cmp_i64pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

static void check_data_v30(checker *c, dcols *dc)
{
    /* tiling of dataset_from_index / dataset_to_index */
    int64_t pos = 0;
    for (int64_t i = 0; i < c->nep; i++) {
        episode *e = &c->ep[i];
        if (!e->has_range) {
            problem(c, "meta/episodes", "episode %" PRId64 ": dataset_from_index/dataset_to_index missing", e->index);
            continue;
        }
        if (e->from != pos)
            problem(c, "meta/episodes", "episode %" PRId64 ": dataset_from_index %" PRId64 ", expected %" PRId64
                                        " (episodes must tile the data rows)",
                    e->index, e->from, pos);
        if (e->to - e->from != e->length)
            problem(c, "meta/episodes", "episode %" PRId64 ": dataset_to_index - dataset_from_index = %" PRId64
                                        ", length %" PRId64,
                    e->index, e->to - e->from, e->length);
        pos = e->to;
    }
    /* data files in (chunk, file) order, each once */
    int64_t (*files)[2] = calloc(c->nep > 0 ? (size_t)c->nep : 1, sizeof *files);
    size_t nfiles = 0;
    for (int64_t i = 0; files && i < c->nep; i++)
        if (c->ep[i].has_data_loc) {
            files[nfiles][0] = c->ep[i].data_chunk;
            files[nfiles][1] = c->ep[i].data_file;
            nfiles++;
        }
    if (files)
        qsort(files, nfiles, sizeof *files, cmp_i64pair);
    for (size_t k = 0; files && k < nfiles; k++) {
        if (k && files[k][0] == files[k - 1][0] && files[k][1] == files[k - 1][1])
            continue;
        char rel[1024];
        tvar vars[] = {{"chunk_index", files[k][0], NULL}, {"file_index", files[k][1], NULL}};
        if (!format_path(c->data_path, vars, 2, rel, sizeof rel)) {
            problem(c, "meta/info.json", "data_path %s: cannot be formatted", c->data_path);
            break;
        }
        int64_t file_start = c->next_index;
        tp_pqr_reader *r = open_data_file(c, rel, dc);
        int64_t rows = r ? tp_pqr_num_rows(r) : 0, covered = 0;
        for (int64_t i = 0; i < c->nep; i++) {
            episode *e = &c->ep[i];
            if (!e->has_data_loc || e->data_chunk != files[k][0] || e->data_file != files[k][1] || !e->has_range)
                continue;
            covered += e->length;
            if (!r)
                continue;
            int64_t row0 = e->from - file_start;
            if (row0 < 0 || row0 + e->length > rows) {
                problem(c, rel, "episode %" PRId64 ": rows %" PRId64 "..%" PRId64 " are not in this file (%" PRId64
                                " rows from index %" PRId64 ")",
                        e->index, e->from, e->to, rows, file_start);
                continue;
            }
            check_episode_rows(c, rel, dc, e, row0);
        }
        if (r) {
            if (covered != rows)
                problem(c, rel, "%" PRId64 " rows, its episodes in meta/episodes have %" PRId64 " frames", rows,
                        covered);
            close_data_file(c, r, dc);
        } else
            c->next_index += covered;
    }
    free(files);
    /* files nobody points to */
    char *pat = joinp(c, "data/chunk-*/file-*.parquet");
    glob_t g;
    memset(&g, 0, sizeof g);
    if (pat && glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > nfiles) {
        size_t unique = 0;
        for (int64_t i = 0; i < c->nep; i++)
            unique += i == 0 || c->ep[i].data_chunk != c->ep[i - 1].data_chunk ||
                      c->ep[i].data_file != c->ep[i - 1].data_file;
        if (g.gl_pathc > unique)
            problem(c, "data", "%zu data files, the episode metadata refers to %zu", g.gl_pathc, unique);
    }
    globfree(&g);
    free(pat);
}

/* ---- videos ---- */

static bool near_frame(const double *times, int64_t n, double q)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (times[mid] < q)
            lo = mid + 1;
        else
            hi = mid;
    }
    double best = INFINITY;
    if (lo < n)
        best = fabs(times[lo] - q);
    if (lo > 0)
        best = fmin(best, fabs(times[lo - 1] - q));
    return best <= TOL;
}

static void check_video_format(checker *c, const char *rel, const feature *f, const tp_video_probe *vp)
{
    if (f->vcodec[0] && strcmp(f->vcodec, vp->codec))
        problem(c, rel, "codec %s, meta/info.json says video.codec %s", vp->codec, f->vcodec);
    if (f->vpix_fmt[0] && strcmp(f->vpix_fmt, vp->pix_fmt))
        problem(c, rel, "pix_fmt %s, meta/info.json says video.pix_fmt %s", vp->pix_fmt, f->vpix_fmt);
    int64_t h = f->vheight ? f->vheight : f->ndim == 3 ? f->shape[0] : 0;
    int64_t w = f->vwidth ? f->vwidth : f->ndim == 3 ? f->shape[1] : 0;
    if ((h && h != vp->height) || (w && w != vp->width))
        problem(c, rel, "%dx%d, meta/info.json says %" PRId64 "x%" PRId64, vp->width, vp->height, w, h);
    if (f->ndim == 3 && (f->shape[0] != vp->height || f->shape[1] != vp->width))
        problem(c, rel, "%dx%d, feature %s has shape [%" PRId64 ", %" PRId64 ", %" PRId64 "]", vp->width, vp->height,
                f->key, f->shape[0], f->shape[1], f->shape[2]);
    double fps = f->vfps > 0 ? f->vfps : c->fps;
    if (vp->fps > 0 && fabs(vp->fps - fps) > 1e-3 * fps)
        problem(c, rel, "frame rate %.6g, the dataset's is %g", vp->fps, fps);
}

/* The frames of [from, to) must be one per data frame, and every data
 * timestamp from + ts[i] must find a frame within tolerance_s (LeRobot's
 * decode check). */
static void check_episode_video(checker *c, const char *rel, const feature *f, const tp_video_probe *vp,
                                const episode *e, double from, double to)
{
    int64_t n = 0;
    for (int64_t j = 0; j < vp->nframes; j++)
        n += vp->times[j] >= from - TOL && vp->times[j] < to - TOL;
    if (n != e->length && isinf(to))
        problem(c, rel, "episode %" PRId64 ": wrong frame count: %" PRId64 " frames, the episode has %" PRId64 " (%s)",
                e->index, n, e->length, f->key);
    else if (n != e->length)
        problem(c, rel, "episode %" PRId64 ": wrong frame count: %" PRId64 " frames in [%.6f, %.6f) s, the episode has %" PRId64
                        " (%s)",
                e->index, n, from, to, e->length, f->key);
    for (int64_t i = 0; i < e->nts; i++) {
        double q = from + e->ts[i];
        if (!near_frame(vp->times, vp->nframes, q)) {
            problem(c, rel, "episode %" PRId64 ": no video frame within %g s of frame %" PRId64 " at %.6f s (%s)",
                    e->index, TOL, i, q, f->key);
            break;
        }
    }
    double dur = to - from, want = (double)e->length / c->fps;
    if (!isinf(to) && fabs(dur - want) > 0.5 / c->fps)
        problem(c, rel, "episode %" PRId64 ": video span %.6f s, %" PRId64 " frames at %g fps last %.6f s", e->index,
                dur, e->length, c->fps, want);
}

static void check_videos(checker *c, int *nvideos)
{
    for (int fi = 0; fi < c->nf; fi++) {
        const feature *f = &c->f[fi];
        if (!f->video)
            continue;
        /* v2.1: one file per episode; v3.0: files shared by consecutive episodes */
        for (int64_t i = 0; i < c->nep; i++) {
            const episode *e = &c->ep[i];
            char rel[1024];
            bool ok;
            if (c->version == 21) {
                tvar vars[] = {{"episode_chunk", e->index / c->chunks_size, NULL},
                               {"episode_index", e->index, NULL},
                               {"video_key", 0, f->key}};
                ok = format_path(c->video_path, vars, 3, rel, sizeof rel);
            } else {
                if (!e->video[fi].known) {
                    problem(c, "meta/episodes", "episode %" PRId64 ": no video location for %s", e->index, f->key);
                    continue;
                }
                if (i > 0 && c->ep[i - 1].video[fi].known && c->ep[i - 1].video[fi].chunk == e->video[fi].chunk &&
                    c->ep[i - 1].video[fi].file == e->video[fi].file)
                    continue; /* this file was checked with its first episode */
                tvar vars[] = {{"chunk_index", e->video[fi].chunk, NULL},
                               {"file_index", e->video[fi].file, NULL},
                               {"video_key", 0, f->key}};
                ok = format_path(c->video_path, vars, 3, rel, sizeof rel);
            }
            if (!ok) {
                problem(c, "meta/info.json", "video_path %s: cannot be formatted", c->video_path);
                return;
            }
            if (!exists_rel(c, rel)) {
                int64_t last = i;
                while (c->version == 30 && last + 1 < c->nep && c->ep[last + 1].video[fi].known &&
                       c->ep[last + 1].video[fi].chunk == e->video[fi].chunk &&
                       c->ep[last + 1].video[fi].file == e->video[fi].file)
                    last++;
                if (last > i)
                    problem(c, rel, "missing video (%s, episodes %" PRId64 "-%" PRId64 ")", f->key, e->index,
                            c->ep[last].index);
                else
                    problem(c, rel, "missing video (%s, episode %" PRId64 ")", f->key, e->index);
                continue;
            }
            char *path = joinp(c, rel), err[512];
            tp_video_probe vp;
            int rc = path ? tp_video_probe_file(path, &vp, err, sizeof err) : -1;
            free(path);
            if (rc) {
                problem(c, rel, "%s", err);
                continue;
            }
            (*nvideos)++;
            check_video_format(c, rel, f, &vp);
            if (c->version == 21) {
                check_episode_video(c, rel, f, &vp, e, 0, INFINITY);
                double want = (double)e->length / c->fps;
                if (vp.duration >= 0 && fabs(vp.duration - want) > 0.5 / c->fps)
                    problem(c, rel, "duration %.6f s, %" PRId64 " frames at %g fps last %.6f s", vp.duration,
                            e->length, c->fps, want);
            } else {
                double last_to = 0;
                int64_t j = i;
                for (; j < c->nep; j++) {
                    const episode *ej = &c->ep[j];
                    if (!ej->video[fi].known || ej->video[fi].chunk != e->video[fi].chunk ||
                        ej->video[fi].file != e->video[fi].file)
                        break;
                    check_episode_video(c, rel, f, &vp, ej, ej->video[fi].from_ts, ej->video[fi].to_ts);
                    last_to = ej->video[fi].to_ts;
                }
                int64_t inside = 0;
                for (int64_t k = 0; k < vp.nframes; k++)
                    inside += vp.times[k] < last_to - TOL;
                if (inside != vp.nframes)
                    problem(c, rel, "%" PRId64 " frames after the last episode's to_timestamp %.6f s", vp.nframes - inside,
                            last_to);
                if (vp.duration >= 0 && fabs(vp.duration - last_to) > 0.5 / c->fps)
                    problem(c, rel, "duration %.6f s, its last episode ends at %.6f s", vp.duration, last_to);
            }
            tp_video_probe_free(&vp);
        }
    }
}

/* ---- counts and global stats ---- */

static void check_counts(checker *c, int64_t nvideo_features)
{
    const char *rel = "meta/info.json";
    int64_t v, frames = 0;
    for (int64_t i = 0; i < c->nep; i++) {
        if (c->ep[i].index != i)
            problem(c, c->version == 21 ? "meta/episodes.jsonl" : "meta/episodes",
                    "episode %" PRId64 " at position %" PRId64 " (episode_index must run 0..N-1 in order)",
                    c->ep[i].index, i);
        frames += c->ep[i].length;
    }
    static const char *const ints[] = {"total_episodes", "total_frames", "total_tasks", "total_videos", "total_chunks"};
    for (size_t i = 0; i < (c->version == 21 ? 5u : 3u); i++) {
        char p[64], t[16];
        snprintf(p, sizeof p, "$.%s", ints[i]);
        jtype(c, c->info, p, t, sizeof t);
        if (t[0] && strcmp(t, "integer"))
            problem(c, rel, "%s is not an integer", ints[i]);
    }
    if (jint(c, c->info, "$.total_episodes", &v) && v != c->nep)
        problem(c, rel, "total_episodes %" PRId64 ", the episode metadata has %" PRId64, v, c->nep);
    if (jint(c, c->info, "$.total_frames", &v) && v != frames)
        problem(c, rel, "total_frames %" PRId64 ", the episodes have %" PRId64 " frames", v, frames);
    if (jint(c, c->info, "$.total_frames", &v) && v != c->next_index)
        problem(c, rel, "total_frames %" PRId64 ", the data files have %" PRId64 " rows", v, c->next_index);
    if (jint(c, c->info, "$.total_tasks", &v) && v != c->ntasks)
        problem(c, rel, "total_tasks %" PRId64 ", the tasks file has %" PRId64, v, c->ntasks);
    if (c->version == 21) {
        if (jint(c, c->info, "$.total_videos", &v) && v != c->nep * nvideo_features)
            problem(c, rel, "total_videos %" PRId64 ", expected %" PRId64 " (%" PRId64 " episodes x %" PRId64 " cameras)",
                    v, c->nep * nvideo_features, c->nep, nvideo_features);
        int64_t chunks = (c->nep + c->chunks_size - 1) / c->chunks_size;
        if (jint(c, c->info, "$.total_chunks", &v) && v != chunks)
            problem(c, rel, "total_chunks %" PRId64 ", %" PRId64 " episodes in chunks of %" PRId64 " make %" PRId64, v,
                    c->nep, c->chunks_size, chunks);
    }
    char *split = jstr(c, c->info, "$.splits.train");
    char want[64];
    snprintf(want, sizeof want, "0:%" PRId64, c->nep);
    if (split && strcmp(split, want))
        problem(c, rel, "splits.train is \"%s\", expected \"%s\"", split, want);
    free(split);
}

static void check_global_stats(checker *c)
{
    const char *rel = "meta/stats.json";
    char *p = joinp(c, rel);
    char *json = p ? read_text(p) : NULL;
    free(p);
    if (!json) {
        if (c->version == 30)
            problem(c, rel, "missing");
        return;
    }
    if (!json_valid(c, json)) {
        problem(c, rel, "not valid JSON");
        free(json);
        return;
    }
    stat_set *s = calloc((size_t)(c->nf ? c->nf : 1), sizeof *s);
    if (s) {
        parse_stats_json(c, rel, json, "$", s, -1);
        for (int fi = 0; fi < c->nf; fi++)
            if (c->f[fi].numeric && c->f[fi].in_data && c->global[fi].count > 0)
                compare_stats(c, rel, "global", &c->f[fi], &s[fi], &c->global[fi]);
    }
    stat_sets_free(s, c->nf);
    free(json);
}

int tp_export_check(const char *dataset, FILE *report)
{
    struct stat sb;
    size_t dl = strlen(dataset);
    if ((dl > 5 && !strcmp(dataset + dl - 5, ".hdf5")) || (dl > 3 && !strcmp(dataset + dl - 3, ".h5"))) {
        fprintf(report, "%s: HDF5 check not supported yet (LeRobot v2.1 and v3.0 datasets are)\n", dataset);
        return 2;
    }
    if (stat(dataset, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(report, "%s: %s\n", dataset, stat(dataset, &sb) != 0 ? strerror(errno) : "not a folder");
        return 2;
    }
    checker ck;
    checker *c = &ck;
    memset(c, 0, sizeof *c);
    c->out = report;
    char root[4096];
    snprintf(root, sizeof root, "%s", dataset);
    while (strlen(root) > 1 && root[strlen(root) - 1] == '/')
        root[strlen(root) - 1] = 0;
    c->root = root;
    if (sqlite3_open(":memory:", &c->db) != SQLITE_OK) {
        fprintf(report, "%s: cannot open SQLite\n", dataset);
        sqlite3_close(c->db);
        return 2;
    }
    int nvideos = 0;
    int64_t nvideo_features = 0;
    if (load_info(c) == 0) {
        for (int fi = 0; fi < c->nf; fi++)
            nvideo_features += c->f[fi].video;
        load_tasks(c);
        if (c->version == 21)
            load_episodes_v21(c);
        else
            load_episodes_v30(c);
        dcols dc;
        dc.col = calloc((size_t)(c->nf ? c->nf : 1), sizeof *dc.col);
        c->global = calloc((size_t)(c->nf ? c->nf : 1), sizeof *c->global);
        for (int k = 0; k < 5; k++)
            dc.ifx[k] = feature_index(c, default_keys[k]);
        if (dc.col && c->global) {
            for (int fi = 0; fi < c->nf; fi++)
                if (c->f[fi].numeric)
                    acc_init(&c->global[fi], c->f[fi].dim);
            if (c->version == 21)
                check_data_v21(c, &dc);
            else
                check_data_v30(c, &dc);
            check_counts(c, nvideo_features);
            check_global_stats(c);
            check_videos(c, &nvideos);
        }
        free(dc.col);
    }
    int64_t frames = 0;
    for (int64_t i = 0; i < c->nep; i++)
        frames += c->ep[i].length;
    if (c->version)
        fprintf(report, "%s: LeRobot %s, %" PRId64 " episodes, %" PRId64 " frames, %" PRId64 " tasks, %d video files: %s",
                root, c->version == 21 ? "v2.1" : "v3.0", c->nep, frames, c->ntasks, nvideos,
                c->problems ? "" : "valid\n");
    else
        fprintf(report, "%s: ", root);
    if (c->problems)
        fprintf(report, "%d problem%s\n", c->problems, c->problems == 1 ? "" : "s");
    int rc = c->problems ? 1 : 0;
    for (int64_t i = 0; i < c->nep; i++)
        episode_free(c, &c->ep[i]);
    free(c->ep);
    for (int i = 0; i < c->nf; i++) {
        free(c->f[i].key);
        free(c->f[i].dtype);
    }
    free(c->f);
    for (int64_t i = 0; i < c->ntasks; i++)
        free(c->tasks[i]);
    free(c->tasks);
    for (int i = 0; c->global && i < c->nf; i++)
        acc_free(&c->global[i]);
    free(c->global);
    free(c->info);
    free(c->data_path);
    free(c->video_path);
    sqlite3_close(c->db);
    return rc;
}
