/* teleop review — per-joint plots: the recorded state against the commanded
 * action of every joint, its limits, and a cursor at the current time.
 * Each series is reduced once to at most a few hundred min/max points, so
 * a frame draws the same small polylines whatever the episode's length. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "review_app.h"

#define PLOT_BINS 240

typedef struct joint_plot {
    char name[64];
    bool has_limits;
    double lower, upper;
    float lo, hi;                  /* y range drawn */
    float state[PLOT_BINS * 2];    /* per bin: min, max (NaN: no row) */
    float action[PLOT_BINS * 2];
    bool has_action;
} joint_plot;

struct rv_plots {
    joint_plot *joints;
    int n;
    tp_playback *pb;
    const tp_playback_series *state, *action;
    int *action_dim; /* per joint: the action column, -1 none */
    float *xy;       /* scratch: PLOT_BINS * 2 points */
    int64_t start, end;
};

static void reduce(const tp_playback_series *s, int dim, int64_t start, int64_t end, float *out)
{
    for (int b = 0; b < PLOT_BINS; b++)
        out[2 * b] = out[2 * b + 1] = NAN;
    double span = (double)(end - start);
    if (span <= 0)
        span = 1;
    for (int64_t i = 0; i < s->n; i++) {
        int b = (int)((s->t_ns[i] - start) / span * PLOT_BINS);
        if (b < 0 || b >= PLOT_BINS)
            b = b < 0 ? 0 : PLOT_BINS - 1;
        float v = s->values[i * s->dims + dim];
        if (!isfinite(v))
            continue;
        if (isnan(out[2 * b]) || v < out[2 * b])
            out[2 * b] = v;
        if (isnan(out[2 * b + 1]) || v > out[2 * b + 1])
            out[2 * b + 1] = v;
    }
}

static void range(const float *v, float *lo, float *hi)
{
    for (int i = 0; i < PLOT_BINS * 2; i++)
        if (!isnan(v[i])) {
            if (v[i] < *lo)
                *lo = v[i];
            if (v[i] > *hi)
                *hi = v[i];
        }
}

rv_plots *rv_plots_new(tp_playback *pb)
{
    const tp_playback_series *st = tp_playback_series_get(pb, "state");
    if (!st || st->dims <= 0)
        return NULL;
    rv_plots *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->pb = pb;
    p->state = st;
    p->action = tp_playback_series_get(pb, "action");
    p->n = st->dims;
    p->joints = calloc((size_t)p->n, sizeof *p->joints);
    p->xy = malloc(sizeof(float) * PLOT_BINS * 4);
    if (!p->joints || !p->xy) {
        rv_plots_free(p);
        return NULL;
    }
    p->start = tp_playback_start_ns(pb);
    p->end = tp_playback_end_ns(pb);
    for (int j = 0; j < p->n; j++) {
        joint_plot *jp = &p->joints[j];
        const char *name = st->dim_names && st->dim_names[j] && st->dim_names[j][0] ? st->dim_names[j] : NULL;
        if (name)
            snprintf(jp->name, sizeof jp->name, "%s", name);
        else
            snprintf(jp->name, sizeof jp->name, "dim %d", j);
        reduce(st, j, p->start, p->end, jp->state);
        /* the action column of the same joint: by name, else by position */
        int ad = -1;
        if (p->action) {
            for (int k = 0; name && k < p->action->dims && ad < 0; k++)
                if (p->action->dim_names && p->action->dim_names[k] && !strcmp(p->action->dim_names[k], name))
                    ad = k;
            if (ad < 0 && p->action->dims == st->dims)
                ad = j;
        }
        jp->has_action = ad >= 0;
        if (jp->has_action)
            reduce(p->action, ad, p->start, p->end, jp->action);
        jp->has_limits = name && tp_playback_joint_limit(pb, name, &jp->lower, &jp->upper);
        float lo = INFINITY, hi = -INFINITY;
        range(jp->state, &lo, &hi);
        if (jp->has_action)
            range(jp->action, &lo, &hi);
        if (jp->has_limits) {
            lo = fminf(lo, (float)jp->lower);
            hi = fmaxf(hi, (float)jp->upper);
        }
        if (!isfinite(lo) || !isfinite(hi)) {
            lo = -1;
            hi = 1;
        }
        float pad = (hi - lo) * 0.06f + 1e-3f;
        jp->lo = lo - pad;
        jp->hi = hi + pad;
    }
    return p;
}

