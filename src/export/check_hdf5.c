/* `teleop export --check` for HDF5 datasets: an ALOHA folder of
 * episode_N.hdf5 files (or one such file) and robomimic files, ours or
 * anyone's. The layout is told by the file itself: a `data` group is
 * robomimic, `observations`/`action` is ALOHA. docs/export.md, "Checking a
 * dataset", lists every rule. Problems are printed as they are found, one
 * line each, the first per dataset, never one per row. */
#include "check_hdf5.h"

#include <errno.h>
#include <glob.h>
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RANK 8
/* Values read into memory at once (float64: 1 GiB); a larger dataset, or
 * dimensions a damaged file claims, is reported instead of read. */
#define MAX_READ_VALUES ((hsize_t)1 << 27)

typedef struct h5ck {
    FILE *out;
    const char *file; /* the file being checked, as the report names it */
    int problems;
    sqlite3 *db; /* json_valid */
} h5ck;

static void problem(h5ck *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(k->out, "%s: ", k->file);
    vfprintf(k->out, fmt, ap);
    fputc('\n', k->out);
    va_end(ap);
    k->problems++;
}

static void note(h5ck *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(k->out, "note: %s: ", k->file);
    vfprintf(k->out, fmt, ap);
    fputc('\n', k->out);
    va_end(ap);
}

/* Whether PATH (a/b/c, relative to loc) names an object: each link checked
 * in turn, as H5Lexists wants. */
static bool path_exists(hid_t loc, const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf;; p++) {
        char ch = *p;
        if (ch == '/' || ch == 0) {
            *p = 0;
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0 || H5Oexists_by_name(loc, buf, H5P_DEFAULT) <= 0)
                return false;
            *p = ch;
            if (!ch)
                return true;
        }
    }
}

