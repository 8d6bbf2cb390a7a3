/* teleop — the session's headset view: the tp-xr-view thread runs the
 * OpenXR frame loop (never the control thread), shows the newest camera
 * frames on quad layers with the status overlay, plays the warnings'
 * haptics, draws the desktop mirror, and measures each display frame's
 * latency for the episode's headset_view stream (docs/devices/xr.md, The
 * view in the headset). */
#include "station/session_internal.h"

#include "teleop/console_tap.h"
#include "teleop/png.h"
#include "teleop/video.h"
#include "teleop/xr.h"
#include "teleop/xr_overlay.h"

/* The overlay's text at a 640-pixel-wide head panel (scaled with it). */
#define OVERLAY_PX_AT_640 18
/* The overlay is drawn again at most this often (its clock shows seconds). */
#define OVERLAY_EVERY_NS 100000000LL
/* The mirror shows every this many display frames (90 Hz → 30 Hz). */
#define MIRROR_EVERY 3
/* A wrist panel's width as a share of the head panel's. */
#define WRIST_SHARE 0.4
/* Gap between panels, metres. */
#define PANEL_GAP_M 0.03
/* Display frames remembered for the late count. */
#define WOKE_HISTORY 16

enum { SLOT_HEAD, SLOT_HEAD_RIGHT, SLOT_WRIST_LEFT, SLOT_WRIST_RIGHT, SLOT_COUNT };
static const char *const slot_names[SLOT_COUNT] = {"head", "head_right", "wrist_left", "wrist_right"};
#define SLOT_DIMS 5
#define VIEW_HEAD_DIMS 5
#define VIEW_DIMS (VIEW_HEAD_DIMS + SLOT_COUNT * SLOT_DIMS)

typedef struct view_row {
    int64_t t_ns;
    float v[VIEW_DIMS];
} view_row;

struct view_slot {
    int camera; /* the config's (and tap's) camera index; -1: none */
    int width, height;
    bool mjpeg;
    tp_xr_swapchain *sc;
    tp_video_decoder *decoder;
    int64_t index, capture_ns, arrival_ns; /* the frame shown; index -1: none yet */
    int late;
};

struct session_view {
    session *s;
    tp_xr *xr;
    pthread_t thread;
    bool started;
    atomic_int stop;
    struct view_slot slot[SLOT_COUNT];
    bool stereo;
    tp_overlay *overlay;
    int overlay_w, overlay_h;
    uint8_t *overlay_rgba;
    tp_xr_swapchain *overlay_sc;
    int mirror_w, mirror_h;
    tp_ring rows;   /* view_row, view thread → recorder */
    tp_ring events; /* tp_device_event, view thread → recorder */
    long long rows_dropped;
    long long frames;
    char layout[96];
};

/* ------------------------------------------------------------- layout */

static int find_camera(const tp_session_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->camera_count; i++)
        if (strcmp(cfg->cameras[i].device.name, name) == 0)
            return i;
    return -1;
}

static int set_slot(struct view_slot *sl, const tp_session_config *cfg, const char *name, const char *key, char *err,
                    size_t errlen)
{
    sl->camera = -1;
    sl->index = -1;
    if (!name[0])
        return 0;
    int c = find_camera(cfg, name);
    if (c < 0) {
        snprintf(err, errlen, "[xr] %s: no camera named '%s'", key, name);
        return -1;
    }
    sl->camera = c;
    sl->width = cfg->cameras[c].device.width;
    sl->height = cfg->cameras[c].device.height;
    sl->mjpeg = cfg->cameras[c].device.format == TP_PIXEL_MJPEG;
    return 0;
}

/* Row widths of the mirror: the head panel(s); the overlay; the wrist
 * panels side by side. */
static void mirror_size(const struct session_view *v, int *w, int *h)
{
    const struct view_slot *sl = v->slot;
    int head_w = sl[SLOT_HEAD].camera >= 0 ? sl[SLOT_HEAD].width : 0;
    if (sl[SLOT_HEAD_RIGHT].camera >= 0)
        head_w += sl[SLOT_HEAD_RIGHT].width;
    int head_h = sl[SLOT_HEAD].camera >= 0 ? sl[SLOT_HEAD].height : 0;
    int wrist_w = 0, wrist_h = 0;
    for (int k = SLOT_WRIST_LEFT; k <= SLOT_WRIST_RIGHT; k++)
        if (sl[k].camera >= 0) {
            wrist_w += sl[k].width;
            wrist_h = sl[k].height > wrist_h ? sl[k].height : wrist_h;
        }
    *w = head_w > v->overlay_w ? head_w : v->overlay_w;
    *w = wrist_w > *w ? wrist_w : *w;
    *h = head_h + v->overlay_h + wrist_h;
}

