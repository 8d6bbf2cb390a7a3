/* teleop — the "sim" camera driver: a named MJCF camera rendered offscreen
 * (EGL) from the qpos snapshots the control loop publishes, one per frame
 * time (the control tick nearest t0 + k/fps), rendered in order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera_drivers.h"
#include "teleop/clock.h"

/* How late a snapshot may be rendered: a stall of the render (the machine
 * busy with other work for a moment) or of the control loop (whose catch-up
 * publishes a few frame times at once) is absorbed without losing a frame
 * time; a camera that cannot keep its rate for longer skips frame times
 * rather than fall further behind. */
#define MAX_RENDER_LAG_NS 400000000LL

typedef struct sim_camera {
    tp_sim_renderer *renderer;
    tp_ring *snapshots;
    unsigned char *snap; /* int64 t_ns + qpos */
    int64_t t0_ns, index; /* the frame time of the snapshot in snap */
} sim_camera;

static int sim_open(tp_camera *cam, const tp_camera_env *env, char *err, size_t errlen)
{
    const tp_camera_params *p = &cam->params;
    if (!env || !env->sim || !env->snapshots) {
        snprintf(err, errlen, "camera '%s': the sim driver needs the simulated robot", p->name);
        return -1;
    }
    if (p->format != TP_PIXEL_RGB24) {
        snprintf(err, errlen, "camera '%s': the sim driver delivers rgb frames only", p->name);
        return -1;
    }
    if (env->snapshots->elem_size != sizeof(int64_t) + sizeof(double) * (size_t)tp_sim_qpos_size(env->sim)) {
        snprintf(err, errlen, "camera '%s': snapshot ring does not match the model", p->name);
        return -1;
    }
    sim_camera *c = calloc(1, sizeof *c);
    if (!c || !(c->snap = malloc(env->snapshots->elem_size))) {
        free(c);
        snprintf(err, errlen, "camera '%s': out of memory", p->name);
        return -1;
    }
    c->snapshots = env->snapshots;
    c->renderer = tp_sim_renderer_create(env->sim, p->source, p->width, p->height, err, errlen);
    if (!c->renderer) {
        free(c->snap);
        free(c);
        return -1;
    }
    /* The first frame compiles shaders and fills caches (about ten normal
     * frames): render it now, before the session clock starts. */
    uint8_t *warm = malloc(tp_camera_max_frame_bytes(p));
    tp_sim_copy_qpos(env->sim, (double *)(c->snap + sizeof(int64_t)));
    int rc = warm ? tp_sim_renderer_render(c->renderer, (const double *)(c->snap + sizeof(int64_t)), warm) : -1;
    free(warm);
    if (rc != 0) {
        snprintf(err, errlen, "camera '%s': the first frame failed to render", p->name);
        tp_sim_renderer_destroy(c->renderer);
        free(c->snap);
        free(c);
        return -1;
    }
    cam->state = c;
    return 0;
}

static int sim_start(tp_camera *cam, int64_t t0_ns, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    sim_camera *c = cam->state;
    c->t0_ns = t0_ns;
    c->index = -1;
    return 0;
}

/* The frame time k of a state stamped t: the control loop stamps it within
 * half a control period of t0 + k/fps. */
static int64_t frame_index(const sim_camera *c, double fps, int64_t t_ns)
{
    return llround((double)(t_ns - c->t0_ns) * fps / 1e9);
}

static int sim_poll(tp_camera *cam, int64_t deadline_ns, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    sim_camera *c = cam->state;
    const double fps = cam->params.fps;
    for (;;) {
        /* In order, not the newest: every frame time the control loop
         * published is rendered, late if a render ran long, up to
         * MAX_RENDER_LAG_NS late; an older snapshot with a newer one behind
         * it is skipped (the index jump counts it missed), so a camera that
         * cannot keep its rate stays near the present rather than falling
         * ever further behind. */
        bool got = false;
        int64_t now = tp_now_ns();
        while (tp_ring_pop(c->snapshots, c->snap)) {
            int64_t t;
            memcpy(&t, c->snap, sizeof t);
            got = true;
            c->index = frame_index(c, fps, t);
            if (now - t <= MAX_RENDER_LAG_NS || tp_ring_count(c->snapshots) == 0)
                break;
        }
        if (got)
            return 1;
        if (now >= deadline_ns)
            return 0;
        /* Look again at the next frame time (its state is published at the
         * control tick nearest it), then every half millisecond. */
        int64_t due = c->t0_ns + (int64_t)llround((double)(c->index + 1) * 1e9 / fps);
        int64_t wake = due > now ? due : now + 500000;
        tp_sleep_until_ns(wake < deadline_ns ? wake : deadline_ns);
    }
}