static bool is_group(hid_t loc, const char *path)
{
    H5O_info_t oi;
    return path_exists(loc, path) && H5Oget_info_by_name2(loc, path, &oi, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
           oi.type == H5O_TYPE_GROUP;
}

typedef struct dsinfo {
    hid_t d;
    H5T_class_t cls;
    size_t size; /* bytes per value */
    bool is_unsigned;
    int rank;
    hsize_t dims[MAX_RANK];
} dsinfo;

/* Opens dataset PATH (reported as SHOWN when missing or not a dataset);
 * false, with the problem printed, when it cannot. */
static bool ds_open(h5ck *k, hid_t loc, const char *path, const char *shown, dsinfo *di)
{
    memset(di, 0, sizeof *di);
    di->d = H5I_INVALID_HID;
    H5O_info_t oi;
    if (!path_exists(loc, path)) {
        problem(k, "%s: missing", shown);
        return false;
    }
    if (H5Oget_info_by_name2(loc, path, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) {
        problem(k, "%s: not a dataset", shown);
        return false;
    }
    di->d = H5Dopen2(loc, path, H5P_DEFAULT);
    hid_t t = di->d >= 0 ? H5Dget_type(di->d) : H5I_INVALID_HID;
    hid_t s = di->d >= 0 ? H5Dget_space(di->d) : H5I_INVALID_HID;
    int rank = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
    bool ok = t >= 0 && rank >= 0 && rank <= MAX_RANK;
    if (ok) {
        di->cls = H5Tget_class(t);
        di->size = H5Tget_size(t);
        di->is_unsigned = di->cls == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_NONE;
        di->rank = rank;
        H5Sget_simple_extent_dims(s, di->dims, NULL);
    }
    if (t >= 0)
        H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    if (!ok) {
        problem(k, "%s: unreadable (type or shape)", shown);
        if (di->d >= 0)
            H5Dclose(di->d);
        di->d = H5I_INVALID_HID;
    }
    return ok;
}

static void ds_close(dsinfo *di)
{
    if (di->d >= 0)
        H5Dclose(di->d);
    di->d = H5I_INVALID_HID;
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_ENUM: return "enum";
    case H5T_COMPOUND: return "compound";
    default: return "other";
    }
}

/* Values in the dataset, saturating at HSIZE_UNDEF (damaged dimensions). */
static hsize_t ds_count(const dsinfo *di)
{
    hsize_t n = 1;
    for (int i = 0; i < di->rank; i++) {
        if (di->dims[i] && n > HSIZE_UNDEF / di->dims[i])
            return HSIZE_UNDEF;
        n *= di->dims[i];
    }
    return n;
}

/* Every value as float64 (HDF5 converts), NULL (problem printed) when it
 * cannot be read. */
static double *ds_read_f64(h5ck *k, const dsinfo *di, const char *shown)
{
    hsize_t n = ds_count(di);
    if (n > MAX_READ_VALUES) {
        problem(k, "%s: %s values, too many to check", shown, n == HSIZE_UNDEF ? "more than 2^64" : "over 2^27");
        return NULL;
    }
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) {
        problem(k, "%s: out of memory reading %" PRIu64 " values", shown, (uint64_t)n);
        return NULL;
    }
    if (n && H5Dread(di->d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        problem(k, "%s: cannot read its values", shown);
        free(v);
        return NULL;
    }
    return v;
}

/* No NaN or infinity in a float dataset; the first one is reported. */
static void check_finite(h5ck *k, const dsinfo *di, const char *shown)
{
    if (di->cls != H5T_FLOAT)
        return;
    double *v = ds_read_f64(k, di, shown);
    if (!v)
        return;
    hsize_t n = ds_count(di), cols = di->rank >= 2 ? n / (di->dims[0] ? di->dims[0] : 1) : 1;
    for (hsize_t i = 0; i < n; i++)
        if (!isfinite(v[i])) {
            problem(k, "%s: %s at row %" PRIu64 " column %" PRIu64, shown, isnan(v[i]) ? "NaN" : "infinity",
                    (uint64_t)(i / cols), (uint64_t)(i % cols));
            break;
        }
    free(v);
}

/* An integer-valued attribute (h5py's bool enum, any integer type). */
static bool attr_int(hid_t obj, const char *name, int64_t *out)
{
    if (H5Aexists(obj, name) <= 0)
        return false;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    hid_t s = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    bool ok = false;
    if (t >= 0 && s >= 0 && H5Sget_simple_extent_npoints(s) == 1) {
        H5T_class_t c = H5Tget_class(t);
        if (c == H5T_INTEGER) {
            ok = H5Aread(a, H5T_NATIVE_INT64, out) >= 0;
        } else if (c == H5T_ENUM && H5Tget_size(t) <= 8) {
            /* HDF5 converts no enum to an integer: the raw value, by size
             * (read in the file's own type: enums are little-endian here) */
            union {
                int8_t i8;
                int16_t i16;
                int32_t i32;
                int64_t i64;
            } u = {.i64 = 0};
            if (H5Aread(a, t, &u) >= 0) {
                size_t sz = H5Tget_size(t);
                *out = sz == 1 ? u.i8 : sz == 2 ? u.i16 : sz == 4 ? u.i32 : u.i64;
                ok = true;
            }
        }
    }
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return ok;
}

/* A string attribute (variable or fixed length); malloc'd, NULL when absent or not a string. */
static char *attr_str(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    char *res = NULL;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            char *v = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            if (H5Aread(a, mt, &v) >= 0 && v) {
                res = strdup(v);
                H5free_memory(v);
            }
            H5Tclose(mt);
        } else {
            size_t sz = H5Tget_size(t);
            res = calloc(sz + 1, 1);
            if (res && H5Aread(a, t, res) < 0) {
                free(res);
                res = NULL;
            }
        }
    }
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return res;
}

/* Names of a group's links, in name order (h5py's); *n set. */
typedef struct names {
    char **v;
    size_t n, cap;
} names;

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *arg)
{
    (void)g;
    (void)info;
    names *ns = arg;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 16;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v)
            return -1;
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n] = strdup(name);
    return ns->v[ns->n++] ? 0 : -1;
}

static names list_group(hid_t loc, const char *path)
{
    names ns = {0};
    hid_t g = H5Gopen2(loc, path, H5P_DEFAULT);
    if (g >= 0) {
        hsize_t idx = 0;
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &ns);
        H5Gclose(g);
    }
    return ns;
}

