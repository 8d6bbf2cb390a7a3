/* teleop — LeRobot v3.0 / v2.1 dataset layout (lerobot.h, docs/export.md). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lerobot.h"

#define CHUNKS_SIZE 1000

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* mkdir -p of the folders of path (the last component is a file). */
static int make_parents(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) && errno != EEXIST)
            return fail(err, errlen, "%s: cannot create folder: %s", buf, strerror(errno));
        *p = '/';
    }
    return 0;
}

/* Writes text to root/rel through a temporary name, fsync and rename. */
int tp_lr_write_file(const char *root, const char *rel, const char *text, char *err, size_t errlen);
int tp_lr_write_file(const char *root, const char *rel, const char *text, char *err, size_t errlen)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (make_parents(path, err, errlen))
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
    fchmod(fd, 0644 & ~0022);
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return fail(err, errlen, "%s: cannot write: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) || close(fd) || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return fail(err, errlen, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

static const char *default_feature(int i)
{
    static const char *const names[] = {"timestamp", "frame_index", "episode_index", "index", "task_index"};
    return names[i];
}

int tp_lr_set_features(tp_lr_dataset *ds, const tp_export_episode *e, char *err, size_t errlen)
{
    if (ds->state_names) {
        /* appending, or a later episode: the features must be the same */
        if (e->state_dims != ds->state_dims || e->action_dims != ds->action_dims ||
            (ds->velocity_dims && e->velocity_dims != ds->velocity_dims) || e->n_cameras != ds->n_cameras)
            return fail(err, errlen, "%s: its streams (state %d, action %d dims, %d cameras) differ from the dataset's "
                        "(state %d, action %d, %d cameras)", e->path, e->state_dims, e->action_dims, e->n_cameras,
                        ds->state_dims, ds->action_dims, ds->n_cameras);
        for (int c = 0; c < e->n_cameras; c++)
            if (strcmp(e->cameras[c].name, ds->camera_name[c]) || e->cameras[c].width != ds->cam_width[c] ||
                e->cameras[c].height != ds->cam_height[c])
                return fail(err, errlen, "%s: camera %s %dx%d differs from the dataset's %s %dx%d", e->path,
                            e->cameras[c].name, e->cameras[c].width, e->cameras[c].height, ds->camera_name[c],
                            ds->cam_width[c], ds->cam_height[c]);
        return 0;
    }
    ds->state_dims = e->state_dims;
    ds->action_dims = e->action_dims;
    ds->velocity_dims = ds->map.velocity_key[0] ? e->velocity_dims : 0;
    ds->n_cameras = e->n_cameras;
    ds->state_names = calloc((size_t)e->state_dims, sizeof(char *));
    ds->action_names = calloc((size_t)e->action_dims, sizeof(char *));
    if (!ds->state_names || !ds->action_names)
        return fail(err, errlen, "out of memory");
    for (int i = 0; i < e->state_dims; i++)
        ds->state_names[i] = strdup(e->state_names[i]);
    for (int i = 0; i < e->action_dims; i++)
        ds->action_names[i] = strdup(e->action_names[i]);
    for (int c = 0; c < e->n_cameras; c++) {
        snprintf(ds->camera_name[c], sizeof ds->camera_name[c], "%s", e->cameras[c].name);
        ds->cam_width[c] = e->cameras[c].width;
        ds->cam_height[c] = e->cameras[c].height;
        if (!ds->map.camera_key[c][0])
            snprintf(ds->map.camera_key[c], sizeof ds->map.camera_key[c], "observation.images.%s", e->cameras[c].name);
    }
    char before[TP_LR_MAX_FEATURES][128];
    int n_before = ds->n_eps ? ds->n_stat_features : 0;
    memcpy(before, ds->stat_features, sizeof before);
    int k = 0;
    snprintf(ds->stat_features[k], 128, "%s", ds->map.state_key);
    ds->stat_dims[k++] = ds->state_dims;
    if (ds->velocity_dims) {
        snprintf(ds->stat_features[k], 128, "%s", ds->map.velocity_key);
        ds->stat_dims[k++] = ds->velocity_dims;
    }
    snprintf(ds->stat_features[k], 128, "%s", ds->map.action_key);
    ds->stat_dims[k++] = ds->action_dims;
    for (int i = 0; i < 5; i++) {
        snprintf(ds->stat_features[k], 128, "%s", default_feature(i));
        ds->stat_dims[k++] = 1;
    }
    for (int c = 0; c < ds->n_cameras; c++) {
        snprintf(ds->stat_features[k], 128, "%s", ds->map.camera_key[c]);
        ds->stat_image[k] = true;
        ds->stat_dims[k++] = 3;
    }
    ds->n_stat_features = k;
    /* appending: the features must be the dataset's */
    if (n_before && (n_before != k || memcmp(before, ds->stat_features, sizeof before)))
        return fail(err, errlen, "%s: its features (mapping, cameras) differ from the dataset's", e->path);
    return 0;
}

/* ---- data parquet ---- */

static int data_columns(const tp_lr_dataset *ds, tp_pq_column *cols)
{
    int n = 0;
    cols[n++] = (tp_pq_column){ds->map.state_key, TP_PQ_FLOAT, TP_PQ_FIXED_LIST, ds->state_dims, true};
    if (ds->velocity_dims)
        cols[n++] = (tp_pq_column){ds->map.velocity_key, TP_PQ_FLOAT, TP_PQ_FIXED_LIST, ds->velocity_dims, true};
    cols[n++] = (tp_pq_column){ds->map.action_key, TP_PQ_FLOAT, TP_PQ_FIXED_LIST, ds->action_dims, true};
    cols[n++] = (tp_pq_column){"timestamp", TP_PQ_FLOAT, TP_PQ_SCALAR, 0, true};
    for (int i = 1; i < 5; i++)
        cols[n++] = (tp_pq_column){default_feature(i), TP_PQ_INT64, TP_PQ_SCALAR, 0, true};
    return n;
}

/* The `huggingface` key: the features as Hugging Face datasets serializes
 * them ({"info": {"features": ...}}): Value for scalars, a fixed-length
 * List (datasets >= 4, LeRobot v3.0) or Sequence (datasets 3, v2.1). */
static char *hf_features_json(const tp_lr_dataset *ds)
{
    cJSON *root = cJSON_CreateObject(), *info = cJSON_AddObjectToObject(root, "info");
    cJSON *f = cJSON_AddObjectToObject(info, "features");
    tp_pq_column cols[8];
    int n = data_columns(ds, cols);
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_AddObjectToObject(f, cols[i].name);
        cJSON *value = cJSON_CreateObject();
        cJSON_AddStringToObject(value, "dtype", cols[i].type == TP_PQ_FLOAT ? "float32" : "int64");
        cJSON_AddStringToObject(value, "_type", "Value");
        if (cols[i].shape == TP_PQ_FIXED_LIST) {
            cJSON_AddItemToObject(o, "feature", value);
            cJSON_AddNumberToObject(o, "length", cols[i].list_size);
            cJSON_AddStringToObject(o, "_type", ds->version == 30 ? "List" : "Sequence");
        } else {
            cJSON_AddStringToObject(o, "dtype", cols[i].type == TP_PQ_FLOAT ? "float32" : "int64");
            cJSON_AddStringToObject(o, "_type", "Value");
            cJSON_Delete(value);
        }
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static tp_pq_writer *open_data(const tp_lr_dataset *ds, const char *rel, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", ds->root, rel);
    if (make_parents(path, err, errlen))
        return NULL;
    tp_pq_column cols[8];
    int n = data_columns(ds, cols);
    tp_pq_options o = tp_pq_default_options();
    o.created_by = "teleop export";
    tp_pq_writer *w = tp_pq_writer_open(path, cols, (size_t)n, &o, err, errlen);
    if (!w)
        return NULL;
    char *hf = hf_features_json(ds);
    int rc = hf ? tp_pq_writer_set_kv(w, "huggingface", hf, err, errlen) : fail(err, errlen, "out of memory");
    cJSON_free(hf);
    if (rc) {
        tp_pq_writer_abort(w);
        return NULL;
    }
    return w;
}

static int write_rows(tp_lr_dataset *ds, tp_pq_writer *w, const tp_export_episode *e, const tp_lr_episode *rec,
                      char *err, size_t errlen)
{
    size_t n = (size_t)e->n_frames;
    int64_t *ints = malloc(sizeof(int64_t) * (n ? n : 1) * 4);
    if (!ints)
        return fail(err, errlen, "out of memory");
    int64_t *fi = ints, *ei = ints + n, *gi = ints + 2 * n, *ti = ints + 3 * n;
    for (size_t i = 0; i < n; i++) {
        fi[i] = (int64_t)i;
        ei[i] = rec->episode_index;
        gi[i] = rec->from_index + (int64_t)i;
        ti[i] = rec->task_index;
    }
    tp_pq_column_data d[8];
    memset(d, 0, sizeof d);
    int k = 0;
    d[k++].values = e->state;
    if (ds->velocity_dims)
        d[k++].values = e->velocity;
    d[k++].values = e->action;
    d[k++].values = e->timestamp;
    d[k++].values = fi;
    d[k++].values = ei;
    d[k++].values = gi;
    d[k++].values = ti;
    int rc = tp_pq_write_batch(w, d, n, err, errlen);
    if (!rc)
        rc = tp_pq_writer_flush_row_group(w, err, errlen);
    free(ints);
    return rc;
}

static int episode_stats(tp_lr_dataset *ds, const tp_export_episode *e, tp_lr_episode *rec, char *err, size_t errlen)
{
    size_t n = (size_t)e->n_frames;
    rec->nstats = ds->n_stat_features;
    rec->stats = calloc((size_t)rec->nstats, sizeof *rec->stats);
    double *buf = malloc(sizeof(double) * (n ? n : 1) * TP_EXPORT_MAX_DIMS);
    if (!rec->stats || !buf) {
        free(buf);
        return fail(err, errlen, "out of memory");
    }
    for (int f = 0; f < rec->nstats; f++) {
        if (ds->stat_image[f])
            continue; /* the camera threads compute them */
        const char *name = ds->stat_features[f];
        int dims = ds->stat_dims[f];
        const float *src = NULL;
        if (!strcmp(name, ds->map.state_key) && f == 0)
            src = e->state;
        else if (ds->velocity_dims && f == 1)
            src = e->velocity;
        else if (!strcmp(name, ds->map.action_key) && f == (ds->velocity_dims ? 2 : 1))
            src = e->action;
        else if (!strcmp(name, "timestamp"))
            src = e->timestamp;
        for (size_t i = 0; i < n; i++) {
            for (int d = 0; d < dims; d++) {
                double v;
                if (src)
                    v = src[i * (size_t)dims + (size_t)d];
                else if (!strcmp(name, "frame_index"))
                    v = (double)i;
                else if (!strcmp(name, "episode_index"))
                    v = (double)rec->episode_index;
                else if (!strcmp(name, "index"))
                    v = (double)(rec->from_index + (int64_t)i);
                else
                    v = (double)rec->task_index;
                buf[i * (size_t)dims + (size_t)d] = v;
            }
        }
        tp_lr_stats_compute(buf, (int64_t)n, dims, &rec->stats[f]);
    }
    free(buf);
    return 0;
}

/* ---- video: one thread per camera ---- */

typedef struct cam_job {
    tp_lr_dataset *ds;
    const tp_export_episode *e;
    int cam;
    const volatile int *interrupt;
    tp_lr_stats *image_stats;
    int rc;
    char err[1024];
} cam_job;

static void video_rel(const tp_lr_dataset *ds, int cam, int chunk, int file, int64_t ep, char *out, size_t n)
{
    if (ds->version == 30)
        snprintf(out, n, "videos/%s/chunk-%03d/file-%03d.mp4", ds->map.camera_key[cam], chunk, file);
    else
        snprintf(out, n, "videos/chunk-%03d/%s/episode_%06" PRId64 ".mp4", (int)(ep / CHUNKS_SIZE),
                 ds->map.camera_key[cam], ep);
}

static int open_video(tp_lr_dataset *ds, int cam, const tp_export_episode *e, int64_t ep, char *err, size_t errlen)
{
    char rel[600], path[4800];
    video_rel(ds, cam, ds->vid_chunk[cam], ds->vid_file[cam], ep, rel, sizeof rel);
    snprintf(path, sizeof path, "%s/%s", ds->root, rel);
    if (make_parents(path, err, errlen))
        return -1;
    ds->vid[cam] = tp_video_out_open(path, &e->cameras[cam], ds->fps, &ds->video, err, errlen);
    return ds->vid[cam] ? 0 : -1;
}

static void *cam_thread(void *arg)
{
    cam_job *j = arg;
    tp_lr_dataset *ds = j->ds;
    tp_video_out *v = ds->vid[j->cam];
    j->rc = tp_video_out_add_episode(v, j->e, j->cam, j->interrupt, j->err, sizeof j->err);
    if (!j->rc)
        j->rc = tp_lr_image_stats(j->e, j->cam, j->image_stats, j->err, sizeof j->err);
    if (!j->rc && ds->version == 21) {
        tp_video_out_info(v, &ds->video_info[j->cam]);
        j->rc = tp_video_out_close(v, j->err, sizeof j->err);
        ds->vid[j->cam] = NULL;
    }
    return NULL;
}

static void next_file(int *chunk, int *file)
{
    if (++*file == CHUNKS_SIZE) {
        *file = 0;
        ++*chunk;
    }
}

int tp_lr_add_episode(tp_lr_dataset *ds, const tp_export_episode *e, tp_lr_episode *rec,
                      const volatile int *interrupt, char *err, size_t errlen)
{
    if (tp_lr_set_features(ds, e, err, errlen))
        return -1;
    memset(rec, 0, sizeof *rec);
    snprintf(rec->file, sizeof rec->file, "%s", e->file_name);
    snprintf(rec->path, sizeof rec->path, "%s", e->path);
    snprintf(rec->task, sizeof rec->task, "%s", e->task);
    rec->episode_index = ds->n_eps;
    rec->length = e->n_frames;
    rec->from_index = ds->total_frames;
    rec->start_unix_ns = e->start_unix_ns;
    rec->max_offset_s = e->max_frame_offset_s;
    rec->median_offset_s = e->median_frame_offset_s;
    rec->offgrid = e->offgrid;
    int64_t ntasks = 0;
    rec->task_index = -1;
    for (int64_t i = 0; i < ds->n_eps; i++) {
        if (ds->eps[i].task_index >= ntasks)
            ntasks = ds->eps[i].task_index + 1;
        if (!strcmp(ds->eps[i].task, e->task))
            rec->task_index = ds->eps[i].task_index;
    }
    if (rec->task_index < 0)
        rec->task_index = ntasks;
    if (episode_stats(ds, e, rec, err, errlen))
        return -1;

    /* data */
    int64_t row_bytes = 4 * (ds->state_dims + ds->velocity_dims + ds->action_dims) + 4 + 32;
    char rel[600];
    if (ds->version == 30) {
        if (ds->data_w && ds->data_rows_in_file > 0 &&
            (ds->data_rows_in_file + e->n_frames) * row_bytes >= ds->data_limit_bytes) {
            if (tp_pq_writer_close(ds->data_w, err, errlen)) {
                ds->data_w = NULL;
                return -1;
            }
            ds->data_w = NULL;
            next_file(&ds->data_chunk, &ds->data_file);
        }
        if (!ds->data_w) {
            snprintf(rel, sizeof rel, "data/chunk-%03d/file-%03d.parquet", ds->data_chunk, ds->data_file);
            if (!(ds->data_w = open_data(ds, rel, err, errlen)))
                return -1;
            ds->data_rows_in_file = 0;
        }
        rec->data_chunk = ds->data_chunk;
        rec->data_file = ds->data_file;
        if (write_rows(ds, ds->data_w, e, rec, err, errlen))
            return -1;
        ds->data_rows_in_file += e->n_frames;
    } else {
        snprintf(rel, sizeof rel, "data/chunk-%03d/episode_%06" PRId64 ".parquet",
                 (int)(rec->episode_index / CHUNKS_SIZE), rec->episode_index);
        tp_pq_writer *w = open_data(ds, rel, err, errlen);
        if (!w)
            return -1;
        if (write_rows(ds, w, e, rec, err, errlen)) {
            tp_pq_writer_abort(w);
            return -1;
        }
        if (tp_pq_writer_close(w, err, errlen))
            return -1;
        rec->data_chunk = (int)(rec->episode_index / CHUNKS_SIZE);
    }
    ds->bytes_written += e->n_frames * row_bytes;

    /* video, one thread per camera */
    for (int c = 0; c < ds->n_cameras; c++) {
        if (ds->version == 30 && ds->vid[c] && tp_video_out_frames(ds->vid[c]) > 0) {
            int64_t per = tp_video_out_bytes(ds->vid[c]) / tp_video_out_frames(ds->vid[c]);
            if (tp_video_out_bytes(ds->vid[c]) + per * e->n_frames >= ds->video_limit_bytes) {
                tp_video_out_info(ds->vid[c], &ds->video_info[c]);
                int rc = tp_video_out_close(ds->vid[c], err, errlen);
                ds->vid[c] = NULL;
                if (rc)
                    return -1;
                next_file(&ds->vid_chunk[c], &ds->vid_file[c]);
            }
        }
        if (!ds->vid[c] && open_video(ds, c, e, rec->episode_index, err, errlen))
            return -1;
        rec->video_chunk[c] = ds->version == 30 ? ds->vid_chunk[c] : (int)(rec->episode_index / CHUNKS_SIZE);
        rec->video_file[c] = ds->version == 30 ? ds->vid_file[c] : 0;
        rec->from_ts[c] = ds->version == 30 ? (double)tp_video_out_frames(ds->vid[c]) / ds->fps : 0;
        rec->to_ts[c] = rec->from_ts[c] + (double)e->n_frames / ds->fps;
    }
    cam_job jobs[TP_EXPORT_MAX_CAMERAS];
    pthread_t th[TP_EXPORT_MAX_CAMERAS];
    bool started[TP_EXPORT_MAX_CAMERAS] = {0};
    for (int c = 0; c < ds->n_cameras; c++) {
        jobs[c] = (cam_job){.ds = ds, .e = e, .cam = c, .interrupt = interrupt,
                            .image_stats = &rec->stats[ds->n_stat_features - ds->n_cameras + c]};
        started[c] = c > 0 && pthread_create(&th[c], NULL, cam_thread, &jobs[c]) == 0;
        if (c > 0 && !started[c])
            cam_thread(&jobs[c]);
    }
    if (ds->n_cameras)
        cam_thread(&jobs[0]);
    int rc = 0;
    for (int c = 0; c < ds->n_cameras; c++) {
        if (started[c])
            pthread_join(th[c], NULL);
        if (jobs[c].rc && !rc) {
            snprintf(err, errlen, "%s", jobs[c].err);
            rc = -1;
        }
    }
    if (rc)
        return -1;
    for (int c = 0; c < ds->n_cameras; c++)
        if (ds->vid[c]) {
            tp_video_out_info(ds->vid[c], &ds->video_info[c]);
        }

    if (ds->n_eps == ds->cap_eps) {
        int64_t cap = ds->cap_eps ? ds->cap_eps * 2 : 64;
        tp_lr_episode *p = realloc(ds->eps, sizeof *p * (size_t)cap);
        if (!p)
            return fail(err, errlen, "out of memory");
        ds->eps = p;
        ds->cap_eps = cap;
    }
    ds->eps[ds->n_eps++] = *rec;
    rec->stats = NULL; /* now owned by ds->eps */
    ds->total_frames += e->n_frames;
    return 0;
}

/* ---- meta ---- */

/* A number whose text reads back as exactly v: cJSON's own printing stops
 * at 15 digits when that is within an epsilon, which is not the same
 * double (stats min/max must be the float32 values' exact float64). */
static cJSON *exact_number(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNumber(v);
    char text[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(text);
}

/* nested: LeRobot's image stats shape (C, 1, 1): [[[r]], [[g]], [[b]]] */
static cJSON *double_array(const double *v, int n, bool nested)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *x = exact_number(v[i]);
        if (nested) {
            cJSON *inner = cJSON_CreateArray(), *mid = cJSON_CreateArray();
            cJSON_AddItemToArray(inner, x);
            cJSON_AddItemToArray(mid, inner);
            x = mid;
        }
        cJSON_AddItemToArray(a, x);
    }
    return a;
}

static cJSON *stats_json_shaped(const tp_lr_stats *s, bool quantiles, bool nested)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "min", double_array(s->min, s->dims, nested));
    cJSON_AddItemToObject(o, "max", double_array(s->max, s->dims, nested));
    cJSON_AddItemToObject(o, "mean", double_array(s->mean, s->dims, nested));
    cJSON_AddItemToObject(o, "std", double_array(s->std, s->dims, nested));
    double c = (double)s->count;
    cJSON_AddItemToObject(o, "count", double_array(&c, 1, false));
    if (quantiles)
        for (int k = 0; k < TP_LR_NQ; k++)
            cJSON_AddItemToObject(o, tp_lr_quantile_names[k], double_array(s->q[k], s->dims, nested));
    return o;
}