int session_view_prepare(session *s, int *mirror_w, int *mirror_h, char *err, size_t errlen)
{
    const tp_session_config *cfg = s->cfg;
    *mirror_w = *mirror_h = 0;
    if (!cfg->xr_view || strcmp(cfg->xr_view, "headset") != 0 || !cfg->operator_source ||
        strcmp(cfg->operator_source, "xr") != 0)
        return 0;
    struct session_view *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "session: out of memory");
        return -1;
    }
    s->view = v;
    v->s = s;
    const tp_xr_view_layout *lay = &cfg->xr_layout;
    v->stereo = lay->stereo_cameras[0][0] && lay->stereo_cameras[1][0];
    const char *head = v->stereo ? lay->stereo_cameras[0]
                                 : (lay->head_camera[0] ? lay->head_camera
                                                        : (cfg->camera_count > 0 ? cfg->cameras[0].device.name : ""));
    if (set_slot(&v->slot[SLOT_HEAD], cfg, head, v->stereo ? "stereo_cameras" : "head_camera", err, errlen) != 0 ||
        set_slot(&v->slot[SLOT_HEAD_RIGHT], cfg, v->stereo ? lay->stereo_cameras[1] : "", "stereo_cameras", err,
                 errlen) != 0 ||
        set_slot(&v->slot[SLOT_WRIST_LEFT], cfg, lay->wrist_cameras[0], "wrist_cameras", err, errlen) != 0 ||
        set_slot(&v->slot[SLOT_WRIST_RIGHT], cfg, lay->wrist_cameras[1], "wrist_cameras", err, errlen) != 0)
        return -1;
    /* As wide as the head panel's pixels, and never under 640: the four
     * lines must fit at a readable size over a small camera too. */
    v->overlay_w = v->slot[SLOT_HEAD].camera >= 0 && v->slot[SLOT_HEAD].width > 640 ? v->slot[SLOT_HEAD].width : 640;
    v->overlay = tp_overlay_create((int)lround(OVERLAY_PX_AT_640 * v->overlay_w / 640.0), err, errlen);
    if (!v->overlay)
        return -1;
    v->overlay_h = tp_overlay_height(v->overlay);
    v->overlay_rgba = malloc((size_t)v->overlay_w * (size_t)v->overlay_h * 4);
    /* Rows for two seconds of a 120 Hz display; the recorder drains every 50 ms. */
    if (!v->overlay_rgba || tp_ring_init(&v->rows, sizeof(view_row), 256) != 0 ||
        tp_ring_init(&v->events, sizeof(tp_device_event), 64) != 0) {
        snprintf(err, errlen, "session: out of memory");
        return -1;
    }
    /* "head_camera 640x480, wrist left_wrist -, head-locked" */
    int n = snprintf(v->layout, sizeof v->layout, "%s%s%s%s %dx%d", v->stereo ? "stereo " : "", head,
                     v->stereo ? " " : "", v->stereo ? lay->stereo_cameras[1] : "", v->slot[SLOT_HEAD].width,
                     v->slot[SLOT_HEAD].height);
    if (n > 0 && (size_t)n < sizeof v->layout && (lay->wrist_cameras[0][0] || lay->wrist_cameras[1][0]))
        n += snprintf(v->layout + n, sizeof v->layout - (size_t)n, ", wrist %s %s",
                      lay->wrist_cameras[0][0] ? lay->wrist_cameras[0] : "-",
                      lay->wrist_cameras[1][0] ? lay->wrist_cameras[1] : "-");
    if (n > 0 && (size_t)n < sizeof v->layout)
        snprintf(v->layout + n, sizeof v->layout - (size_t)n, ", %s-locked", lay->world_locked ? "world" : "head");
    if (lay->mirror)
        mirror_size(v, &v->mirror_w, &v->mirror_h);
    *mirror_w = v->mirror_w;
    *mirror_h = v->mirror_h;
    return 0;
}