static void names_free(names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    memset(ns, 0, sizeof *ns);
}

/* ---- ALOHA ---- */

/* Float 2-D T x N, finite; returns N (-1 when wrong), *rows set. */
static int64_t check_matrix(h5ck *k, hid_t f, const char *path, hsize_t *rows, bool *present)
{
    dsinfo di;
    char shown[300];
    snprintf(shown, sizeof shown, "/%s", path);
    *present = false;
    if (!ds_open(k, f, path, shown, &di))
        return -1;
    *present = true;
    int64_t n = -1;
    *rows = di.rank >= 1 ? di.dims[0] : 0;
    if (di.rank != 2)
        problem(k, "%s: %d-D, expected 2-D (T, N)", shown, di.rank);
    else if (di.cls != H5T_FLOAT)
        problem(k, "%s: %s values, expected float", shown, class_name(di.cls));
    else {
        n = (int64_t)di.dims[1];
        check_finite(k, &di, shown);
    }
    ds_close(&di);
    return n;
}

static void rows_match(h5ck *k, const char *what, hsize_t rows, hsize_t qrows)
{
    if (rows != qrows)
        problem(k, "/observations/qpos: %" PRIu64 " rows, %s has %" PRIu64, (uint64_t)qrows, what, (uint64_t)rows);
}

/* One camera's JPEG frames against compress_len row `lens`. */
static void check_jpegs(h5ck *k, const dsinfo *di, const char *shown, const double *lens, hsize_t frames)
{
    hsize_t width = di->dims[1];
    if (width > MAX_READ_VALUES) {
        problem(k, "%s: padded width %" PRIu64 ", too large to check", shown, (uint64_t)width);
        return;
    }
    uint8_t *row = malloc(width ? width : 1);
    if (!row) {
        problem(k, "%s: out of memory", shown);
        return;
    }
    hid_t fs = H5Dget_space(di->d);
    hsize_t mdims[1] = {width};
    hid_t ms = H5Screate_simple(1, mdims, NULL);
    for (hsize_t i = 0; i < frames && i < di->dims[0]; i++) {
        double l = lens[i];
        if (!(l >= 4 && l <= (double)width && l == floor(l))) {
            problem(k, "/compress_len: %s frame %" PRIu64 ": length %g, the padded width is %" PRIu64
                       " (a JPEG length is a whole number from 4 to the width)",
                    shown, (uint64_t)i, l, (uint64_t)width);
            break;
        }
        hsize_t start[2] = {i, 0}, count[2] = {1, width};
        if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(di->d, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, row) < 0) {
            problem(k, "%s: frame %" PRIu64 " unreadable", shown, (uint64_t)i);
            break;
        }
        size_t len = (size_t)l;
        if (row[0] != 0xFF || row[1] != 0xD8) {
            problem(k, "%s: frame %" PRIu64 " does not start with a JPEG SOI (FF D8)", shown, (uint64_t)i);
            break;
        }
        bool eoi = false;
        for (size_t j = len; j >= 4 && !eoi; j--)
            eoi = row[j - 2] == 0xFF && row[j - 1] == 0xD9;
        if (!eoi) {
            problem(k, "%s: frame %" PRIu64 ": no JPEG EOI (FF D9) within its compress_len %zu", shown, (uint64_t)i,
                    len);
            break;
        }
    }
    H5Sclose(ms);
    H5Sclose(fs);
    free(row);
}

