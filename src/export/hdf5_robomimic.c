/* teleop — episodes as one robomimic HDF5 file (docs/export.md):
 * data (attrs total, env_args) / demo_N (attr num_samples) with
 * obs/robot0_joint_pos, obs/robot0_joint_vel, obs/<camera>_image
 * (T x H x W x 3 uint8), actions, states (the state, then in simulation every
 * sim_objects pose interpolated at the grid instants, quaternions
 * renormalized), rewards (1 at the last step of an episode tagged success),
 * dones (1 at the last step), with --next-obs next_obs/<key> (the
 * observation one step later, the last step repeated); mask/<outcome> and mask/<tag> filter keys
 * (fixed-length ASCII demo names, as numpy's 'S' arrays robomimic writes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "camera_frames.h"
#include "hdf5_write.h"
#include "teleop/episode.h"

#define MAX_KEYS 128

typedef struct mask {
    char name[80];
    char **demos;
    int n, cap;
} mask;

struct tp_h5_robomimic {
    char path[4200];
    tp_h5_options o;
    hid_t file, data;
    int n_demos;
    int64_t total;
    char *env_args; /* malloc'd */
    mask masks[MAX_KEYS];
    int n_masks;
};

void tp_h5_robomimic_abort(tp_h5_robomimic *r)
{
    if (!r)
        return;
    if (r->data >= 0)
        H5Gclose(r->data);
    if (r->file >= 0)
        H5Fclose(r->file);
    for (int i = 0; i < r->n_masks; i++) {
        for (int k = 0; k < r->masks[i].n; k++)
            free(r->masks[i].demos[k]);
        free(r->masks[i].demos);
    }
    free(r->env_args);
    free(r);
}