int session_view_attach(session *s, char *err, size_t errlen)
{
    struct session_view *v = s->view;
    if (!v)
        return 0;
    v->xr = s->device.ops->xr ? s->device.ops->xr(s->device.state) : NULL;
    if (!v->xr || tp_xr_view_attach(v->xr) != 0) {
        snprintf(err, errlen, "[xr] view = headset: the operator device '%s' has no OpenGL session to show",
                 s->device.ops->name);
        return -1;
    }
    if (!s->tap) {
        snprintf(err, errlen, "[xr] view = headset: the session has no tap to read the cameras from");
        return -1;
    }
    /* The panels read the tap's cameras: their indices from the tap, by name. */
    for (int k = 0; k < SLOT_COUNT; k++) {
        struct view_slot *sl = &v->slot[k];
        if (sl->camera < 0)
            continue;
        const char *name = s->cfg->cameras[sl->camera].device.name;
        sl->camera = tp_console_tap_camera_index(s->tap, name);
        if (sl->camera < 0) {
            snprintf(err, errlen, "[xr] view = headset: camera '%s' is not fed to the view", name);
            return -1;
        }
    }
    return 0;
}

/* ----------------------------------------------------------- the thread */

static void view_report(struct session_view *v, int64_t t_ns, const char *kind, const char *detail)
{
    tp_device_event ev = {.t_ns = t_ns, .kind = kind};
    snprintf(ev.detail, sizeof ev.detail, "%s", detail);
    (void)tp_ring_push(&v->events, &ev); /* a full ring loses the report, never blocks */
}

/* The newest frame of a slot's camera into its swapchain, when one came
 * since the last display frame. */
static int update_slot(struct session_view *v, struct view_slot *sl, const int64_t *woke, long long frames,
                       char *err, size_t errlen)
{
    tp_console_frame fr;
    bool fresh = false;
    if (!tp_console_tap_view_frame(v->s->tap, sl->camera, &fr, &fresh) || !fresh)
        return 0;
    const uint8_t *rgb = fr.data;
    if (sl->mjpeg || fr.format == TP_PIXEL_MJPEG) {
        if (!sl->decoder)
            sl->decoder = tp_video_decoder_create("mjpeg", NULL, 0, fr.width, fr.height, err, errlen);
        tp_video_frame out;
        if (!sl->decoder || tp_video_decoder_send(sl->decoder, fr.data, fr.size, fr.index, err, errlen) != 0 ||
            tp_video_decoder_receive(sl->decoder, &out, err, errlen) != 1)
            return 0; /* a JPEG that does not decode: the panel keeps its last picture */
        rgb = out.rgb;
    }
    if (fr.width != sl->width || fr.height != sl->height)
        return 0;
    int up = tp_xr_swapchain_upload(sl->sc, rgb, 3, fr.width * 3, err, errlen);
    if (up != 0)
        return up;
    sl->index = fr.index;
    sl->capture_ns = fr.t_ns;
    sl->arrival_ns = fr.published_ns;
    /* Display frames that began after the frame arrived, before this one. */
    int late = 0;
    for (long long k = 1; k < WOKE_HISTORY && k <= frames; k++)
        if (woke[(frames - k) % WOKE_HISTORY] > fr.published_ns)
            late++;
    sl->late = late;
    return 1;
}

typedef struct panel {
    const tp_xr_swapchain *sc;
    double x, y, w, h; /* centre and size in metres, on the plane distance_m ahead */
    int eye;
    bool blend;
} panel;