static void check_aloha(h5ck *k, hid_t f)
{
    int64_t sim = 0, compress = 0;
    if (!attr_int(f, "sim", &sim))
        problem(k, "attribute sim: missing (or not a bool)");
    bool has_compress = attr_int(f, "compress", &compress);
    if (!has_compress)
        problem(k, "attribute compress: missing (or not a bool)");
    hsize_t T = 0, rows = 0;
    bool qpos_present, present;
    int64_t nq = check_matrix(k, f, "observations/qpos", &T, &qpos_present);
    if (path_exists(f, "observations/qvel")) {
        int64_t nv = check_matrix(k, f, "observations/qvel", &rows, &present);
        if (qpos_present)
            rows_match(k, "/observations/qvel", rows, T);
        if (nq >= 0 && nv >= 0 && nq != nv)
            problem(k, "/observations/qvel: %" PRId64 " columns, /observations/qpos has %" PRId64, nv, nq);
    } else {
        note(k, "/observations/qvel absent (ACT's loader reads it)");
    }
    check_matrix(k, f, "action", &rows, &present);
    if (present && qpos_present)
        rows_match(k, "/action", rows, T);
    if (!is_group(f, "observations/images")) {
        problem(k, "/observations/images: missing");
        return;
    }
    names cams = list_group(f, "observations/images");
    if (!cams.n)
        problem(k, "/observations/images: no camera");
    double *lens = NULL;
    dsinfo cl = {.d = H5I_INVALID_HID};
    if (compress) {
        if (ds_open(k, f, "compress_len", "/compress_len", &cl)) {
            if (cl.rank != 2 || cl.dims[0] != cams.n || (qpos_present && cl.dims[1] != T))
                problem(k, "/compress_len: shape (%" PRIu64 ", %" PRIu64 "), expected (cameras %zu, T %" PRIu64 ")",
                        (uint64_t)cl.dims[0], cl.rank == 2 ? (uint64_t)cl.dims[1] : 0, cams.n, (uint64_t)T);
            else
                lens = ds_read_f64(k, &cl, "/compress_len");
        }
    } else if (path_exists(f, "compress_len")) {
        problem(k, "/compress_len: present but attribute compress is false");
    }
    for (size_t c = 0; c < cams.n; c++) {
        char path[512], shown[520];
        snprintf(path, sizeof path, "observations/images/%s", cams.v[c]);
        snprintf(shown, sizeof shown, "/%s", path);
        dsinfo di;
        if (!ds_open(k, f, path, shown, &di))
            continue;
        if (di.cls != H5T_INTEGER || di.size != 1 || !di.is_unsigned)
            problem(k, "%s: %s values of %zu bytes, expected uint8", shown, class_name(di.cls), di.size);
        else if (!compress && (di.rank != 4 || di.dims[3] != 3))
            problem(k, "%s: %d-D, expected (T, H, W, 3) (attribute compress is false)", shown, di.rank);
        else if (compress && di.rank != 2)
            problem(k, "%s: %d-D, expected (T, padded JPEG length) (attribute compress is true)", shown, di.rank);
        else if (qpos_present && di.dims[0] != T)
            rows_match(k, shown, di.dims[0], T);
        else if (compress && lens)
            check_jpegs(k, &di, shown, lens + c * cl.dims[1], cl.dims[1]);
        ds_close(&di);
    }
    (void)sim;
    free(lens);
    ds_close(&cl);
    names_free(&cams);
}

/* ---- robomimic ---- */

static bool json_valid(h5ck *k, const char *json)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(k->db, "SELECT json_valid(?1)", -1, &st, NULL) == SQLITE_OK &&
              sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
              sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return ok;
}

/* A dataset of demo `demo` whose first dimension must be n; float ones finite
 * when `finite` (low-dim). */
static void demo_dataset(h5ck *k, hid_t f, const char *path, int64_t n, bool finite)
{
    char shown[600];
    snprintf(shown, sizeof shown, "%s", path);
    dsinfo di;
    if (!ds_open(k, f, path, shown, &di))
        return;
    if (di.rank < 1)
        problem(k, "%s: scalar, expected one row per sample", shown);
    else if ((int64_t)di.dims[0] != n)
        problem(k, "%s: %" PRIu64 " rows, num_samples is %" PRId64, shown, (uint64_t)di.dims[0], n);
    else if (finite && di.rank <= 2)
        check_finite(k, &di, shown);
    ds_close(&di);
}

static void check_obs_group(h5ck *k, hid_t f, const char *demo, const char *grp, int64_t n)
{
    char gpath[512];
    snprintf(gpath, sizeof gpath, "data/%s/%s", demo, grp);
    names obs = list_group(f, gpath);
    for (size_t i = 0; i < obs.n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", gpath, obs.v[i]);
        demo_dataset(k, f, path, n, true);
    }
    names_free(&obs);
}