static cJSON *stats_json(const tp_lr_stats *s, bool quantiles)
{
    return stats_json_shaped(s, quantiles, false);
}

static cJSON *names_array(char **names, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
    return a;
}

static void add_vector_feature(cJSON *f, const char *key, int dims, char **names)
{
    cJSON *o = cJSON_AddObjectToObject(f, key);
    cJSON_AddStringToObject(o, "dtype", "float32");
    cJSON *shape = cJSON_AddArrayToObject(o, "shape");
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(dims));
    cJSON_AddItemToObject(o, "names", names_array(names, dims));
}

static cJSON *features_json(const tp_lr_dataset *ds)
{
    cJSON *f = cJSON_CreateObject();
    add_vector_feature(f, ds->map.state_key, ds->state_dims, ds->state_names);
    if (ds->velocity_dims)
        add_vector_feature(f, ds->map.velocity_key, ds->velocity_dims, ds->state_names);
    add_vector_feature(f, ds->map.action_key, ds->action_dims, ds->action_names);
    for (int c = 0; c < ds->n_cameras; c++) {
        const tp_video_info *vi = &ds->video_info[c];
        cJSON *o = cJSON_AddObjectToObject(f, ds->map.camera_key[c]);
        cJSON_AddStringToObject(o, "dtype", "video");
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        cJSON_AddItemToArray(shape, cJSON_CreateNumber(ds->cam_height[c]));
        cJSON_AddItemToArray(shape, cJSON_CreateNumber(ds->cam_width[c]));
        cJSON_AddItemToArray(shape, cJSON_CreateNumber(3));
        cJSON *nm = cJSON_AddArrayToObject(o, "names");
        cJSON_AddItemToArray(nm, cJSON_CreateString("height"));
        cJSON_AddItemToArray(nm, cJSON_CreateString("width"));
        cJSON_AddItemToArray(nm, cJSON_CreateString("channels"));
        cJSON *info = cJSON_AddObjectToObject(o, "info");
        if (ds->version == 30) {
            cJSON_AddNumberToObject(info, "video.height", vi->height);
            cJSON_AddNumberToObject(info, "video.width", vi->width);
            cJSON_AddStringToObject(info, "video.codec", vi->codec);
            cJSON_AddStringToObject(info, "video.pix_fmt", vi->pix_fmt);
            cJSON_AddNumberToObject(info, "video.fps", vi->fps);
            cJSON_AddNumberToObject(info, "video.channels", 3);
            cJSON_AddFalseToObject(info, "has_audio");
            if (ds->video.av1) {
                cJSON_AddNumberToObject(info, "video.g", ds->video.g);
                cJSON_AddNumberToObject(info, "video.crf", ds->video.crf);
                cJSON_AddNumberToObject(info, "video.preset", ds->video.preset);
                cJSON_AddNumberToObject(info, "video.fast_decode", 0);
                cJSON_AddStringToObject(info, "video.video_backend", "pyav");
                cJSON_AddObjectToObject(info, "video.extra_options");
            }
            cJSON_AddFalseToObject(info, "is_depth_map");
        } else {
            cJSON_AddNumberToObject(info, "video.fps", vi->fps);
            cJSON_AddNumberToObject(info, "video.height", vi->height);
            cJSON_AddNumberToObject(info, "video.width", vi->width);
            cJSON_AddNumberToObject(info, "video.channels", 3);
            cJSON_AddStringToObject(info, "video.codec", vi->codec);
            cJSON_AddStringToObject(info, "video.pix_fmt", vi->pix_fmt);
            cJSON_AddFalseToObject(info, "video.is_depth_map");
            cJSON_AddFalseToObject(info, "has_audio");
        }
    }
    for (int i = 0; i < 5; i++) {
        cJSON *o = cJSON_AddObjectToObject(f, default_feature(i));
        cJSON_AddStringToObject(o, "dtype", i == 0 ? "float32" : "int64");
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        cJSON_AddItemToArray(shape, cJSON_CreateNumber(1));
        cJSON_AddNullToObject(o, "names");
    }
    return f;
}