void rv_plots_free(rv_plots *p)
{
    if (!p)
        return;
    free(p->joints);
    free(p->xy);
    free(p);
}

/* A band per bin (min to max), drawn as a line through the bins' ranges:
 * up on min, down on max, so fast motion shows as a filled envelope. */
static void series(rv_plots *p, uk_window *w, uk_rect r, const joint_plot *jp, const float *bins, uk_color c)
{
    int n = 0;
    float k = r.h / (jp->hi - jp->lo);
    for (int b = 0; b < PLOT_BINS; b++) {
        float x = r.x + (b + 0.5f) * r.w / PLOT_BINS;
        if (isnan(bins[2 * b])) {
            p->xy[2 * n] = x, p->xy[2 * n + 1] = NAN;
            n++;
            continue;
        }
        p->xy[2 * n] = x, p->xy[2 * n + 1] = r.y + r.h - (bins[2 * b] - jp->lo) * k;
        n++;
        if (bins[2 * b + 1] != bins[2 * b]) {
            p->xy[2 * n] = x, p->xy[2 * n + 1] = r.y + r.h - (bins[2 * b + 1] - jp->lo) * k;
            n++;
        }
    }
    uk_polyline(w, p->xy, n, 1.0f, c);
}

void rv_plots_draw(rv_plots *p, uk_window *w, uk_rect area, int64_t t_ns, int64_t start_ns, int64_t end_ns)
{
    if (!p || area.w < 40 || area.h < 30)
        return;
    (void)start_ns;
    (void)end_ns;
    int cols = (int)(area.w / 170);
    if (cols < 1)
        cols = 1;
    if (cols > p->n)
        cols = p->n;
    int rows = (p->n + cols - 1) / cols;
    float cw = area.w / cols, ch = area.h / rows;
    float lh = uk_text_line_height(w, 11);
    float span = (float)(p->end - p->start);
    float cursor = span > 0 ? (float)(t_ns - p->start) / span : 0;
    for (int j = 0; j < p->n; j++) {
        const joint_plot *jp = &p->joints[j];
        uk_rect cell = {area.x + (j % cols) * cw, area.y + (j / cols) * ch, cw - 4, ch - 4};
        uk_fill_rect(w, cell, uk_rgb(0x24262b));
        uk_rect r = {cell.x + 2, cell.y + lh, cell.w - 4, cell.h - lh - 2};
        if (r.h < 4)
            continue;
        uk_clip_push(w, cell);
        float k = r.h / (jp->hi - jp->lo);
        if (jp->has_limits) {
            float yl = r.y + r.h - ((float)jp->lower - jp->lo) * k, yu = r.y + r.h - ((float)jp->upper - jp->lo) * k;
            uk_line(w, r.x, yl, r.x + r.w, yl, 1, uk_rgba(0xff4040, 0.8f));
            uk_line(w, r.x, yu, r.x + r.w, yu, 1, uk_rgba(0xff4040, 0.8f));
        }
        if (jp->has_action)
            series(p, w, r, jp, jp->action, uk_rgb(0xffa040));
        series(p, w, r, jp, jp->state, uk_rgb(0x4c9dff));
        float xc = r.x + cursor * r.w;
        uk_line(w, xc, cell.y, xc, cell.y + cell.h, 1, uk_rgb(0xffffff));
        /* the value at the cursor */
        int64_t i = tp_playback_series_index(p->state, t_ns);
        char label[128];
        if (p->state->n > 0)
            snprintf(label, sizeof label, "%s  %.3f", jp->name, p->state->values[i * p->state->dims + j]);
        else
            snprintf(label, sizeof label, "%s", jp->name);
        uk_text(w, cell.x + 3, cell.y, 11, uk_rgb(RV_DIM), label, cell.w - 6);
        uk_clip_pop(w);
    }
}