/* Whether mask entries name demos; strings fixed or variable length. */
static void check_mask(h5ck *k, hid_t f, const char *key, const names *demos)
{
    char path[512];
    snprintf(path, sizeof path, "mask/%s", key);
    dsinfo di;
    if (!ds_open(k, f, path, path, &di))
        return;
    hid_t t = H5Dget_type(di.d);
    hsize_t n = ds_count(&di);
    if (di.cls != H5T_STRING || di.rank != 1) {
        problem(k, "%s: %s %d-D, expected a 1-D array of demo names", path, class_name(di.cls), di.rank);
    } else if (n > MAX_READ_VALUES || H5Tget_size(t) > 4096) {
        problem(k, "%s: %" PRIu64 " entries of %zu bytes, not demo names", path, (uint64_t)n, H5Tget_size(t));
    } else if (n) {
        char **v = calloc((size_t)n, sizeof *v);
        char *fixed = NULL;
        size_t sz = H5Tget_size(t);
        bool var = H5Tis_variable_str(t) > 0;
        hid_t mt = H5Tcopy(H5T_C_S1);
        bool ok = false;
        if (var) {
            H5Tset_size(mt, H5T_VARIABLE);
            ok = v && H5Dread(di.d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
        } else {
            fixed = calloc((size_t)n, sz + 1);
            H5Tset_size(mt, sz + 1);
            H5Tset_strpad(mt, H5T_STR_NULLTERM);
            ok = v && fixed && H5Dread(di.d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed) >= 0;
            for (hsize_t i = 0; ok && i < n; i++)
                v[i] = fixed + i * (sz + 1);
        }
        if (!ok)
            problem(k, "%s: unreadable", path);
        for (hsize_t i = 0; ok && i < n; i++) {
            bool found = false;
            for (size_t d = 0; d < demos->n && !found; d++)
                found = v[i] && !strcmp(v[i], demos->v[d]);
            if (!found) {
                problem(k, "%s: entry %" PRIu64 " \"%s\" names no demo in data", path, (uint64_t)i,
                        v[i] ? v[i] : "");
                break;
            }
        }
        if (var && ok) {
            hid_t s = H5Dget_space(di.d);
            H5Dvlen_reclaim(mt, s, H5P_DEFAULT, v);
            H5Sclose(s);
        }
        H5Tclose(mt);
        free(fixed);
        free(v);
    }
    H5Tclose(t);
    ds_close(&di);
}

static void check_robomimic(h5ck *k, hid_t f)
{
    if (!is_group(f, "data")) {
        problem(k, "data: not a group");
        return;
    }
    hid_t data = H5Gopen2(f, "data", H5P_DEFAULT);
    int64_t total = 0;
    bool has_total = attr_int(data, "total", &total);
    if (!has_total)
        problem(k, "data: attribute total missing (or not an integer)");
    char *env = attr_str(data, "env_args");
    if (!env)
        problem(k, "data: attribute env_args missing (or not a string)");
    else if (!json_valid(k, env))
        problem(k, "data: attribute env_args is not valid JSON");
    free(env);
    names demos = list_group(f, "data");
    int64_t sum = 0;
    size_t ndemos = 0;
    for (size_t i = 0; i < demos.n; i++) {
        char gpath[512];
        snprintf(gpath, sizeof gpath, "data/%s", demos.v[i]);
        if (!is_group(f, gpath)) {
            problem(k, "%s: not a group (data holds one group per demo)", gpath);
            continue;
        }
        ndemos++;
        hid_t g = H5Gopen2(f, gpath, H5P_DEFAULT);
        int64_t n = 0;
        bool has_n = attr_int(g, "num_samples", &n);
        H5Gclose(g);
        if (!has_n) {
            problem(k, "%s: attribute num_samples missing (or not an integer)", gpath);
            continue;
        }
        /* A damaged attribute can hold anything: past 2^40 rows it is no
         * count (and would overflow the total). */
        if (n < 0 || n > (INT64_C(1) << 40)) {
            problem(k, "%s: attribute num_samples is %lld, not a row count", gpath, (long long)n);
            continue;
        }
        sum += n;
        static const char *const need[] = {"actions", "states", "rewards", "dones"};
        for (int j = 0; j < 4; j++) {
            char path[600];
            snprintf(path, sizeof path, "%s/%s", gpath, need[j]);
            demo_dataset(k, f, path, n, j < 2);
        }
        char obs[600];
        snprintf(obs, sizeof obs, "%s/obs", gpath);
        if (!is_group(f, obs))
            problem(k, "%s: missing", obs);
        else
            check_obs_group(k, f, demos.v[i], "obs", n);
        snprintf(obs, sizeof obs, "%s/next_obs", gpath);
        if (is_group(f, obs))
            check_obs_group(k, f, demos.v[i], "next_obs", n);
        char dpath[600];
        snprintf(dpath, sizeof dpath, "%s/dones", gpath);
        dsinfo di;
        if (n > 0 && path_exists(f, dpath) && ds_open(k, f, dpath, dpath, &di)) {
            if (di.rank >= 1 && (int64_t)di.dims[0] == n) {
                double *v = ds_read_f64(k, &di, dpath);
                hsize_t per = ds_count(&di) / di.dims[0];
                if (v && v[ds_count(&di) - per] != 1)
                    problem(k, "%s: last step is %g, expected 1 (the demo's end)", dpath, v[ds_count(&di) - per]);
                free(v);
            }
            ds_close(&di);
        }
    }
    if (!ndemos)
        problem(k, "data: no demo");
    if (has_total && total != sum)
        problem(k, "data: attribute total is %" PRId64 ", the demos' num_samples add up to %" PRId64, total, sum);
    H5Gclose(data);
    if (is_group(f, "mask")) {
        names masks = list_group(f, "mask");
        for (size_t i = 0; i < masks.n; i++)
            check_mask(k, f, masks.v[i], &demos);
        names_free(&masks);
    }
    names_free(&demos);
}

/* ---- entry ---- */

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a > b && !strcmp(s + a - b, suf);
}

