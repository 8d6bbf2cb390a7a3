/* teleop — the export core: an episode resampled onto the dataset's fps grid
 * from its real capture timestamps (include/teleop/export.h, docs/export.md). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/episode.h"
#include "teleop/qa.h"
#include "teleop/export.h"

void tp_export_options_default(tp_export_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->tolerance_frames = 0.5;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void tp_export_interpolate(const int64_t *t_ns, const float *data, int64_t n, int dims, int64_t t, float *out,
                           int64_t *hint)
{
    if (n <= 0) {
        memset(out, 0, sizeof(float) * (size_t)dims);
        return;
    }
    if (t <= t_ns[0]) {
        memcpy(out, data, sizeof(float) * (size_t)dims);
        return;
    }
    if (t >= t_ns[n - 1]) {
        memcpy(out, data + (size_t)(n - 1) * (size_t)dims, sizeof(float) * (size_t)dims);
        return;
    }
    /* Grid instants increase, so the search continues from the last one. */
    int64_t k = hint && *hint > 0 && *hint < n && t_ns[*hint - 1] <= t ? *hint - 1 : 0;
    while (k + 1 < n && t_ns[k + 1] <= t)
        k++;
    if (hint)
        *hint = k + 1;
    const float *a = data + (size_t)k * (size_t)dims;
    if (t == t_ns[k]) {
        memcpy(out, a, sizeof(float) * (size_t)dims);
        return;
    }
    const float *b = a + dims;
    double w = (double)(t - t_ns[k]) / (double)(t_ns[k + 1] - t_ns[k]);
    for (int d = 0; d < dims; d++)
        out[d] = (float)((double)a[d] + w * ((double)b[d] - (double)a[d]));
}

void tp_export_hold(const int64_t *t_ns, const float *data, int64_t n, int dims, int64_t t, float *out,
                    int64_t *hint)
{
    if (n <= 0) {
        memset(out, 0, sizeof(float) * (size_t)dims);
        return;
    }
    int64_t k = hint && *hint > 0 && *hint < n && t_ns[*hint - 1] <= t ? *hint - 1 : 0;
    while (k + 1 < n && t_ns[k + 1] <= t)
        k++;
    if (hint)
        *hint = k + 1;
    memcpy(out, data + (size_t)k * (size_t)dims, sizeof(float) * (size_t)dims);
}

typedef struct series {
    int64_t n;
    int dims;
    int64_t *t_ns;
    float *data;
} series;

static void series_free(series *s)
{
    free(s->t_ns);
    free(s->data);
    memset(s, 0, sizeof *s);
}

static int read_series(tp_episode *ep, const tp_stream_info *si, const int *index, int nindex, series *out,
                       const char *path, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int dims = nindex ? nindex : si->dims;
    for (int i = 0; i < nindex; i++)
        if (index[i] < 0 || index[i] >= si->dims)
            return fail(err, errlen, "%s: stream %s has %d dimensions, the mapping asks for dimension %d", path,
                        si->name, si->dims, index[i]);
    int64_t cap = si->count > 0 ? si->count : 1;
    out->t_ns = malloc(sizeof(int64_t) * (size_t)cap);
    out->data = malloc(sizeof(float) * (size_t)cap * (size_t)dims);
    out->dims = dims;
    if (!out->t_ns || !out->data) {
        series_free(out);
        return fail(err, errlen, "%s: out of memory reading stream %s", path, si->name);
    }
    tp_episode_cursor *c = tp_episode_cursor_open(ep, si->id);
    if (!c) {
        series_free(out);
        return fail(err, errlen, "%s: cannot read stream %s", path, si->name);
    }
    tp_episode_row row;
    int r;
    while ((r = tp_episode_cursor_next(c, &row)) == 1 && out->n < cap) {
        if (out->n && row.t_ns <= out->t_ns[out->n - 1]) {
            r = -2;
            break;
        }
        out->t_ns[out->n] = row.t_ns;
        float *dst = out->data + (size_t)out->n * (size_t)dims;
        if (nindex)
            for (int i = 0; i < nindex; i++)
                dst[i] = row.samples[index[i]];
        else
            memcpy(dst, row.samples, sizeof(float) * (size_t)dims);
        out->n++;
    }
    tp_episode_cursor_close(c);
    if (r < 0) {
        series_free(out);
        return fail(err, errlen, "%s: stream %s: %s", path, si->name,
                    r == -2 ? "timestamps do not increase" : "unreadable row");
    }
    return 0;
}