static int64_t count_tasks(const tp_lr_dataset *ds)
{
    int64_t n = 0;
    for (int64_t i = 0; i < ds->n_eps; i++)
        if (ds->eps[i].task_index >= n)
            n = ds->eps[i].task_index + 1;
    return n;
}

static const char *task_of(const tp_lr_dataset *ds, int64_t task_index)
{
    for (int64_t i = 0; i < ds->n_eps; i++)
        if (ds->eps[i].task_index == task_index)
            return ds->eps[i].task;
    return "";
}

static int write_json(const tp_lr_dataset *ds, const char *rel, cJSON *j, char *err, size_t errlen)
{
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    if (!s)
        return fail(err, errlen, "out of memory");
    size_t n = strlen(s);
    char *t = malloc(n + 2);
    if (!t) {
        cJSON_free(s);
        return fail(err, errlen, "out of memory");
    }
    memcpy(t, s, n);
    t[n] = '\n';
    t[n + 1] = 0;
    cJSON_free(s);
    int rc = tp_lr_write_file(ds->root, rel, t, err, errlen);
    free(t);
    return rc;
}

static int write_info(const tp_lr_dataset *ds, char *err, size_t errlen)
{
    cJSON *j = cJSON_CreateObject();
    char splits[64];
    snprintf(splits, sizeof splits, "0:%" PRId64, ds->n_eps);
    if (ds->version == 30) {
        cJSON_AddStringToObject(j, "codebase_version", "v3.0");
        cJSON_AddNumberToObject(j, "fps", ds->fps);
        cJSON_AddItemToObject(j, "features", features_json(ds));
        cJSON_AddNumberToObject(j, "total_episodes", (double)ds->n_eps);
        cJSON_AddNumberToObject(j, "total_frames", (double)ds->total_frames);
        cJSON_AddNumberToObject(j, "total_tasks", (double)count_tasks(ds));
        cJSON_AddNumberToObject(j, "chunks_size", CHUNKS_SIZE);
        cJSON_AddNumberToObject(j, "data_files_size_in_mb", (double)(ds->data_limit_bytes / (1024 * 1024)));
        cJSON_AddNumberToObject(j, "video_files_size_in_mb", (double)(ds->video_limit_bytes / (1024 * 1024)));
        cJSON_AddStringToObject(j, "data_path", "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet");
        if (ds->n_cameras)
            cJSON_AddStringToObject(j, "video_path",
                                    "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4");
        else
            cJSON_AddNullToObject(j, "video_path");
        cJSON_AddStringToObject(j, "robot_type", ds->map.robot_type);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "splits"), "train", splits);
    } else {
        cJSON_AddStringToObject(j, "codebase_version", "v2.1");
        cJSON_AddStringToObject(j, "robot_type", ds->map.robot_type);
        cJSON_AddNumberToObject(j, "total_episodes", (double)ds->n_eps);
        cJSON_AddNumberToObject(j, "total_frames", (double)ds->total_frames);
        cJSON_AddNumberToObject(j, "total_tasks", (double)count_tasks(ds));
        cJSON_AddNumberToObject(j, "total_videos", (double)(ds->n_eps * ds->n_cameras));
        cJSON_AddNumberToObject(j, "total_chunks", (double)(ds->n_eps ? (ds->n_eps - 1) / CHUNKS_SIZE + 1 : 0));
        cJSON_AddNumberToObject(j, "chunks_size", CHUNKS_SIZE);
        cJSON_AddNumberToObject(j, "fps", ds->fps);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "splits"), "train", splits);
        cJSON_AddStringToObject(j, "data_path", "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet");
        if (ds->n_cameras)
            cJSON_AddStringToObject(j, "video_path",
                                    "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4");
        else
            cJSON_AddNullToObject(j, "video_path");
        cJSON_AddItemToObject(j, "features", features_json(ds));
    }
    return write_json(ds, "meta/info.json", j, err, errlen);
}