static void place_quads(const struct session_view *v, bool wrist_shown, const tp_pose *anchor, tp_xr_quad *q, int *n)
{
    const tp_xr_view_layout *lay = &v->s->cfg->xr_layout;
    const struct view_slot *sl = v->slot;
    const double d = lay->distance_m, W = lay->width_m;
    const double H = sl[SLOT_HEAD].camera >= 0 ? W * sl[SLOT_HEAD].height / sl[SLOT_HEAD].width : W * 0.75;
    const double oh = W * v->overlay_h / v->overlay_w;
    panel p[SLOT_COUNT + 1];
    int k = 0;
    if (sl[SLOT_HEAD].sc)
        p[k++] = (panel){sl[SLOT_HEAD].sc, 0, 0, W, H, v->stereo ? 1 : 0, false};
    if (sl[SLOT_HEAD_RIGHT].sc)
        p[k++] = (panel){sl[SLOT_HEAD_RIGHT].sc, 0, 0, W, H, 2, false};
    for (int side = 0; side < 2 && wrist_shown; side++) {
        const struct view_slot *w = &sl[SLOT_WRIST_LEFT + side];
        if (!w->sc)
            continue;
        double ww = W * WRIST_SHARE, wh = ww * w->height / w->width;
        double x = (side ? 1 : -1) * (W - ww) / 2;
        p[k++] = (panel){w->sc, x, -(H / 2 + PANEL_GAP_M + wh / 2), ww, wh, 0, false};
    }
    p[k++] = (panel){v->overlay_sc, 0, H / 2 + PANEL_GAP_M + oh / 2, W, oh, 0, true};
    for (int i = 0; i < k; i++) {
        tp_pose pose = {{p[i].x, p[i].y, -d}, {0, 0, 0, 1}};
        if (anchor) {
            /* World-locked: placed once, in front of where the head was,
             * turned only about the vertical. */
            double c = anchor->q.w, sy = anchor->q.y;
            double yaw = 2 * atan2(sy, c);
            double x = pose.p.x * cos(yaw) + pose.p.z * sin(yaw);
            double z = -pose.p.x * sin(yaw) + pose.p.z * cos(yaw);
            pose.p = (tp_vec3){anchor->p.x + x, anchor->p.y + pose.p.y, anchor->p.z + z};
            pose.q = (tp_quat){0, sin(yaw / 2), 0, cos(yaw / 2)};
        }
        q[i] = (tp_xr_quad){.swapchain = p[i].sc, .head_locked = anchor == NULL, .eye = p[i].eye, .pose = pose,
                            .width_m = p[i].w, .height_m = p[i].h, .blend = p[i].blend};
    }
    *n = k;
}

/* The head's yaw only: the world-locked panels stand upright. */
static tp_pose yaw_only(tp_pose head)
{
    /* forward = R(q)·(0,0,-1) projected on the floor */
    const tp_quat q = head.q;
    double fx = -(2 * (q.x * q.z + q.w * q.y)), fz = -(1 - 2 * (q.x * q.x + q.y * q.y));
    double yaw = atan2(-fx, -fz);
    head.q = (tp_quat){0, sin(yaw / 2), 0, cos(yaw / 2)};
    return head;
}

static void mirror_rects(const struct session_view *v, bool wrist_shown, tp_xr_mirror_rect *r, int *n)
{
    const struct view_slot *sl = v->slot;
    int k = 0, x = 0, y = 0;
    for (int i = SLOT_HEAD; i <= SLOT_HEAD_RIGHT; i++)
        if (sl[i].sc) {
            r[k++] = (tp_xr_mirror_rect){sl[i].sc, x, 0};
            x += sl[i].width;
        }
    y = sl[SLOT_HEAD].sc ? sl[SLOT_HEAD].height : 0;
    r[k++] = (tp_xr_mirror_rect){v->overlay_sc, 0, y};
    y += v->overlay_h;
    x = 0;
    for (int i = SLOT_WRIST_LEFT; i <= SLOT_WRIST_RIGHT; i++)
        if (sl[i].sc) {
            if (wrist_shown)
                r[k++] = (tp_xr_mirror_rect){sl[i].sc, x, y};
            x += sl[i].width;
        }
    *n = k;
}

static int create_swapchains(struct session_view *v, char *err, size_t errlen)
{
    for (int k = 0; k < SLOT_COUNT; k++) {
        struct view_slot *sl = &v->slot[k];
        if (sl->camera >= 0 && !(sl->sc = tp_xr_swapchain_create(v->xr, sl->width, sl->height, err, errlen)))
            return -1;
    }
    v->overlay_sc = tp_xr_swapchain_create(v->xr, v->overlay_w, v->overlay_h, err, errlen);
    return v->overlay_sc ? 0 : -1;
}

static void destroy_swapchains(struct session_view *v)
{
    for (int k = 0; k < SLOT_COUNT; k++) {
        tp_xr_swapchain_destroy(v->slot[k].sc);
        v->slot[k].sc = NULL;
        tp_video_decoder_destroy(v->slot[k].decoder);
        v->slot[k].decoder = NULL;
    }
    tp_xr_swapchain_destroy(v->overlay_sc);
    v->overlay_sc = NULL;
}