static int64_t meta_int(tp_episode *ep, const char *key, int64_t def, bool *present)
{
    const char *v = tp_episode_meta(ep, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return def;
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return def;
    return (int64_t)x;
}

static void copy_text(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* What review and QA stored, for the selection (--verdict, --min-rating,
 * --qa-*, deletion marks). */
static int read_review(tp_episode *ep, tp_export_episode *e, const char *path, char *err, size_t errlen)
{
    copy_text(e->verdict, sizeof e->verdict, tp_episode_meta(ep, "review_verdict"));
    bool has;
    int64_t rating = meta_int(ep, "rating", 0, &has);
    e->rating = has && rating >= 1 && rating <= 5 ? (int)rating : 0;
    const char *del = tp_episode_meta(ep, "delete_marked");
    e->delete_marked = del && !strcmp(del, "1");
    const char *qa = tp_episode_meta(ep, "qa_flags");
    e->has_qa = qa != NULL;
    char why[128];
    if (qa && tp_qa_parse_flags(qa, &e->qa_flags, why, sizeof why) != 0) {
        fail(err, errlen, "%s: meta qa_flags: %s", path, why);
        return -1;
    }
    return 0;
}

static void read_tags(const tp_episode *ep, tp_export_episode *e)
{
    for (int i = 0; i < tp_episode_tag_count(ep) && e->n_tags < TP_EXPORT_MAX_TAGS; i++)
        copy_text(e->tags[e->n_tags++], sizeof e->tags[0], tp_episode_tag_at(ep, i));
}

static char **copy_names(const tp_stream_info *si, const int *index, int nindex, const char *prefix)
{
    int dims = nindex ? nindex : si->dims;
    char **names = calloc((size_t)dims, sizeof *names);
    if (!names)
        return NULL;
    for (int i = 0; i < dims; i++) {
        int k = nindex ? index[i] : i;
        const char *n = si->dim_names && si->dim_names[k] ? si->dim_names[k] : "";
        char buf[96];
        if (!*n) {
            snprintf(buf, sizeof buf, "%s_%d", prefix, k);
            n = buf;
        }
        names[i] = strdup(n);
        if (!names[i]) {
            for (int j = 0; j < i; j++)
                free(names[j]);
            free(names);
            return NULL;
        }
    }
    return names;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int64_t n)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int64_t grid_time(const tp_export_episode *e, int64_t i)
{
    return e->t0_ns + (int64_t)llround((double)i * 1e9 / e->fps);
}

/* The frames of one camera within the window, their capture times and seqs. */
typedef struct frames {
    int64_t n, *t_ns, *seq;
} frames;

static void frames_free(frames *f)
{
    free(f->t_ns);
    free(f->seq);
    memset(f, 0, sizeof *f);
}

static int read_frames(tp_episode *ep, const tp_stream_info *si, int64_t lo, int64_t hi, frames *out,
                       const char *path, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int64_t cap = si->count > 0 ? si->count : 1;
    out->t_ns = malloc(sizeof(int64_t) * (size_t)cap);
    out->seq = malloc(sizeof(int64_t) * (size_t)cap);
    if (!out->t_ns || !out->seq) {
        frames_free(out);
        return fail(err, errlen, "%s: out of memory reading camera %s", path, si->name);
    }
    tp_episode_cursor *c = tp_episode_cursor_open(ep, si->id);
    if (!c) {
        frames_free(out);
        return fail(err, errlen, "%s: cannot read camera %s", path, si->name);
    }
    tp_episode_row row;
    int r;
    while ((r = tp_episode_cursor_next(c, &row)) == 1 && out->n < cap) {
        if (row.t_ns < lo || row.t_ns >= hi)
            continue;
        out->t_ns[out->n] = row.t_ns;
        out->seq[out->n] = row.seq;
        out->n++;
    }
    tp_episode_cursor_close(c);
    if (r < 0) {
        frames_free(out);
        return fail(err, errlen, "%s: camera %s: unreadable packet", path, si->name);
    }
    return 0;
}

/* Maps each grid frame to a recorded frame of camera f (see export.h). */
static int map_camera(tp_export_episode *e, tp_export_camera *cam, const frames *f, double tol_s, bool allow,
                      char *err, size_t errlen)
{
    cam->frame_seq = malloc(sizeof(int64_t) * (size_t)(e->n_frames ? e->n_frames : 1));
    cam->capture_t_ns = malloc(sizeof(int64_t) * (size_t)(e->n_frames ? e->n_frames : 1));
    double *off = malloc(sizeof(double) * (size_t)(e->n_frames ? e->n_frames : 1));
    if (!cam->frame_seq || !cam->capture_t_ns || !off) {
        free(off);
        return fail(err, errlen, "%s: out of memory", e->path);
    }
    int64_t k = 0, first = -1;
    bool flagged = false;
    for (int64_t i = 0; i < e->n_frames; i++) {
        int64_t t = grid_time(e, i);
        while (k + 1 < f->n && llabs(f->t_ns[k + 1] - t) <= llabs(f->t_ns[k] - t))
            k++;
        int64_t pick = k;
        if (first < 0)
            first = k;
        const char *why = NULL;
        double o = (double)llabs(f->t_ns[k] - t) * 1e-9;
        if (k != first + i)
            why = k < first + i ? "repeats a frame (a frame was dropped)" : "skips a recorded frame";
        else if (o > tol_s)
            why = "is off the grid";
        if (why) {
            if (!allow) {
                free(off);
                return fail(err, errlen,
                            "%s: camera %s frame %" PRId64 " %s: %.1f ms from grid instant %" PRId64
                            " (tolerance %.1f ms); --allow-offgrid exports it flagged",
                            e->path, cam->name, f->seq[k], why, o * 1e3, i, tol_s * 1e3);
            }
            if (!flagged && !e->offgrid)
                snprintf(e->offgrid_reason, sizeof e->offgrid_reason,
                         "camera %s frame %" PRId64 " %s: %.1f ms from grid instant %" PRId64, cam->name, f->seq[k],
                         why, o * 1e3, i);
            flagged = true;
        }
        if (allow && first + i < f->n)
            pick = first + i; /* the recorded frames in order: remux stays one to one */
        cam->frame_seq[i] = f->seq[pick];
        cam->capture_t_ns[i] = f->t_ns[pick];
        off[i] = (double)llabs(f->t_ns[pick] - t) * 1e-9;
    }
    if (flagged)
        e->offgrid = true;
    cam->max_offset_s = 0;
    for (int64_t i = 0; i < e->n_frames; i++)
        if (off[i] > cam->max_offset_s)
            cam->max_offset_s = off[i];
    cam->median_offset_s = median_of(off, e->n_frames);
    free(off);
    return 0;
}

static int is_selected_camera(const tp_export_options *opt, const char *name)
{
    if (!opt->n_cameras)
        return 1;
    for (int i = 0; i < opt->n_cameras; i++)
        if (!strcmp(opt->cameras[i], name))
            return 1;
    return 0;
}

int tp_export_episode_load(const char *path, const tp_export_options *opt_in, tp_export_episode *e, char *err,
                           size_t errlen)
{
    tp_export_options defaults;
    tp_export_options_default(&defaults);
    const tp_export_options *opt = opt_in ? opt_in : &defaults;
    memset(e, 0, sizeof *e);
    copy_text(e->path, sizeof e->path, path);
    const char *base = strrchr(path, '/');
    copy_text(e->file_name, sizeof e->file_name, base ? base + 1 : path);
    tp_episode *ep = tp_episode_open(path, err, errlen);
    if (!ep)
        return -1;
    int rc = -1;
    series st = {0}, ac = {0}, ve = {0};
    frames fr[TP_EXPORT_MAX_CAMERAS] = {0};
    double *all_off = NULL;

    copy_text(e->task, sizeof e->task, tp_episode_meta(ep, "task"));
    copy_text(e->operator_name, sizeof e->operator_name, tp_episode_meta(ep, "operator"));
    copy_text(e->outcome, sizeof e->outcome, tp_episode_meta(ep, "outcome"));
    copy_text(e->robot, sizeof e->robot, tp_episode_meta(ep, "robot"));
    e->start_t_ns = meta_int(ep, "start_t_ns", 0, NULL);
    e->end_t_ns = meta_int(ep, "end_t_ns", 0, NULL);
    e->wall_clock_offset_ns = meta_int(ep, "wall_clock_offset_ns", 0, NULL);
    e->start_unix_ns = e->start_t_ns + e->wall_clock_offset_ns;
    bool has_in, has_out;
    e->trim_in_ns = meta_int(ep, "trim_in_ns", 0, &has_in);
    e->trim_out_ns = meta_int(ep, "trim_out_ns", 0, &has_out);
    int64_t lo = has_in ? e->trim_in_ns : INT64_MIN, hi = has_out ? e->trim_out_ns : INT64_MAX;
    if (has_in && has_out && hi <= lo) {
        fail(err, errlen, "%s: meta trim_out_ns %" PRId64 " is not after trim_in_ns %" PRId64, path, hi, lo);
        goto out;
    }
    read_tags(ep, e);
    if (read_review(ep, e, path, err, errlen) != 0)
        goto out;

    /* cameras */
    const tp_stream_info *ref = NULL;
    const tp_stream_info *cams[TP_EXPORT_MAX_CAMERAS];
    int ncams = 0;
    for (int i = 0; i < tp_episode_stream_count(ep); i++) {
        const tp_stream_info *si = tp_episode_stream(ep, i);
        if (si->kind != TP_STREAM_CAMERA || !is_selected_camera(opt, si->name))
            continue;
        if (ncams == TP_EXPORT_MAX_CAMERAS) {
            fail(err, errlen, "%s: more than %d cameras", path, TP_EXPORT_MAX_CAMERAS);
            goto out;
        }
        cams[ncams++] = si;
        if (opt->reference_camera ? !strcmp(si->name, opt->reference_camera) : !ref)
            ref = si;
    }
    for (int i = 0; i < opt->n_cameras; i++)
        if (!tp_episode_find_stream(ep, opt->cameras[i])) {
            fail(err, errlen, "%s: no camera stream '%s'", path, opt->cameras[i]);
            goto out;
        }
    if (!ref) {
        if (opt->reference_camera)
            fail(err, errlen, "%s: no camera stream '%s' (--reference-camera)", path, opt->reference_camera);
        else
            fail(err, errlen, "%s: no camera stream: nothing to put on a frame grid", path);
        goto out;
    }
    /* the reference camera first */
    for (int i = 0; i < ncams; i++)
        if (cams[i] == ref && i) {
            memmove(cams + 1, cams, sizeof cams[0] * (size_t)i);
            cams[0] = ref;
        }
    e->fps = opt->fps > 0 ? opt->fps : ref->rate_hz;
    if (!(e->fps > 0) || !isfinite(e->fps)) {
        fail(err, errlen, "%s: camera %s has no nominal rate; give --fps", path, ref->name);
        goto out;
    }
    e->n_cameras = ncams;
    for (int i = 0; i < ncams; i++) {
        tp_export_camera *c = &e->cameras[i];
        copy_text(c->name, sizeof c->name, cams[i]->name);
        copy_text(c->codec, sizeof c->codec, cams[i]->codec);
        c->stream_id = cams[i]->id;
        c->width = cams[i]->width;
        c->height = cams[i]->height;
        c->rate_hz = cams[i]->rate_hz;
        if (cams[i]->extradata_size) {
            c->extradata = malloc(cams[i]->extradata_size);
            if (!c->extradata) {
                fail(err, errlen, "%s: out of memory", path);
                goto out;
            }
            memcpy(c->extradata, cams[i]->extradata, cams[i]->extradata_size);
            c->extradata_size = cams[i]->extradata_size;
        }
    }

    const char *sname = opt->state_stream ? opt->state_stream : "state";
    const char *aname = opt->action_stream ? opt->action_stream : "action";
    const char *vname = opt->velocity_stream ? opt->velocity_stream : "state_velocity";
    const tp_stream_info *ssi = tp_episode_find_stream(ep, sname);
    const tp_stream_info *asi = tp_episode_find_stream(ep, aname);
    const tp_stream_info *vsi = *vname ? tp_episode_find_stream(ep, vname) : NULL;
    if (!ssi || ssi->kind == TP_STREAM_CAMERA || !asi || asi->kind == TP_STREAM_CAMERA) {
        fail(err, errlen, "%s: no sample stream '%s'", path, !ssi || ssi->kind == TP_STREAM_CAMERA ? sname : aname);
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        const tp_stream_info *si = k ? asi : ssi;
        const int *idx = k ? opt->action_index : opt->state_index;
        int n = k ? opt->n_action_index : opt->n_state_index;
        for (int i = 0; i < n; i++)
            if (idx[i] < 0 || idx[i] >= si->dims) {
                fail(err, errlen, "%s: stream %s has %d dimensions, the mapping asks for dimension %d", path, si->name,
                     si->dims, idx[i]);
                goto out;
            }
    }
    e->state_dims = opt->n_state_index ? opt->n_state_index : ssi->dims;
    e->action_dims = opt->n_action_index ? opt->n_action_index : asi->dims;
    e->state_names = copy_names(ssi, opt->state_index, opt->n_state_index, "state");
    e->action_names = copy_names(asi, opt->action_index, opt->n_action_index, "action");
    if (!e->state_names || !e->action_names) {
        fail(err, errlen, "%s: out of memory", path);
        goto out;
    }

    /* the grid: reference camera frames in the window */
    if (read_frames(ep, ref, lo, hi, &fr[0], path, err, errlen))
        goto out;
    if (fr[0].n == 0) {
        fail(err, errlen, "%s: camera %s has no frame in the exported window", path, ref->name);
        goto out;
    }
    e->t0_ns = fr[0].t_ns[0];
    e->n_frames = fr[0].n;
    for (int i = 1; i < ncams; i++) {
        if (read_frames(ep, cams[i], lo, hi, &fr[i], path, err, errlen))
            goto out;
        if (fr[i].n == 0) {
            fail(err, errlen, "%s: camera %s has no frame in the exported window", path, cams[i]->name);
            goto out;
        }
        /* Remux takes each camera's frames one per grid frame: no camera
         * can give more grid frames than it has from its first mapped one. */
        int64_t k = 0;
        while (k + 1 < fr[i].n && llabs(fr[i].t_ns[k + 1] - e->t0_ns) <= llabs(fr[i].t_ns[k] - e->t0_ns))
            k++;
        if (fr[i].n - k < e->n_frames)
            e->n_frames = fr[i].n - k;
    }
    /* The grid ends at the last reference frame; the rows must cover it. */
    e->duration_s = (double)e->n_frames / e->fps;
    if (opt->meta_only) {
        rc = 0;
        goto out;
    }

    double tol_s = (opt->tolerance_frames > 0 ? opt->tolerance_frames : 0.5) / e->fps;
    for (int i = 0; i < ncams; i++)
        if (map_camera(e, &e->cameras[i], &fr[i], tol_s, opt->allow_offgrid, err, errlen))
            goto out;
    all_off = malloc(sizeof(double) * (size_t)(e->n_frames * ncams + 1));
    if (!all_off) {
        fail(err, errlen, "%s: out of memory", path);
        goto out;
    }
    int64_t noff = 0;
    for (int i = 0; i < ncams; i++)
        for (int64_t f = 0; f < e->n_frames; f++) {
            double o = (double)llabs(e->cameras[i].capture_t_ns[f] - grid_time(e, f)) * 1e-9;
            all_off[noff++] = o;
            if (o > e->max_frame_offset_s)
                e->max_frame_offset_s = o;
        }
    e->median_frame_offset_s = median_of(all_off, noff);

    if (read_series(ep, ssi, opt->state_index, opt->n_state_index, &st, path, err, errlen) ||
        read_series(ep, asi, opt->action_index, opt->n_action_index, &ac, path, err, errlen))
        goto out;
    if (st.n == 0 || ac.n == 0) {
        fail(err, errlen, "%s: stream %s has no samples", path, st.n == 0 ? sname : aname);
        goto out;
    }
    if (vsi && vsi->kind != TP_STREAM_CAMERA && vsi->dims == ssi->dims) {
        if (read_series(ep, vsi, opt->state_index, opt->n_state_index, &ve, path, err, errlen))
            goto out;
        if (ve.n)
            e->velocity_dims = e->state_dims;
    }
    size_t n = (size_t)e->n_frames;
    e->timestamp = malloc(sizeof(float) * (n ? n : 1));
    e->state = malloc(sizeof(float) * (n ? n : 1) * (size_t)e->state_dims);
    e->action = malloc(sizeof(float) * (n ? n : 1) * (size_t)e->action_dims);
    if (e->velocity_dims)
        e->velocity = malloc(sizeof(float) * (n ? n : 1) * (size_t)e->velocity_dims);
    if (!e->timestamp || !e->state || !e->action || (e->velocity_dims && !e->velocity)) {
        fail(err, errlen, "%s: out of memory", path);
        goto out;
    }
    int64_t hs = 0, ha = 0, hv = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t t = grid_time(e, (int64_t)i);
        e->timestamp[i] = (float)((double)i / e->fps);
        tp_export_interpolate(st.t_ns, st.data, st.n, st.dims, t, e->state + i * (size_t)e->state_dims, &hs);
        tp_export_hold(ac.t_ns, ac.data, ac.n, ac.dims, t, e->action + i * (size_t)e->action_dims, &ha);
        if (e->velocity)
            tp_export_interpolate(ve.t_ns, ve.data, ve.n, ve.dims, t, e->velocity + i * (size_t)e->velocity_dims,
                                  &hv);
    }
    rc = 0;
out:
    free(all_off);
    for (int i = 0; i < TP_EXPORT_MAX_CAMERAS; i++)
        frames_free(&fr[i]);
    series_free(&st);
    series_free(&ac);
    series_free(&ve);
    tp_episode_close(ep);
    if (rc)
        tp_export_episode_free(e);
    return rc;
}

void tp_export_episode_free(tp_export_episode *e)
{
    if (e->state_names)
        for (int i = 0; i < e->state_dims; i++)
            free(e->state_names[i]);
    if (e->action_names)
        for (int i = 0; i < e->action_dims; i++)
            free(e->action_names[i]);
    free(e->state_names);
    free(e->action_names);
    free(e->timestamp);
    free(e->state);
    free(e->velocity);
    free(e->action);
    for (int i = 0; i < TP_EXPORT_MAX_CAMERAS; i++) {
        free(e->cameras[i].frame_seq);
        free(e->cameras[i].capture_t_ns);
        free(e->cameras[i].extradata);
        e->cameras[i].frame_seq = e->cameras[i].capture_t_ns = NULL;
        e->cameras[i].extradata = NULL;
    }
    e->state_names = e->action_names = NULL;
    e->timestamp = e->state = e->velocity = e->action = NULL;
}