tp_h5_robomimic *tp_h5_robomimic_create(const char *path, const tp_h5_options *o, char *err, size_t errlen)
{
    tp_h5_robomimic *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    r->o = *o;
    r->o.env_args = NULL;
    r->data = -1;
    if (o->env_args && !(r->env_args = strdup(o->env_args))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->file = tp_h5_file_create(path, err, errlen);
    if (r->file >= 0)
        r->data = tp_h5_group(r->file, "data");
    if (r->data < 0) {
        if (r->file >= 0)
            snprintf(err, errlen, "%s: cannot write data", path);
        tp_h5_robomimic_abort(r);
        return NULL;
    }
    return r;
}

/* A mask name from a tag or outcome: HDF5 link names cannot hold '/'. */
static int add_to_mask(tp_h5_robomimic *r, const char *key, const char *demo)
{
    char name[80];
    snprintf(name, sizeof name, "%s", key);
    for (char *p = name; *p; p++)
        if (*p == '/')
            *p = '_';
    if (!name[0] || !strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    mask *m = NULL;
    for (int i = 0; i < r->n_masks; i++)
        if (!strcmp(r->masks[i].name, name))
            m = &r->masks[i];
    if (!m) {
        if (r->n_masks == MAX_KEYS)
            return -1;
        m = &r->masks[r->n_masks++];
        snprintf(m->name, sizeof m->name, "%s", name);
    }
    for (int k = 0; k < m->n; k++)
        if (!strcmp(m->demos[k], demo))
            return 0; /* a tag repeating the outcome's name */
    if (m->n == m->cap) {
        int c = m->cap ? m->cap * 2 : 16;
        char **p = realloc(m->demos, sizeof *p * (size_t)c);
        if (!p)
            return -1;
        m->demos = p;
        m->cap = c;
    }
    if (!(m->demos[m->n] = strdup(demo)))
        return -1;
    m->n++;
    return 0;
}

/* The sim_objects stream interpolated at the grid instants (n_frames x dims),
 * or NULL with *dims = 0 when the episode has none. */
static int sim_objects_at_grid(const tp_export_episode *e, float **out, int *dims, char *err, size_t errlen)
{
    *out = NULL;
    *dims = 0;
    tp_episode *ep = tp_episode_open(e->path, err, errlen);
    if (!ep)
        return -1;
    const tp_stream_info *s = tp_episode_find_stream(ep, "sim_objects");
    if (!s || s->dims <= 0 || s->count <= 0) {
        tp_episode_close(ep);
        return 0;
    }
    int d = s->dims;
    int64_t n = s->count, k = 0;
    int64_t *t = malloc(sizeof *t * (size_t)n);
    float *v = malloc(sizeof *v * (size_t)n * (size_t)d);
    float *g = malloc(sizeof *g * (size_t)(e->n_frames ? e->n_frames : 1) * (size_t)d);
    tp_episode_cursor *cur = t && v && g ? tp_episode_cursor_open(ep, s->id) : NULL;
    int rc = cur ? 0 : -1, r = 0;
    tp_episode_row row;
    while (cur && k < n && (r = tp_episode_cursor_next(cur, &row)) == 1) {
        t[k] = row.t_ns;
        memcpy(v + (size_t)k * (size_t)d, row.samples, sizeof *v * (size_t)d);
        k++;
    }
    if (cur)
        tp_episode_cursor_close(cur);
    if (rc || r < 0 || k == 0) {
        snprintf(err, errlen, "%s: cannot read the sim_objects stream", e->path);
        rc = -1;
    }
    int64_t hint = 0;
    for (int64_t i = 0; !rc && i < e->n_frames; i++) {
        /* the export core's grid instant (export.h) */
        int64_t at = e->t0_ns + (int64_t)llround((double)i * 1e9 / e->fps);
        float *o = g + (size_t)i * (size_t)d;
        tp_export_interpolate(t, v, k, d, at, o, &hint);
        for (int b = 0; b + 7 <= d; b += 7) { /* px py pz, then a unit quaternion */
            double q = 0;
            for (int j = 3; j < 7; j++)
                q += (double)o[b + j] * o[b + j];
            q = sqrt(q);
            for (int j = 3; j < 7 && q > 0; j++)
                o[b + j] = (float)(o[b + j] / q);
        }
    }
    free(t);
    free(v);
    tp_episode_close(ep);
    if (rc) {
        free(g);
        return -1;
    }
    *out = g;
    *dims = d;
    return 0;
}

static char *default_env_args(const tp_export_episode *e)
{
    cJSON *root = cJSON_CreateObject(), *kw = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "env_name", e->robot[0] ? e->robot : "teleop");
    cJSON_AddNumberToObject(root, "env_type", 2); /* robomimic's EnvType.GYM_TYPE: no robosuite environment */
    cJSON_AddStringToObject(kw, "source", "teleop export");
    cJSON_AddNumberToObject(kw, "fps", e->fps);
    cJSON *sn = cJSON_AddArrayToObject(kw, "state_names"), *an = cJSON_AddArrayToObject(kw, "action_names");
    for (int i = 0; i < e->state_dims; i++)
        cJSON_AddItemToArray(sn, cJSON_CreateString(e->state_names[i]));
    for (int i = 0; i < e->action_dims; i++)
        cJSON_AddItemToArray(an, cJSON_CreateString(e->action_names[i]));
    cJSON_AddItemToObject(root, "env_kwargs", kw);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static int write_vec(hid_t g, const char *name, const float *v, int64_t rows, int cols, int gzip)
{
    double *d = tp_h5_widen(v, rows * cols);
    int rc = d ? tp_h5_write_f64(g, name, d, rows, cols, gzip) : -1;
    free(d);
    return rc;
}

/* obs/<key> of e (or, next, of the step after each one: the last step repeated). */
static int write_obs(tp_h5_robomimic *r, hid_t g, const char *group, const tp_export_episode *e, bool next,
                     char *err, size_t errlen)
{
    int64_t n = e->n_frames, shift = next && n > 1 ? 1 : 0;
    tp_export_episode view = *e; /* shallow: arrays shifted by one row */
    int64_t *seqs[TP_EXPORT_MAX_CAMERAS] = {0};
    float *rows[2] = {NULL, NULL};
    int rc = 0;
    if (shift) {
        const float *src[2] = {e->state, e->velocity};
        int dims[2] = {e->state_dims, e->velocity_dims};
        for (int k = 0; k < 2 && !rc; k++) {
            if (!src[k])
                continue;
            rows[k] = malloc(sizeof *rows[k] * (size_t)n * (size_t)dims[k]);
            if (!rows[k]) {
                rc = -1;
                break;
            }
            memcpy(rows[k], src[k] + dims[k], sizeof *rows[k] * (size_t)(n - 1) * (size_t)dims[k]);
            memcpy(rows[k] + (n - 1) * dims[k], src[k] + (n - 1) * dims[k], sizeof *rows[k] * (size_t)dims[k]);
        }
        view.state = rows[0];
        view.velocity = e->velocity ? rows[1] : NULL;
        for (int c = 0; c < e->n_cameras && !rc; c++) {
            seqs[c] = malloc(sizeof *seqs[c] * (size_t)n);
            if (!seqs[c]) {
                rc = -1;
                break;
            }
            memcpy(seqs[c], e->cameras[c].frame_seq + 1, sizeof *seqs[c] * (size_t)(n - 1));
            seqs[c][n - 1] = e->cameras[c].frame_seq[n - 1];
            view.cameras[c].frame_seq = seqs[c];
        }
        if (rc)
            snprintf(err, errlen, "out of memory");
    }
    hid_t obs = rc ? -1 : tp_h5_group(g, group);
    const char *what = group;
    if (!rc && obs < 0)
        goto bad;
    what = "robot0_joint_pos";
    if (!rc && write_vec(obs, what, view.state, n, e->state_dims, r->o.gzip))
        goto bad;
    what = "robot0_joint_vel";
    if (!rc && view.velocity && write_vec(obs, what, view.velocity, n, e->velocity_dims, r->o.gzip))
        goto bad;
    for (int c = 0; c < e->n_cameras && !rc; c++) {
        char name[100];
        snprintf(name, sizeof name, "%s_image", e->cameras[c].name);
        rc = tp_h5_write_camera(obs, name, &view, c, &r->o, r->path, err, errlen);
    }
    goto out;
bad:
    snprintf(err, errlen, "%s: cannot write %s%s%s", r->path, group, what == group ? "" : "/", what == group ? "" : what);
    rc = -1;
out:
    if (obs >= 0)
        H5Gclose(obs);
    for (int c = 0; c < TP_EXPORT_MAX_CAMERAS; c++)
        free(seqs[c]);
    free(rows[0]);
    free(rows[1]);
    return rc;
}

int tp_h5_robomimic_add(tp_h5_robomimic *r, const tp_export_episode *e, bool sim, char *err, size_t errlen)
{
    char demo[32];
    snprintf(demo, sizeof demo, "demo_%d", r->n_demos);
    int64_t n = e->n_frames;
    hid_t g = tp_h5_group(r->data, demo);
    float *objs = NULL, *states = NULL;
    double *rew = NULL;
    int64_t *done = NULL;
    int od = 0, rc = 0;
    const char *what = demo;
    if (g < 0)
        goto bad;
    if (tp_h5_attr_i64(g, "num_samples", n))
        goto bad;
    if (write_obs(r, g, "obs", e, false, err, errlen) || (r->o.next_obs && write_obs(r, g, "next_obs", e, true, err, errlen))) {
        rc = -1;
        goto out;
    }
    what = "actions";
    if (write_vec(g, "actions", e->action, n, e->action_dims, r->o.gzip))
        goto bad;
    if (sim && sim_objects_at_grid(e, &objs, &od, err, errlen)) {
        rc = -1;
        goto out;
    }
    int sd = e->state_dims + od;
    states = malloc(sizeof *states * (size_t)(n ? n : 1) * (size_t)(sd ? sd : 1));
    rew = calloc((size_t)(n ? n : 1), sizeof *rew);
    done = calloc((size_t)(n ? n : 1), sizeof *done);
    what = "states (out of memory)";
    if (!states || !rew || !done)
        goto bad;
    for (int64_t i = 0; i < n; i++) {
        memcpy(states + i * sd, e->state + i * e->state_dims, sizeof *states * (size_t)e->state_dims);
        if (od)
            memcpy(states + i * sd + e->state_dims, objs + i * od, sizeof *states * (size_t)od);
    }
    bool success = false;
    for (int t = 0; t < e->n_tags; t++)
        success |= !strcmp(e->tags[t], "success");
    if (n) {
        done[n - 1] = 1;
        rew[n - 1] = success ? 1.0 : 0.0;
    }
    what = "states";
    if (write_vec(g, "states", states, n, sd, r->o.gzip))
        goto bad;
    what = "rewards";
    if (tp_h5_write_f64(g, "rewards", rew, n, 0, r->o.gzip))
        goto bad;
    what = "dones";
    if (tp_h5_write_i64(g, "dones", done, n, r->o.gzip))
        goto bad;
    what = "mask";
    if (e->outcome[0] && add_to_mask(r, e->outcome, demo))
        goto bad;
    for (int t = 0; t < e->n_tags; t++)
        if (add_to_mask(r, e->tags[t], demo))
            goto bad;
    if (e->offgrid && add_to_mask(r, "offgrid", demo)) /* exported with --allow-offgrid */
        goto bad;
    if (!r->env_args && !(r->env_args = default_env_args(e)))
        goto bad;
    r->n_demos++;
    r->total += n;
    goto out;
bad:
    snprintf(err, errlen, "%s: cannot write data/%s%s%s", r->path, demo, what == demo ? "" : "/",
             what == demo ? "" : what);
    rc = -1;
out:
    free(objs);
    free(states);
    free(rew);
    free(done);
    if (g >= 0)
        H5Gclose(g);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(((const mask *)a)->name, ((const mask *)b)->name);
}

int tp_h5_robomimic_finish(tp_h5_robomimic *r, char *err, size_t errlen)
{
    int rc = 0;
    if (tp_h5_attr_i64(r->data, "total", r->total) ||
        tp_h5_attr_str(r->data, "env_args", r->env_args ? r->env_args : "{}")) {
        snprintf(err, errlen, "%s: cannot write the data attributes", r->path);
        rc = -1;
    }
    qsort(r->masks, (size_t)r->n_masks, sizeof *r->masks, cmp_str); /* a fixed order: same input, same bytes */
    if (!rc && r->n_masks) {
        hid_t m = tp_h5_group(r->file, "mask");
        for (int i = 0; i < r->n_masks && m >= 0 && !rc; i++)
            if (tp_h5_write_strings(m, r->masks[i].name, (const char *const *)r->masks[i].demos, r->masks[i].n)) {
                snprintf(err, errlen, "%s: cannot write mask/%s", r->path, r->masks[i].name);
                rc = -1;
            }
        if (m < 0) {
            snprintf(err, errlen, "%s: cannot write mask", r->path);
            rc = -1;
        } else {
            H5Gclose(m);
        }
    }
    H5Gclose(r->data);
    r->data = -1;
    hid_t f = r->file;
    r->file = -1;
    if (rc)
        H5Fclose(f);
    else
        rc = tp_h5_file_close(f, r->path, err, errlen);
    tp_h5_robomimic_abort(r);
    return rc;
}