static void fill_row(const struct session_view *v, const tp_xr_frame *f, int64_t submitted_ns, bool wrist_shown,
                     const bool *fresh, view_row *row)
{
    row->t_ns = submitted_ns;
    float *x = row->v;
    x[0] = (float)v->frames;
    x[1] = (float)((double)f->period_ns / 1e6);
    x[2] = (float)((double)(submitted_ns - f->woke_ns) / 1e6);
    x[3] = (float)((double)(f->display_ns - submitted_ns) / 1e6);
    x[4] = wrist_shown ? 1.0f : 0.0f;
    for (int k = 0; k < SLOT_COUNT; k++) {
        const struct view_slot *sl = &v->slot[k];
        float *o = x + VIEW_HEAD_DIMS + k * SLOT_DIMS;
        bool shown = sl->sc && sl->index >= 0 && (k < SLOT_WRIST_LEFT || wrist_shown);
        o[0] = shown ? (float)sl->index : -1.0f;
        o[1] = shown && fresh[k] ? 1.0f : 0.0f;
        o[2] = shown ? (float)((double)(submitted_ns - sl->capture_ns) / 1e6) : -1.0f;
        o[3] = shown ? (float)((double)(submitted_ns - sl->arrival_ns) / 1e6) : -1.0f;
        o[4] = shown && fresh[k] ? (float)sl->late : -1.0f;
    }
}

static int write_mirror_shot(const struct session_view *v, const char *path, const uint8_t *rgb, bool wrist_shown,
                             char *err, size_t errlen);