static int sim_read(tp_camera *cam, tp_camera_frame *f, char *err, size_t errlen)
{
    sim_camera *c = cam->state;
    const tp_camera_params *p = &cam->params;
    /* The frame shows the physics state of that instant: its capture time. */
    memcpy(&f->t_ns, c->snap, sizeof f->t_ns);
    /* Frame times the control loop could not publish (the queue was full: the
     * renders fell a second behind) show as a jump in the index. */
    f->index = c->index;
    f->format = TP_PIXEL_RGB24;
    f->size = 0;
    if (!f->data)
        return 0;
    size_t need = (size_t)p->width * (size_t)p->height * 3;
    if (f->capacity < need) {
        snprintf(err, errlen, "camera '%s': frame buffer of %zu bytes is too small", p->name, f->capacity);
        return -1;
    }
    if (tp_sim_renderer_render(c->renderer, (const double *)(c->snap + sizeof(int64_t)), f->data) != 0) {
        snprintf(err, errlen, "camera '%s': render failed", p->name);
        return -1;
    }
    f->size = need;
    return 0;
}

static void sim_stop(tp_camera *cam) { (void)cam; }

static void sim_close(tp_camera *cam)
{
    sim_camera *c = cam->state;
    if (!c)
        return;
    tp_sim_renderer_destroy(c->renderer);
    free(c->snap);
    free(c);
    cam->state = NULL;
}

/* The MJCF camera's pinhole (MuJoCo renders a symmetric frustum of
 * vertical field of view fovy with square pixels) and its pose in the body
 * it is fixed to. */
static int sim_calibration(const tp_camera_params *p, const tp_camera_env *env, tp_camera_calibration *out,
                           char *err, size_t errlen)
{
    double fovy;
    if (!env || !env->sim ||
        tp_sim_camera_info(env->sim, p->source, &fovy, &out->parent_frame, out->position, out->quat_wxyz) != 0) {
        snprintf(err, errlen, "camera '%s': the model has no camera '%s'", p->name, p->source ? p->source : "");
        return -1;
    }
    tp_camera_pinhole(out, fovy, p->width, p->height);
    return 0;
}

const tp_camera_driver tp_camera_sim_driver = {
    .name = "sim", .open = sim_open, .start = sim_start, .poll = sim_poll,
    .read = sim_read, .stop = sim_stop, .close = sim_close, .calibration = sim_calibration,
};

void camera_ticker_start(camera_ticker *t, int64_t t0_ns, double fps, int backlog)
{
    t->period_ns = (int64_t)(1e9 / fps + 0.5);
    t->next_ns = t0_ns;
    t->backlog = backlog;
}

bool camera_ticker_wait(camera_ticker *t, int64_t deadline_ns, int64_t *tick_ns)
{
    if (t->next_ns > deadline_ns) {
        tp_sleep_until_ns(deadline_ns);
        return false;
    }
    tp_sleep_until_ns(t->next_ns);
    /* Further behind than the backlog covers (a slow render, a starved
     * thread): the oldest ticks are gone; keep the cadence from the oldest
     * one still held. */
    int64_t now = tp_now_ns();
    int64_t oldest = now - (int64_t)t->backlog * t->period_ns;
    if (t->next_ns < oldest - t->period_ns) {
        int64_t skip = (oldest - t->next_ns) / t->period_ns;
        t->next_ns += skip * t->period_ns;
    }
    *tick_ns = t->next_ns;
    t->next_ns += t->period_ns;
    return true;
}