static int write_global_stats(const tp_lr_dataset *ds, char *err, size_t errlen)
{
    cJSON *j = cJSON_CreateObject();
    const tp_lr_stats **parts = malloc(sizeof *parts * (size_t)(ds->n_eps ? ds->n_eps : 1));
    tp_lr_stats *agg = malloc(sizeof *agg);
    if (!parts || !agg) {
        free(parts);
        free(agg);
        cJSON_Delete(j);
        return fail(err, errlen, "out of memory");
    }
    for (int f = 0; f < ds->n_stat_features; f++) {
        for (int64_t i = 0; i < ds->n_eps; i++)
            parts[i] = &ds->eps[i].stats[f];
        tp_lr_stats_aggregate(parts, (int)ds->n_eps, agg);
        cJSON_AddItemToObject(j, ds->stat_features[f], stats_json_shaped(agg, ds->version == 30, ds->stat_image[f]));
    }
    free(parts);
    free(agg);
    return write_json(ds, "meta/stats.json", j, err, errlen);
}

/* v3.0 meta/tasks.parquet: what pandas' DataFrame.to_parquet writes for a
 * frame indexed by the task string (index name "task") with one column
 * task_index: the data column, then the index as a column, and the pandas
 * key/value metadata naming the index. */
static int write_tasks_parquet(const tp_lr_dataset *ds, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/meta/tasks.parquet", ds->root);
    if (make_parents(path, err, errlen))
        return -1;
    tp_pq_column cols[2] = {{"task_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
                            {"task", TP_PQ_STRING, TP_PQ_SCALAR, 0, true}};
    tp_pq_options o = tp_pq_default_options();
    o.created_by = "teleop export";
    tp_pq_writer *w = tp_pq_writer_open(path, cols, 2, &o, err, errlen);
    if (!w)
        return -1;
    int64_t n = count_tasks(ds);
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    const char **names = malloc(sizeof(char *) * (size_t)(n ? n : 1));
    if (!idx || !names) {
        free(idx);
        free(names);
        tp_pq_writer_abort(w);
        return fail(err, errlen, "out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
        idx[i] = i;
        names[i] = task_of(ds, i);
    }
    const char *pandas =
        "{\"index_columns\": [\"task\"], \"column_indexes\": [{\"name\": null, \"field_name\": null, "
        "\"pandas_type\": \"unicode\", \"numpy_type\": \"object\", \"metadata\": {\"encoding\": \"UTF-8\"}}], "
        "\"columns\": [{\"name\": \"task_index\", \"field_name\": \"task_index\", \"pandas_type\": \"int64\", "
        "\"numpy_type\": \"int64\", \"metadata\": null}, {\"name\": \"task\", \"field_name\": \"task\", "
        "\"pandas_type\": \"unicode\", \"numpy_type\": \"object\", \"metadata\": null}], "
        "\"creator\": {\"library\": \"teleop\", \"version\": \"" TELEOP_VERSION "\"}, \"pandas_version\": \"1.5.3\"}";
    tp_pq_column_data d[2] = {{.values = idx}, {.values = names}};
    int rc = tp_pq_writer_set_kv(w, "pandas", pandas, err, errlen);
    if (!rc)
        rc = tp_pq_write_batch(w, d, (size_t)n, err, errlen);
    free(idx);
    free(names);
    if (rc) {
        tp_pq_writer_abort(w);
        return -1;
    }
    return tp_pq_writer_close(w, err, errlen);
}

/* v3.0 meta/episodes/chunk-000/file-000.parquet: one row per episode. */
static int write_episodes_parquet(const tp_lr_dataset *ds, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/meta/episodes/chunk-000/file-000.parquet", ds->root);
    if (make_parents(path, err, errlen))
        return -1;
    enum { MAXC = 8 + 4 * TP_EXPORT_MAX_CAMERAS + TP_LR_MAX_FEATURES * (5 + TP_LR_NQ) + 2 };
    tp_pq_column cols[MAXC];
    char names[MAXC][300];
    int nc = 0;
#define COL(nm, type, shape)                                                                                         \
    do {                                                                                                             \
        snprintf(names[nc], sizeof names[nc], "%s", nm);                                                             \
        cols[nc] = (tp_pq_column){names[nc], type, shape, 0, true};                                                  \
        nc++;                                                                                                        \
    } while (0)
    COL("episode_index", TP_PQ_INT64, TP_PQ_SCALAR);
    COL("tasks", TP_PQ_STRING, TP_PQ_LIST);
    COL("length", TP_PQ_INT64, TP_PQ_SCALAR);
    COL("data/chunk_index", TP_PQ_INT64, TP_PQ_SCALAR);
    COL("data/file_index", TP_PQ_INT64, TP_PQ_SCALAR);
    COL("dataset_from_index", TP_PQ_INT64, TP_PQ_SCALAR);
    COL("dataset_to_index", TP_PQ_INT64, TP_PQ_SCALAR);
    char buf[300];
    for (int c = 0; c < ds->n_cameras; c++) {
        snprintf(buf, sizeof buf, "videos/%s/chunk_index", ds->map.camera_key[c]);
        COL(buf, TP_PQ_INT64, TP_PQ_SCALAR);
        snprintf(buf, sizeof buf, "videos/%s/file_index", ds->map.camera_key[c]);
        COL(buf, TP_PQ_INT64, TP_PQ_SCALAR);
        snprintf(buf, sizeof buf, "videos/%s/from_timestamp", ds->map.camera_key[c]);
        COL(buf, TP_PQ_DOUBLE, TP_PQ_SCALAR);
        snprintf(buf, sizeof buf, "videos/%s/to_timestamp", ds->map.camera_key[c]);
        COL(buf, TP_PQ_DOUBLE, TP_PQ_SCALAR);
    }
    static const char *const sn[] = {"min", "max", "mean", "std", "count"};
    int stats_col0 = nc;
    /* Image stats (shape 3x1x1, lists of lists) are left out of this file:
     * the writer has no nested lists, and LeRobot drops the stats columns when
     * it loads the episodes; they are in meta/stats.json. */
    for (int f = 0; f < ds->n_stat_features; f++) {
        if (ds->stat_image[f])
            continue;
        for (int s = 0; s < 5 + TP_LR_NQ; s++) {
            snprintf(buf, sizeof buf, "stats/%s/%s", ds->stat_features[f], s < 5 ? sn[s] : tp_lr_quantile_names[s - 5]);
            COL(buf, s == 4 ? TP_PQ_INT64 : TP_PQ_DOUBLE, TP_PQ_LIST);
        }
    }
    COL("meta/episodes/chunk_index", TP_PQ_INT64, TP_PQ_SCALAR);
    COL("meta/episodes/file_index", TP_PQ_INT64, TP_PQ_SCALAR);
#undef COL
    tp_pq_options o = tp_pq_default_options();
    o.created_by = "teleop export";
    tp_pq_writer *w = tp_pq_writer_open(path, cols, (size_t)nc, &o, err, errlen);
    if (!w)
        return -1;
    int rc = 0;
    /* one row at a time: the values are small */
    for (int64_t i = 0; i < ds->n_eps && !rc; i++) {
        const tp_lr_episode *r = &ds->eps[i];
        tp_pq_column_data d[MAXC];
        memset(d, 0, sizeof d);
        int64_t ints[8];
        ints[0] = r->episode_index;
        ints[1] = r->length;
        ints[2] = r->data_chunk;
        ints[3] = r->data_file;
        ints[4] = r->from_index;
        ints[5] = r->from_index + r->length;
        ints[6] = 0;
        int64_t vints[TP_EXPORT_MAX_CAMERAS][2];
        const char *task = r->task;
        uint32_t one = 1;
        int k = 0;
        d[k++].values = &ints[0];
        d[k].values = &task;
        d[k++].list_len = &one;
        d[k++].values = &ints[1];
        d[k++].values = &ints[2];
        d[k++].values = &ints[3];
        d[k++].values = &ints[4];
        d[k++].values = &ints[5];
        for (int c = 0; c < ds->n_cameras; c++) {
            vints[c][0] = r->video_chunk[c];
            vints[c][1] = r->video_file[c];
            d[k++].values = &vints[c][0];
            d[k++].values = &vints[c][1];
            d[k++].values = &r->from_ts[c];
            d[k++].values = &r->to_ts[c];
        }
        uint32_t lens[TP_LR_MAX_FEATURES];
        int64_t counts[TP_LR_MAX_FEATURES];
        uint32_t one_len = 1;
        for (int f = 0; f < ds->n_stat_features; f++) {
            if (ds->stat_image[f])
                continue;
            const tp_lr_stats *s = &r->stats[f];
            lens[f] = (uint32_t)s->dims;
            counts[f] = s->count;
            const double *v[4] = {s->min, s->max, s->mean, s->std};
            for (int q = 0; q < 4; q++) {
                d[k].values = v[q];
                d[k++].list_len = &lens[f];
            }
            d[k].values = &counts[f];
            d[k++].list_len = &one_len;
            for (int q = 0; q < TP_LR_NQ; q++) {
                d[k].values = s->q[q];
                d[k++].list_len = &lens[f];
            }
        }
        (void)stats_col0;
        d[k++].values = &ints[6];
        d[k++].values = &ints[6];
        rc = tp_pq_write_batch(w, d, 1, err, errlen);
    }
    if (rc) {
        tp_pq_writer_abort(w);
        return -1;
    }
    return tp_pq_writer_close(w, err, errlen);
}

static char *jsonl_line(cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static int append_text(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 2 > *cap) {
        size_t c = (*cap + n + 2) * 2;
        char *p = realloc(*buf, c);
        if (!p)
            return -1;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = 0;
    return 0;
}

static int write_v21_meta(const tp_lr_dataset *ds, char *err, size_t errlen)
{
    const char *files[3] = {"meta/episodes.jsonl", "meta/episodes_stats.jsonl", "meta/tasks.jsonl"};
    for (int which = 0; which < 3; which++) {
        char *buf = NULL;
        size_t len = 0, cap = 0;
        int rc = append_text(&buf, &len, &cap, "") ? -1 : 0;
        len = 0;
        buf[0] = 0;
        int64_t n = which == 2 ? count_tasks(ds) : ds->n_eps;
        for (int64_t i = 0; i < n && !rc; i++) {
            cJSON *j = cJSON_CreateObject();
            if (which == 0) {
                const tp_lr_episode *r = &ds->eps[i];
                cJSON_AddNumberToObject(j, "episode_index", (double)r->episode_index);
                cJSON *t = cJSON_AddArrayToObject(j, "tasks");
                cJSON_AddItemToArray(t, cJSON_CreateString(r->task));
                cJSON_AddNumberToObject(j, "length", (double)r->length);
            } else if (which == 1) {
                const tp_lr_episode *r = &ds->eps[i];
                cJSON_AddNumberToObject(j, "episode_index", (double)r->episode_index);
                cJSON *s = cJSON_AddObjectToObject(j, "stats");
                for (int f = 0; f < ds->n_stat_features; f++)
                    cJSON_AddItemToObject(s, ds->stat_features[f],
                                          stats_json_shaped(&r->stats[f], false, ds->stat_image[f]));
            } else {
                cJSON_AddNumberToObject(j, "task_index", (double)i);
                cJSON_AddStringToObject(j, "task", task_of(ds, i));
            }
            char *line = jsonl_line(j);
            rc = !line || append_text(&buf, &len, &cap, line) ? -1 : 0;
            cJSON_free(line);
        }
        if (rc) {
            free(buf);
            return fail(err, errlen, "out of memory");
        }
        rc = tp_lr_write_file(ds->root, files[which], buf, err, errlen);
        free(buf);
        if (rc)
            return -1;
    }
    return 0;
}

/* meta/teleop_sources.json: which episode file (name, SHA-256) became which
 * episode_index, with the metadata row, so a later run appends. */
static int write_sources(const tp_lr_dataset *ds, char *err, size_t errlen)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "teleop_sources_version", 1);
    cJSON_AddStringToObject(j, "codebase_version", ds->version == 30 ? "v3.0" : "v2.1");
    cJSON_AddNumberToObject(j, "fps", ds->fps);
    cJSON_AddStringToObject(j, "video_codec", ds->video.av1 ? "av1" : "h264");
    cJSON *feats = cJSON_AddArrayToObject(j, "stat_features");
    for (int f = 0; f < ds->n_stat_features; f++)
        cJSON_AddItemToArray(feats, cJSON_CreateString(ds->stat_features[f]));
    cJSON *cams = cJSON_AddArrayToObject(j, "cameras");
    for (int c = 0; c < ds->n_cameras; c++)
        cJSON_AddItemToArray(cams, cJSON_CreateString(ds->camera_name[c]));
    cJSON *arr = cJSON_AddArrayToObject(j, "episodes");
    for (int64_t i = 0; i < ds->n_eps; i++) {
        const tp_lr_episode *r = &ds->eps[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "file", r->file);
        cJSON_AddStringToObject(o, "sha256", r->sha256);
        cJSON_AddStringToObject(o, "path", r->path);
        cJSON_AddNumberToObject(o, "episode_index", (double)r->episode_index);
        cJSON_AddStringToObject(o, "task", r->task);
        cJSON_AddNumberToObject(o, "task_index", (double)r->task_index);
        cJSON_AddNumberToObject(o, "length", (double)r->length);
        cJSON_AddNumberToObject(o, "dataset_from_index", (double)r->from_index);
        char t[32];
        snprintf(t, sizeof t, "%" PRId64, r->start_unix_ns);
        cJSON_AddStringToObject(o, "start_unix_ns", t);
        cJSON_AddNumberToObject(o, "data_chunk_index", r->data_chunk);
        cJSON_AddNumberToObject(o, "data_file_index", r->data_file);
        cJSON *v = cJSON_AddArrayToObject(o, "videos");
        for (int c = 0; c < ds->n_cameras; c++) {
            cJSON *vo = cJSON_CreateObject();
            cJSON_AddNumberToObject(vo, "chunk_index", r->video_chunk[c]);
            cJSON_AddNumberToObject(vo, "file_index", r->video_file[c]);
            cJSON_AddNumberToObject(vo, "from_timestamp", r->from_ts[c]);
            cJSON_AddNumberToObject(vo, "to_timestamp", r->to_ts[c]);
            cJSON_AddItemToArray(v, vo);
        }
        cJSON_AddNumberToObject(o, "max_frame_offset_s", r->max_offset_s);
        cJSON_AddNumberToObject(o, "median_frame_offset_s", r->median_offset_s);
        cJSON_AddBoolToObject(o, "offgrid", r->offgrid);
        cJSON *s = cJSON_AddObjectToObject(o, "stats");
        for (int f = 0; f < r->nstats; f++)
            cJSON_AddItemToObject(s, ds->stat_features[f], stats_json(&r->stats[f], true));
    }
    return write_json(ds, "meta/teleop_sources.json", j, err, errlen);
}

int tp_lr_finish(tp_lr_dataset *ds, char *err, size_t errlen)
{
    if (ds->data_w) {
        int rc = tp_pq_writer_close(ds->data_w, err, errlen);
        ds->data_w = NULL;
        if (rc)
            return -1;
    }
    for (int c = 0; c < ds->n_cameras; c++)
        if (ds->vid[c]) {
            tp_video_out_info(ds->vid[c], &ds->video_info[c]);
            int rc = tp_video_out_close(ds->vid[c], err, errlen);
            ds->vid[c] = NULL;
            if (rc)
                return -1;
        }
    if (write_info(ds, err, errlen))
        return -1;
    if (ds->version == 30) {
        if (write_global_stats(ds, err, errlen) || write_tasks_parquet(ds, err, errlen) ||
            write_episodes_parquet(ds, err, errlen))
            return -1;
    } else if (write_v21_meta(ds, err, errlen)) {
        return -1;
    }
    if (write_sources(ds, err, errlen))
        return -1;
    return tp_lr_write_card(ds, ds->license, err, errlen);
}

void tp_lr_free(tp_lr_dataset *ds)
{
    if (ds->data_w)
        tp_pq_writer_abort(ds->data_w);
    for (int c = 0; c < TP_EXPORT_MAX_CAMERAS; c++)
        if (ds->vid[c])
            tp_video_out_abort(ds->vid[c]);
    for (int64_t i = 0; i < ds->n_eps; i++)
        free(ds->eps[i].stats);
    free(ds->eps);
    if (ds->state_names)
        for (int i = 0; i < ds->state_dims; i++)
            free(ds->state_names[i]);
    if (ds->action_names)
        for (int i = 0; i < ds->action_dims; i++)
            free(ds->action_names[i]);
    free(ds->state_names);
    free(ds->action_names);
    ds->state_names = ds->action_names = NULL;
    ds->eps = NULL;
    ds->data_w = NULL;
    memset(ds->vid, 0, sizeof ds->vid);
}

/* ---- reading meta/teleop_sources.json back ---- */

static void read_doubles(const cJSON *a, double *out, int max)
{
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (i < max)
            out[i] = x->valuedouble;
        i++;
    }
}