bool tp_check_is_hdf5(const char *dataset)
{
    if (has_suffix(dataset, ".hdf5") || has_suffix(dataset, ".h5"))
        return true;
    struct stat sb;
    char p[4200];
    snprintf(p, sizeof p, "%s/meta/info.json", dataset);
    if (stat(dataset, &sb) != 0 || !S_ISDIR(sb.st_mode) || stat(p, &sb) == 0)
        return false;
    snprintf(p, sizeof p, "%s/episode_*.hdf5", dataset);
    glob_t g;
    bool any = glob(p, 0, NULL, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    return any;
}

/* One file; its layout counted in *aloha / *robomimic. */
static void check_file(h5ck *k, const char *path, int *aloha, int *robomimic)
{
    k->file = path;
    if (H5Fis_hdf5(path) <= 0) {
        problem(k, "not an HDF5 file");
        return;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        problem(k, "cannot be opened as HDF5");
        return;
    }
    if (path_exists(f, "data")) {
        ++*robomimic;
        check_robomimic(k, f);
    } else if (path_exists(f, "observations") || path_exists(f, "action")) {
        ++*aloha;
        check_aloha(k, f);
    } else {
        problem(k, "neither ALOHA (observations, action) nor robomimic (data)");
    }
    H5Fclose(f);
}

/* libhdf5 (1.10) can crash or loop forever on a damaged file (a global
 * heap with wrong lengths, H5HG_read): each file is checked in a child
 * process with a CPU-time limit, and a crash or a stuck read becomes one
 * problem line instead of ending the whole check. The child's lines come
 * through a pipe, then a trailer with its counts. */
#define TRAILER "\001teleop-check-hdf5 "

/* CPU seconds for a file: 10, plus 1 per 20 MB (reading and inflating runs
 * at well over 100 MB/s). */
static rlim_t cpu_limit_s(const char *path)
{
    struct stat sb;
    off_t size = stat(path, &sb) == 0 ? sb.st_size : 0;
    return 10 + (rlim_t)(size / (20 << 20));
}

static void check_file_isolated(h5ck *k, const char *path, int *aloha, int *robomimic)
{
    int fd[2];
    rlim_t limit = cpu_limit_s(path);
    fflush(k->out);
    if (pipe(fd) != 0) {
        check_file(k, path, aloha, robomimic);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        check_file(k, path, aloha, robomimic);
        return;
    }
    if (pid == 0) {
        struct rlimit rl = {.rlim_cur = limit, .rlim_max = limit + 5};
        setrlimit(RLIMIT_CPU, &rl); /* SIGXCPU at the soft limit */
        close(fd[0]);
        FILE *o = fdopen(fd[1], "w");
        if (!o)
            _exit(3);
        setvbuf(o, NULL, _IOLBF, 0); /* lines before a crash still arrive */
        h5ck child = *k;
        child.out = o;
        child.problems = 0;
        int a = 0, r = 0;
        check_file(&child, path, &a, &r);
        fprintf(o, TRAILER "%d %d %d\n", child.problems, a, r);
        _exit(fclose(o) == 0 ? 0 : 3);
    }
    close(fd[1]);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? 2 * cap : 8192;
            char *nb = realloc(buf, ncap);
            if (!nb)
                break;
            buf = nb;
            cap = ncap;
        }
        ssize_t got = read(fd[0], buf + len, 4096);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (buf)
        buf[len] = 0;
    char *tr = NULL;
    for (char *p = buf; p && (p = strstr(p, TRAILER)); p++)
        tr = p;
    int problems = 0, a = 0, r = 0;
    bool done = WIFEXITED(status) && WEXITSTATUS(status) == 0 && tr &&
                sscanf(tr + strlen(TRAILER), "%d %d %d", &problems, &a, &r) == 3;
    if (tr)
        *tr = 0;
    if (buf)
        fputs(buf, k->out);
    free(buf);
    if (done) {
        k->problems += problems;
        *aloha += a;
        *robomimic += r;
        return;
    }
    k->file = path;
    if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL))
        problem(k, "libhdf5 did not finish reading it within %ld s of CPU time: the file is damaged", (long)limit);
    else if (WIFSIGNALED(status))
        problem(k, "libhdf5 crashed reading it (%s): the file is damaged", strsignal(WTERMSIG(status)));
    else
        problem(k, "the check of this file stopped (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int tp_export_check_hdf5(const char *dataset, FILE *report)
{
    struct stat sb;
    if (stat(dataset, &sb) != 0) {
        fprintf(report, "%s: %s\n", dataset, strerror(errno));
        return 2;
    }
    h5ck k = {.out = report};
    if (sqlite3_open(":memory:", &k.db) != SQLITE_OK) {
        fprintf(report, "%s: cannot open SQLite\n", dataset);
        sqlite3_close(k.db);
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* failures are reported here, one line each */
    int aloha = 0, robomimic = 0;
    size_t files = 0;
    if (S_ISDIR(sb.st_mode)) {
        char p[4200];
        snprintf(p, sizeof p, "%s/episode_*.hdf5", dataset);
        glob_t g;
        if (glob(p, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++)
                check_file_isolated(&k, g.gl_pathv[i], &aloha, &robomimic);
            files = g.gl_pathc;
        }
        globfree(&g);
    } else {
        if (H5Fis_hdf5(dataset) <= 0) {
            fprintf(report, "%s: not an HDF5 file\n", dataset);
            sqlite3_close(k.db);
            return 1;
        }
        check_file_isolated(&k, dataset, &aloha, &robomimic);
        files = 1;
    }
    sqlite3_close(k.db);
    const char *layout = aloha && robomimic ? "HDF5 (ALOHA and robomimic)"
                         : robomimic      ? "HDF5 robomimic"
                         : aloha          ? "HDF5 ALOHA"
                                          : "HDF5";
    fprintf(report, "%s: %s, %zu file%s: ", dataset, layout, files, files == 1 ? "" : "s");
    if (k.problems)
        fprintf(report, "%d problem%s\n", k.problems, k.problems == 1 ? "" : "s");
    else
        fprintf(report, "valid\n");
    return k.problems ? 1 : 0;
}