static void *view_thread(void *arg)
{
    struct session_view *v = arg;
    session *s = v->s;
    session_set_thread_name("tp-xr-view");
    char err[512];
    uint8_t *shot = NULL;
    if (tp_xr_view_enter(v->xr, err, sizeof err) != 0 || create_swapchains(v, err, sizeof err) != 0) {
        session_fail(s, err);
        destroy_swapchains(v);
        tp_xr_view_leave(v->xr);
        return NULL;
    }
    const tp_session_config *cfg = s->cfg;
    if (cfg->xr_mirror_screenshot && v->mirror_w > 0)
        shot = malloc((size_t)v->mirror_w * (size_t)v->mirror_h * 3);
    bool shot_done = shot == NULL;
    tp_feedback fb;
    tp_feedback_init(&fb, &cfg->feedback);
    tp_feedback_output fb_out;
    memset(&fb_out, 0, sizeof fb_out);
    int64_t woke[WOKE_HISTORY] = {0};
    int64_t overlay_at = 0;
    bool wrist_shown = cfg->xr_layout.wrist_panels;
    int toggles_seen = atomic_load(&s->view_wrist_toggles);
    bool anchored = false;
    tp_pose anchor = {{0, 0, 0}, {0, 0, 0, 1}};
    view_report(v, tp_now_ns(), "headset_view_started", v->layout);
    while (!atomic_load(&v->stop)) {
        tp_xr_frame f;
        int rc = tp_xr_frame_begin(v->xr, &f, err, sizeof err);
        if (rc == TP_XR_IDLE)
            continue;
        if (rc == TP_XR_ENDED)
            break; /* the operator thread reports the loss and ends the session */
        if (rc == TP_XR_ERROR) {
            session_fail(s, err);
            break;
        }
        woke[v->frames % WOKE_HISTORY] = f.woke_ns;
        int toggles = atomic_load(&s->view_wrist_toggles);
        if (toggles != toggles_seen) {
            if ((toggles - toggles_seen) & 1) {
                wrist_shown = !wrist_shown;
                view_report(v, f.woke_ns, "headset_view_wrist_panels", wrist_shown ? "shown" : "hidden");
            }
            toggles_seen = toggles;
        }
        bool fresh[SLOT_COUNT] = {false};
        for (int k = 0; k < SLOT_COUNT && rc == TP_XR_FRAME; k++) {
            struct view_slot *sl = &v->slot[k];
            if (!sl->sc || (k >= SLOT_WRIST_LEFT && !wrist_shown))
                continue;
            int u = update_slot(v, sl, woke, v->frames, err, sizeof err);
            if (u < 0)
                rc = u == -2 ? TP_XR_ENDED : TP_XR_ERROR;
            fresh[k] = u > 0;
        }
        const int64_t now = tp_now_ns();
        bool fig_fresh = false;
        const tp_limit_figures *fig = tp_console_tap_view_limits(s->tap, &fig_fresh);
        if (fig && fig_fresh) {
            tp_feedback_update(&fb, fig, now, &fb_out);
            for (int side = 0; side < 2; side++)
                if (fb_out.haptic[side].action != TP_HAPTIC_NONE)
                    (void)tp_xr_haptic(v->xr, side, &fb_out.haptic[side]); /* unfocused: the runtime plays nothing */
        }
        if (rc == TP_XR_FRAME && now - overlay_at >= OVERLAY_EVERY_NS) {
            tp_overlay_status ost;
            tp_overlay_status_from(&ost, tp_console_tap_view_status(s->tap, NULL), fig, fig ? &fb_out : NULL, now);
            tp_overlay_draw(v->overlay, &ost, v->overlay_rgba, v->overlay_w, v->overlay_h, v->overlay_w * 4);
            int up = tp_xr_swapchain_upload(v->overlay_sc, v->overlay_rgba, 4, v->overlay_w * 4, err, sizeof err);
            if (up != 0)
                rc = up == -2 ? TP_XR_ENDED : TP_XR_ERROR;
            overlay_at = now;
        }
        if (cfg->xr_layout.world_locked && !anchored) {
            tp_pose head;
            if (tp_xr_locate_head(v->xr, f.display_time, &head) == 0) {
                anchor = yaw_only(head);
                anchored = true;
            }
        }
        tp_xr_quad quads[SLOT_COUNT + 1];
        int nq = 0;
        if (!cfg->xr_layout.world_locked || anchored)
            place_quads(v, wrist_shown, cfg->xr_layout.world_locked ? &anchor : NULL, quads, &nq);
        int64_t submitted = 0;
        char serr[256];
        int src = tp_xr_frame_submit(v->xr, &f, quads, rc == TP_XR_FRAME ? nq : 0, &submitted, serr, sizeof serr);
        if (rc == TP_XR_ERROR) {
            session_fail(s, err);
            break;
        }
        if (rc == TP_XR_ENDED || src == TP_XR_ENDED)
            break; /* the operator thread reports the loss and ends the session */
        if (src == TP_XR_ERROR) {
            session_fail(s, serr);
            break;
        }
        view_row row;
        fill_row(v, &f, submitted, wrist_shown, fresh, &row);
        if (!tp_ring_push(&v->rows, &row))
            v->rows_dropped++;
        v->frames++;
        if (v->mirror_w > 0 && v->frames % MIRROR_EVERY == 0) {
            tp_xr_mirror_rect rects[SLOT_COUNT + 1];
            int nr = 0;
            mirror_rects(v, wrist_shown, rects, &nr);
            bool take = !shot_done && (double)(now - s->t_start_ns) / 1e9 >= cfg->xr_mirror_screenshot_after_s;
            if (tp_xr_mirror_draw(v->xr, rects, nr, take ? shot : NULL, err, sizeof err) != 0) {
                session_fail(s, err);
                break;
            }
            if (take) {
                shot_done = true;
                if (write_mirror_shot(v, cfg->xr_mirror_screenshot, shot, wrist_shown, err, sizeof err) != 0)
                    tp_log_info("%s", err);
            }
        }
    }
    destroy_swapchains(v);
    tp_xr_view_leave(v->xr);
    free(shot);
    return NULL;
}

/* The mirror's picture, and beside it PNG.txt: where each panel is and
 * which camera frame it shows (as the console's screenshot says). */