int tp_lr_load_sources(const char *dataset, tp_lr_dataset *ds, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/meta/teleop_sources.json", dataset);
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : fail(err, errlen, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        fclose(f);
        return fail(err, errlen, "%s: cannot read", path);
    }
    text[n] = 0;
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(j, "episodes");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "codebase_version");
    const cJSON *feats = cJSON_GetObjectItemCaseSensitive(j, "stat_features");
    if (!j || !cJSON_IsArray(eps) || !cJSON_IsString(ver) || !cJSON_IsArray(feats)) {
        cJSON_Delete(j);
        return fail(err, errlen, "%s: not a teleop sources index", path);
    }
    int version = !strcmp(ver->valuestring, "v3.0") ? 30 : 21;
    if (version != ds->version) {
        fail(err, errlen, "%s: the dataset is LeRobot %s; export with --lerobot-version %s to append", dataset,
             ver->valuestring, version == 30 ? "3.0" : "2.1");
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *vc = cJSON_GetObjectItemCaseSensitive(j, "video_codec");
    if (cJSON_IsString(vc) && strcmp(vc->valuestring, ds->video.av1 ? "av1" : "h264")) {
        fail(err, errlen, "%s: the dataset's videos are %s; export with --video-codec %s to append", dataset,
             vc->valuestring, !strcmp(vc->valuestring, "av1") ? "av1" : "copy");
        cJSON_Delete(j);
        return -1;
    }
    ds->fps = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "fps"));
    int nf = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, feats)
    {
        if (nf < TP_LR_MAX_FEATURES && cJSON_IsString(x))
            snprintf(ds->stat_features[nf++], 128, "%s", x->valuestring);
    }
    int64_t count = cJSON_GetArraySize(eps);
    ds->eps = calloc((size_t)(count ? count : 1), sizeof *ds->eps);
    ds->cap_eps = count ? count : 1;
    if (!ds->eps) {
        cJSON_Delete(j);
        return fail(err, errlen, "out of memory");
    }
    static const char *const sn[] = {"min", "max", "mean", "std"};
    cJSON_ArrayForEach(x, eps)
    {
        tp_lr_episode *r = &ds->eps[ds->n_eps];
#define STR(key, dst) snprintf(dst, sizeof dst, "%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, key)) ?: "")
#define NUM(key) cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, key))
        STR("file", r->file);
        STR("sha256", r->sha256);
        STR("path", r->path);
        STR("task", r->task);
        r->episode_index = (int64_t)NUM("episode_index");
        r->task_index = (int64_t)NUM("task_index");
        r->length = (int64_t)NUM("length");
        r->from_index = (int64_t)NUM("dataset_from_index");
        const char *sun = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "start_unix_ns"));
        r->start_unix_ns = sun ? strtoll(sun, NULL, 10) : 0;
        r->data_chunk = (int)NUM("data_chunk_index");
        r->data_file = (int)NUM("data_file_index");
        r->max_offset_s = NUM("max_frame_offset_s");
        r->median_offset_s = NUM("median_frame_offset_s");
        r->offgrid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "offgrid"));