static int write_mirror_shot(const struct session_view *v, const char *path, const uint8_t *rgb,
                                   bool wrist_shown, char *err, size_t errlen)
{
    if (tp_png_write_rgb(path, rgb, v->mirror_w, v->mirror_h, false, err, errlen) != 0)
        return -1;
    char txt[4096];
    snprintf(txt, sizeof txt, "%s.txt", path);
    FILE *f = fopen(txt, "w");
    if (!f) {
        snprintf(err, errlen, "%.400s: cannot create: %s", txt, strerror(errno));
        return -1;
    }
    tp_xr_mirror_rect r[SLOT_COUNT + 1];
    int n = 0;
    mirror_rects(v, wrist_shown, r, &n);
    fprintf(f, "panel x y width height camera frame\n");
    for (int i = 0; i < n; i++) {
        int k = -1;
        for (int j = 0; j < SLOT_COUNT; j++)
            if (v->slot[j].sc && v->slot[j].sc == r[i].swapchain)
                k = j;
        if (k < 0) {
            fprintf(f, "overlay %d %d %d %d - -1\n", r[i].x, r[i].y, v->overlay_w, v->overlay_h);
        } else {
            const struct view_slot *sl = &v->slot[k];
            fprintf(f, "%s %d %d %d %d %s %lld\n", slot_names[k], r[i].x, r[i].y, sl->width, sl->height,
                    tp_console_tap_camera_name(v->s->tap, sl->camera), (long long)sl->index);
        }
    }
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%.400s: write failed", txt);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------- the session's calls */

int session_view_start(session *s)
{
    struct session_view *v = s->view;
    if (!v)
        return 0;
    if (pthread_create(&v->thread, NULL, view_thread, v) != 0)
        return -1;
    v->started = true;
    return 0;
}

void session_view_stop(session *s)
{
    struct session_view *v = s->view;
    if (!v || !v->started)
        return;
    atomic_store(&v->stop, 1);
    pthread_join(v->thread, NULL);
    v->started = false;
    if (v->rows_dropped > 0)
        tp_log_warn("headset view: %lld display frames' headset_view rows not recorded (the recorder's queue "
                    "was full)", v->rows_dropped);
}

void session_view_close(session *s)
{
    struct session_view *v = s->view;
    if (!v)
        return;
    session_view_stop(s);
    tp_overlay_destroy(v->overlay);
    free(v->overlay_rgba);
    tp_ring_free(&v->rows);
    tp_ring_free(&v->events);
    free(v);
    s->view = NULL;
}

tp_ring *session_view_events(session *s) { return s->view ? &s->view->events : NULL; }

int session_view_add_streams(session *s, recorder *rec)
{
    rec->id_view = 0;
    rec->seq_view = 0;
    if (!s->view)
        return 0;
    static char names[VIEW_DIMS][32];
    static const char *name_ptrs[VIEW_DIMS];
    static const char *units[VIEW_DIMS];
    static const char *const head_dims[VIEW_HEAD_DIMS] = {"frame", "period_ms", "render_ms", "ahead_ms",
                                                          "wrist_panels"};
    static const char *const head_units[VIEW_HEAD_DIMS] = {"1", "ms", "ms", "ms", "1"};
    static const char *const slot_dims[SLOT_DIMS] = {"frame", "new", "capture_ms", "arrival_ms", "late"};
    static const char *const slot_units[SLOT_DIMS] = {"1", "1", "ms", "ms", "1"};
    for (int i = 0; i < VIEW_HEAD_DIMS; i++) {
        snprintf(names[i], sizeof names[0], "%s", head_dims[i]);
        units[i] = head_units[i];
    }
    for (int k = 0; k < SLOT_COUNT; k++)
        for (int d = 0; d < SLOT_DIMS; d++) {
            int i = VIEW_HEAD_DIMS + k * SLOT_DIMS + d;
            snprintf(names[i], sizeof names[0], "%s_%s", slot_names[k], slot_dims[d]);
            units[i] = slot_units[d];
        }
    for (int i = 0; i < VIEW_DIMS; i++)
        name_ptrs[i] = names[i];
    /* rate_hz 0: the runtime's display rate, not the station's to set */
    tp_stream_desc d = {.name = "headset_view", .kind = TP_STREAM_OTHER, .dims = VIEW_DIMS, .dim_names = name_ptrs,
                        .dim_units = units, .t_meaning = TP_TIME_CAPTURE, .rate_hz = 0};
    rec->id_view = tp_episode_writer_add_stream(rec->w, &d);
    if (rec->id_view < 0)
        return -1;
    return tp_episode_writer_set_meta(rec->w, "headset_view", s->view->layout);
}

int session_view_drain(recorder *rec, int64_t until)
{
    struct session_view *v = rec->s->view;
    if (!v)
        return 0;
    const view_row *row;
    while ((row = tp_ring_front(&v->rows))) {
        if (row->t_ns >= until)
            break;
        if (rec->w && rec->id_view > 0 && row->t_ns >= rec->ep_start_ns &&
            tp_episode_writer_sample(rec->w, rec->id_view, rec->seq_view++, row->t_ns, row->v, VIEW_DIMS) != 0)
            return -1;
        tp_ring_release(&v->rows);
    }
    return 0;
}