#undef STR
#undef NUM
        int c = 0;
        const cJSON *vo;
        cJSON_ArrayForEach(vo, cJSON_GetObjectItemCaseSensitive(x, "videos"))
        {
            if (c >= TP_EXPORT_MAX_CAMERAS)
                break;
            r->video_chunk[c] = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(vo, "chunk_index"));
            r->video_file[c] = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(vo, "file_index"));
            r->from_ts[c] = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(vo, "from_timestamp"));
            r->to_ts[c] = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(vo, "to_timestamp"));
            c++;
        }
        r->nstats = nf;
        r->stats = calloc((size_t)(nf ? nf : 1), sizeof *r->stats);
        if (!r->stats) {
            cJSON_Delete(j);
            return fail(err, errlen, "out of memory");
        }
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(x, "stats");
        for (int fi = 0; fi < nf; fi++) {
            const cJSON *fs = cJSON_GetObjectItemCaseSensitive(st, ds->stat_features[fi]);
            tp_lr_stats *s = &r->stats[fi];
            s->dims = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(fs, "min"));
            if (s->dims > TP_EXPORT_MAX_DIMS)
                s->dims = TP_EXPORT_MAX_DIMS;
            double *dst[4] = {s->min, s->max, s->mean, s->std};
            for (int q = 0; q < 4; q++)
                read_doubles(cJSON_GetObjectItemCaseSensitive(fs, sn[q]), dst[q], TP_EXPORT_MAX_DIMS);
            double cnt = 0;
            read_doubles(cJSON_GetObjectItemCaseSensitive(fs, "count"), &cnt, 1);
            s->count = (int64_t)cnt;
            for (int q = 0; q < TP_LR_NQ; q++)
                read_doubles(cJSON_GetObjectItemCaseSensitive(fs, tp_lr_quantile_names[q]), s->q[q],
                             TP_EXPORT_MAX_DIMS);
        }
        if (r->episode_index != ds->n_eps) {
            cJSON_Delete(j);
            return fail(err, errlen, "%s: episode %" PRId64 " listed as episode_index %" PRId64, path, ds->n_eps,
                        r->episode_index);
        }
        ds->n_eps++;
        ds->total_frames += r->length;
        /* v3.0: new episodes go to new files, after the last one used */
        if (r->data_chunk * CHUNKS_SIZE + r->data_file >= ds->data_chunk * CHUNKS_SIZE + ds->data_file) {
            ds->data_chunk = r->data_chunk;
            ds->data_file = r->data_file;
        }
        for (int k = 0; k < c; k++)
            if (r->video_chunk[k] * CHUNKS_SIZE + r->video_file[k] >= ds->vid_chunk[k] * CHUNKS_SIZE + ds->vid_file[k]) {
                ds->vid_chunk[k] = r->video_chunk[k];
                ds->vid_file[k] = r->video_file[k];
            }
    }
    cJSON_Delete(j);
    if (ds->n_eps && ds->version == 30) {
        next_file(&ds->data_chunk, &ds->data_file);
        for (int k = 0; k < TP_EXPORT_MAX_CAMERAS; k++)
            next_file(&ds->vid_chunk[k], &ds->vid_file[k]);
    }
    ds->n_old_eps = ds->n_eps;
    return 1;
}
