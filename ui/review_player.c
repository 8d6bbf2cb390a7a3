/* teleop review — the player: every camera of the episode at the same
 * capture time, the timeline (scrubber, trim, event markers), the playback
 * clock (play/pause, frame step, seek, 0.25–4×), and the layout of the
 * player screen around the joint plots and the 3D view. */
#include <GLFW/glfw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "review_app.h"

const double rv_speeds[] = {0.25, 0.5, 1.0, 2.0, 4.0};
const int rv_speed_count = 5;
#define SPEED_1X 2

typedef enum event_class { EV_NONE = 0, EV_HOLD, EV_CLAMP, EV_DROP, EV_TRACKING } event_class;

static event_class classify(const char *kind)
{
    static const struct {
        const char *kind;
        event_class c;
    } map[] = {
        {"emergency_hold", EV_HOLD},        {"safety_workspace_hold", EV_HOLD},  {"watchdog_control_stall", EV_HOLD},
        {"safety_position_clamp", EV_CLAMP}, {"safety_velocity_clamp", EV_CLAMP}, {"safety_nonfinite_input", EV_CLAMP},
        {"frame_dropped", EV_DROP},          {"frames_missed", EV_DROP},          {"camera_stall", EV_DROP},
        {"camera_gap", EV_DROP},             {"camera_lost", EV_DROP},            {"recorder_behind", EV_DROP},
        {"deadline_miss", EV_DROP},          {"tracking_lost", EV_TRACKING},      {"xr_tracking_lost", EV_TRACKING},
        {"input_stale", EV_TRACKING},        {"robot_state_stale", EV_HOLD},      {"robot_link_lost", EV_HOLD},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(kind, map[i].kind))
            return map[i].c;
    return EV_NONE;
}

static const uint32_t class_color[] = {0x777777, 0xff4040, 0xffa030, 0xc070ff, 0x30d0ff};
static const char *const class_name[] = {"", "hold", "clamp", "drop", "tracking loss"};

bool rv_player_busy(const struct review_app *a)
{
    return a->view == RV_PLAYER && (a->playing || a->scrubbing || a->scene_pending);
}

void rv_player_close(struct review_app *a)
{
    for (int i = 0; i < RV_MAX_CAMERAS; i++) {
        uk_image_free(a->cam_img[i]);
        a->cam_img[i] = NULL;
    }
    rv_plots_free(a->plots);
    a->plots = NULL;
    rv_scene_free(a->scene);
    a->scene = NULL;
    tp_playback_close(a->pb);
    a->pb = NULL;
    a->scene_pending = false;
    a->path[0] = 0;
    a->playing = false;
    a->view = RV_BROWSER;
    if (a->sel_path[0])
        rv_annot_load(a, a->sel_path);
}

int rv_player_open(struct review_app *a, const char *path)
{
    char err[512], want[4096];
    snprintf(want, sizeof want, "%s", path); /* path may point into the listing we are about to refresh */
    tp_playback *pb = tp_playback_open(want, err, sizeof err);
    if (!pb) {
        rv_status(a, true, "%s", err);
        return -1;
    }
    if (a->pb)
        rv_player_close(a);
    a->pb = pb;
    snprintf(a->path, sizeof a->path, "%s", want);
    a->view = RV_PLAYER;
    a->start_ns = tp_playback_start_ns(pb);
    a->end_ns = tp_playback_end_ns(pb);
    a->t_ns = a->start_ns;
    a->playing = false;
    a->speed_index = SPEED_1X;
    a->n_cams = tp_playback_camera_count(pb);
    if (a->n_cams > RV_MAX_CAMERAS)
        a->n_cams = RV_MAX_CAMERAS;
    for (int i = 0; i < a->n_cams; i++) {
        const tp_playback_camera *c = tp_playback_camera_at(pb, i);
        a->cam_img[i] = uk_image_new(c->width, c->height);
        a->cam_seq[i] = -1;
        a->cam_t[i] = INT64_MIN;
    }
    a->plots = rv_plots_new(pb);
    a->scene_pending = true; /* loading the robot model waits for the first frame */
    a->opened_frame = a->frames;
    /* keep the browser's selection on the episode played */
    snprintf(a->sel_path, sizeof a->sel_path, "%s", want);
    for (int i = 0; i < a->list.n; i++)
        if (!strcmp(a->list.entries[i].path, want))
            a->sel = i;
    rv_annot_load(a, want);
    return 0;
}

void rv_player_seek(struct review_app *a, int64_t t)
{
    if (t < a->start_ns)
        t = a->start_ns;
    if (t > a->end_ns)
        t = a->end_ns;
    a->t_ns = t;
}

void rv_player_tick(struct review_app *a)
{
    double now = uk_time();
    if (a->view == RV_PLAYER && a->playing) {
        double dt = now - a->last_tick;
        if (dt > 0.25) /* a stall (a slow frame) must not jump the video */
            dt = 0.25;
        int64_t t = a->t_ns + (int64_t)(dt * rv_speeds[a->speed_index] * 1e9);
        if (t >= a->end_ns) {
            t = a->end_ns;
            a->playing = false;
        }
        a->t_ns = t;
    }
    a->last_tick = now;
}

/* The times of the frame after / before the one shown (camera 0), or a
 * 30 Hz step without cameras. */
static void step(struct review_app *a, int dir)
{
    a->playing = false;
    if (a->n_cams > 0) {
        int64_t t = dir > 0 ? tp_playback_next_frame_t(a->pb, 0, a->t_ns) : tp_playback_prev_frame_t(a->pb, 0, a->t_ns);
        rv_player_seek(a, t);
    } else {
        rv_player_seek(a, a->t_ns + dir * 33333333);
    }
}

static void jump_event(struct review_app *a, int dir)
{
    int n = tp_playback_event_count(a->pb);
    int64_t best = dir > 0 ? INT64_MAX : INT64_MIN;
    const tp_playback_event *found = NULL;
    for (int i = 0; i < n; i++) {
        const tp_playback_event *e = tp_playback_event_at(a->pb, i);
        if (classify(e->kind) == EV_NONE)
            continue;
        if (dir > 0 && e->t_ns > a->t_ns && e->t_ns < best)
            best = e->t_ns, found = e;
        if (dir < 0 && e->t_ns < a->t_ns && e->t_ns > best)
            best = e->t_ns, found = e;
    }
    if (!found) {
        rv_status(a, false, "no %s event", dir > 0 ? "later" : "earlier");
        return;
    }
    a->playing = false;
    rv_player_seek(a, found->t_ns);
    rv_status(a, false, "%s at %.3f s: %s", found->kind, (found->t_ns - a->start_ns) / 1e9,
              found->detail ? found->detail : "");
}

static void open_neighbour(struct review_app *a, int dir)
{
    int at = -1;
    for (int i = 0; i < a->list.n; i++)
        if (!strcmp(a->list.entries[i].path, a->path))
            at = i;
    int next = at < 0 ? (a->sel >= 0 ? a->sel : 0) : at + dir;
    if (next < 0 || next >= a->list.n) {
        rv_status(a, false, "no %s episode", dir > 0 ? "next" : "previous");
        return;
    }
    rv_player_open(a, a->list.entries[next].path);
}

bool rv_player_key(struct review_app *a, const uk_event *ev)
{
    if (ev->action == UK_RELEASE)
        return false;
    bool shift = ev->mods & UK_MOD_SHIFT, ctrl = ev->mods & UK_MOD_CONTROL;
    switch (ev->key) {
    case GLFW_KEY_SPACE:
        if (!a->playing && a->t_ns >= a->end_ns)
            a->t_ns = a->start_ns;
        a->playing = !a->playing;
        a->last_tick = uk_time();
        return true;
    case GLFW_KEY_RIGHT:
    case GLFW_KEY_LEFT: {
        int dir = ev->key == GLFW_KEY_RIGHT ? 1 : -1;
        if (ctrl || shift) {
            a->playing = false;
            rv_player_seek(a, a->t_ns + dir * (ctrl ? 10000000000LL : 1000000000LL));
        } else {
            step(a, dir);
        }
        return true;
    }
    case GLFW_KEY_HOME: rv_player_seek(a, a->start_ns); return true;
    case GLFW_KEY_END: rv_player_seek(a, a->end_ns); return true;
    case GLFW_KEY_PAGE_DOWN: open_neighbour(a, 1); return true;
    case GLFW_KEY_PAGE_UP: open_neighbour(a, -1); return true;
    case GLFW_KEY_ESCAPE:
    case GLFW_KEY_BACKSPACE: rv_player_close(a); return true;
    default: return false;
    }
}

bool rv_player_char(struct review_app *a, uint32_t cp)
{
    switch (cp) {
    case '-':
        if (a->speed_index > 0)
            a->speed_index--;
        rv_status(a, false, "speed %g×", rv_speeds[a->speed_index]);
        return true;
    case '+':
    case '=':
        if (a->speed_index < rv_speed_count - 1)
            a->speed_index++;
        rv_status(a, false, "speed %g×", rv_speeds[a->speed_index]);
        return true;
    case ']': jump_event(a, 1); return true;
    case '[': jump_event(a, -1); return true;
    case 'G': rv_open_prompt(a, RV_PROMPT_GOTO, ""); return true;
    case 'i': rv_annot_set_trim(a, true, a->t_ns); return true;
    case 'o': rv_annot_set_trim(a, false, a->t_ns); return true;
    case 'I': rv_annot_set_trim(a, true, 0); return true;
    case 'O': rv_annot_set_trim(a, false, 0); return true;
    default: return false;
    }
}

static int64_t x_to_t(const struct review_app *a, float x)
{
    uk_rect r = a->r_timeline;
    double f = (x - r.x) / (r.w > 1 ? r.w : 1);
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    return a->start_ns + (int64_t)llround(f * (double)(a->end_ns - a->start_ns));
}

static float t_to_x(const struct review_app *a, int64_t t)
{
    uk_rect r = a->r_timeline;
    double span = (double)(a->end_ns - a->start_ns);
    return r.x + (float)(span > 0 ? (t - a->start_ns) / span * r.w : 0);
}

static void press_button(struct review_app *a, int b)
{
    switch (b) {
    case 0: rv_player_seek(a, a->start_ns); break;
    case 1: step(a, -1); break;
    case 2: {
        uk_event ev = {.kind = UK_EVENT_KEY, .key = GLFW_KEY_SPACE, .action = UK_PRESS};
        rv_player_key(a, &ev);
        break;
    }
    case 3: step(a, 1); break;
    case 4: rv_player_seek(a, a->end_ns); break;
    case 5: a->speed_index = (a->speed_index + 1) % rv_speed_count; break;
    case 6: rv_annot_set_verdict(a, TP_VERDICT_SUCCESS); break;
    case 7: rv_annot_set_verdict(a, TP_VERDICT_FAILURE); break;
    default: break;
    }
}

bool rv_player_mouse(struct review_app *a, const uk_event *ev, uk_rect area)
{
    (void)area;
    if (ev->kind == UK_EVENT_MOTION && a->scrubbing) {
        rv_player_seek(a, x_to_t(a, ev->x));
        return true;
    }
    if (ev->kind == UK_EVENT_BUTTON && ev->button == GLFW_MOUSE_BUTTON_LEFT && ev->action == UK_RELEASE &&
        a->scrubbing) {
        a->scrubbing = false;
        return true;
    }
    if (a->scene && rv_scene_mouse(a->scene, ev, a->r_scene))
        return true;
    if (ev->kind != UK_EVENT_BUTTON || ev->action != UK_PRESS || ev->button != GLFW_MOUSE_BUTTON_LEFT)
        return false;
    uk_rect hit = a->r_timeline;
    hit.y -= 6;
    hit.h += 12;
    if (uk_rect_contains(hit, ev->x, ev->y)) {
        a->playing = false;
        /* an event marker within 4 px wins: the jump lands on it exactly */
        int n = tp_playback_event_count(a->pb);
        float best = 4.5f;
        const tp_playback_event *found = NULL;
        for (int i = 0; i < n; i++) {
            const tp_playback_event *e = tp_playback_event_at(a->pb, i);
            if (classify(e->kind) == EV_NONE)
                continue;
            float d = fabsf(t_to_x(a, e->t_ns) - ev->x);
            if (d < best)
                best = d, found = e;
        }
        if (found) {
            rv_player_seek(a, found->t_ns);
            rv_status(a, false, "%s at %.3f s: %s", found->kind, (found->t_ns - a->start_ns) / 1e9,
                      found->detail ? found->detail : "");
        } else {
            rv_player_seek(a, x_to_t(a, ev->x));
            a->scrubbing = true;
        }
        return true;
    }
    for (int b = 0; b < a->n_buttons; b++)
        if (uk_rect_contains(a->r_buttons[b], ev->x, ev->y)) {
            press_button(a, b);
            return true;
        }
    return false;
}

static void update_frames(struct review_app *a)
{
    if (!a->n_cams || a->cam_t[0] == a->t_ns)
        return;
    /* every camera at once: the engine decodes them in parallel after a seek */
    const uint8_t *rgb[TP_PLAYBACK_MAX_CAMERAS] = {0};
    int64_t seq[TP_PLAYBACK_MAX_CAMERAS];
    char err[512];
    int n = tp_playback_frames(a->pb, a->t_ns, rgb, seq, err, sizeof err);
    for (int i = 0; i < a->n_cams; i++)
        a->cam_t[i] = a->t_ns;
    if (n < 0) {
        rv_status(a, true, "%s", err);
        return;
    }
    for (int i = 0; i < a->n_cams && i < TP_PLAYBACK_MAX_CAMERAS; i++) {
        if (seq[i] >= 0 && seq[i] != a->cam_seq[i] && rgb[i]) {
            const tp_playback_camera *c = tp_playback_camera_at(a->pb, i);
            uk_image_update(a->cam_img[i], rgb[i], c->width, c->height, c->width * 3);
            a->cam_seq[i] = seq[i];
        }
    }
}

static void draw_cameras(struct review_app *a, uk_rect va)
{
    uk_window *w = a->win;
    float sc = uk_scale(w), lh = uk_text_line_height(w, RV_SMALL) + 2;
    if (!a->n_cams) {
        uk_text(w, va.x + 10, va.y + 10, RV_FONT, uk_rgb(RV_DIM), "no camera in this episode", 0);
        return;
    }
    float slot_w = va.w / a->n_cams, slot_h = va.h - lh;
    for (int i = 0; i < a->n_cams; i++) {
        const tp_playback_camera *c = tp_playback_camera_at(a->pb, i);
        float s = fminf((slot_w - 6) / c->width, slot_h / c->height);
        float s_fb = s * sc;
        if (s_fb >= 1) /* whole-number zoom: sharp, pixel for pixel */
            s_fb = floorf(s_fb);
        s = s_fb / sc;
        float dw = c->width * s, dh = c->height * s;
        float x = roundf((va.x + i * slot_w + (slot_w - dw) / 2) * sc) / sc, y = roundf(va.y * sc) / sc;
        uk_rect r = {x, y, dw, dh};
        uk_image_draw(w, a->cam_img[i], r);
        a->r_cam[i] = r;
        char label[256];
        int64_t ft = a->cam_seq[i] >= 0 && a->cam_seq[i] < c->frames ? c->t_ns[a->cam_seq[i]] : a->start_ns;
        snprintf(label, sizeof label, "%s  frame %lld  %.3f s", c->name, (long long)a->cam_seq[i],
                 (ft - a->start_ns) / 1e9);
        uk_text(w, x, y + dh + 1, RV_SMALL, uk_rgb(RV_DIM), label, slot_w - 4);
    }
}

static void draw_button(struct review_app *a, float *x, float y, float h, const char *label, bool on)
{
    uk_window *w = a->win;
    float tw = uk_text_width(w, RV_SMALL, label) + 16;
    uk_rect r = {*x, y, tw, h};
    uk_fill_rect(w, r, uk_rgb(on ? 0x3a5a9a : 0x3a3d44));
    uk_text(w, r.x + 8, y + (h - uk_text_line_height(w, RV_SMALL)) / 2, RV_SMALL, uk_rgb(RV_TEXT), label, 0);
    if (a->n_buttons < 8)
        a->r_buttons[a->n_buttons++] = r;
    *x += tw + 6;
}

static void draw_timeline(struct review_app *a, uk_rect area)
{
    uk_window *w = a->win;
    float lh = uk_text_line_height(w, RV_SMALL);
    uk_rect bar = {area.x + 8, area.y + 4, area.w - 16, 16};
    a->r_timeline = bar;
    uk_fill_rect(w, bar, uk_rgb(0x34363c));
    const tp_review *r = a->annot_ok && !strcmp(a->annot_path, a->path) ? &a->annot : NULL;
    if (r && (r->trim_in_ns || r->trim_out_ns)) { /* what export will drop, dimmed */
        float xi = r->trim_in_ns ? t_to_x(a, r->trim_in_ns) : bar.x;
        float xo = r->trim_out_ns ? t_to_x(a, r->trim_out_ns) : bar.x + bar.w;
        uk_fill_rect(w, (uk_rect){bar.x, bar.y, xi - bar.x, bar.h}, uk_rgba(0x000000, 0.6f));
        uk_fill_rect(w, (uk_rect){xo, bar.y, bar.x + bar.w - xo, bar.h}, uk_rgba(0x000000, 0.6f));
        uk_fill_rect(w, (uk_rect){xi, bar.y, xo - xi, bar.h}, uk_rgba(0x3ecf6e, 0.25f));
    }
    float xc = t_to_x(a, a->t_ns);
    uk_fill_rect(w, (uk_rect){bar.x, bar.y, xc - bar.x, bar.h}, uk_rgba(RV_ACCENT, 0.45f));
    int n = tp_playback_event_count(a->pb);
    int counts[5] = {0};
    for (int i = 0; i < n; i++) {
        const tp_playback_event *e = tp_playback_event_at(a->pb, i);
        event_class c = classify(e->kind);
        if (c == EV_NONE)
            continue;
        counts[c]++;
        float x = roundf(t_to_x(a, e->t_ns));
        uk_fill_rect(w, (uk_rect){x - 1, bar.y - 3, 3, bar.h + 6}, uk_rgb(class_color[c]));
    }
    uk_fill_rect(w, (uk_rect){roundf(xc) - 1, bar.y - 5, 3, bar.h + 10}, uk_rgb(0xffffff));

    /* controls and the legend */
    float y = bar.y + bar.h + 8, bh = lh + 6, x = area.x + 8;
    a->n_buttons = 0;
    char speed[32], tbuf[128];
    snprintf(speed, sizeof speed, "speed %g×", rv_speeds[a->speed_index]);
    draw_button(a, &x, y, bh, "|◀ start", false);
    draw_button(a, &x, y, bh, "◀ frame", false);
    draw_button(a, &x, y, bh, a->playing ? "❚❚ pause" : "▶ play", a->playing);
    draw_button(a, &x, y, bh, "frame ▶", false);
    draw_button(a, &x, y, bh, "end ▶|", false);
    draw_button(a, &x, y, bh, speed, a->speed_index != SPEED_1X);
    draw_button(a, &x, y, bh, "✓ success", r && r->verdict == TP_VERDICT_SUCCESS);
    draw_button(a, &x, y, bh, "✗ failure", r && r->verdict == TP_VERDICT_FAILURE);
    a->r_controls = (uk_rect){area.x, y, x - area.x, bh};
    snprintf(tbuf, sizeof tbuf, "%.3f / %.3f s", (a->t_ns - a->start_ns) / 1e9, (a->end_ns - a->start_ns) / 1e9);
    x += 8;
    x += uk_text(w, x, y + 3, RV_FONT, uk_rgb(RV_TEXT), tbuf, 0) + 20;
    for (int c = 1; c <= 4; c++) {
        char lg[64];
        snprintf(lg, sizeof lg, "%s %d", class_name[c], counts[c]);
        uk_fill_rect(w, (uk_rect){x, y + 5, 10, 10}, uk_rgb(class_color[c]));
        x += 14;
        x += uk_text(w, x, y + 3, RV_SMALL, uk_rgb(RV_DIM), lg, 0) + 14;
    }
}

static void draw_info(struct review_app *a, uk_rect area)
{
    uk_window *w = a->win;
    const char *name = strrchr(a->path, '/');
    name = name ? name + 1 : a->path;
    const tp_review *r = a->annot_ok && !strcmp(a->annot_path, a->path) ? &a->annot : NULL;
    char line[8192];
    float x = area.x + 8;
    x += uk_text(w, x, area.y + 2, RV_FONT, uk_rgb(RV_TEXT), name, area.w * 0.3f) + 16;
    if (r) {
        snprintf(line, sizeof line, "task: %s%s", r->task, r->task_recorded[0] ? " (corrected)" : "");
        x += uk_text(w, x, area.y + 2, RV_FONT, uk_rgb(RV_TEXT), line, area.w * 0.35f) + 16;
        if (r->verdict != TP_VERDICT_NONE)
            x += uk_text(w, x, area.y + 2, RV_FONT, uk_rgb(r->verdict == TP_VERDICT_SUCCESS ? RV_GOOD : RV_BAD),
                         r->verdict == TP_VERDICT_SUCCESS ? "✓ success" : "✗ failure", 0) + 16;
        line[0] = 0;
        for (int i = 1; i <= 5; i++)
            strcat(line, i <= r->rating ? "★" : "☆");
        x += uk_text(w, x, area.y + 2, RV_FONT, uk_rgb(r->rating ? 0xffd479 : 0x555555), line, 0) + 16;
        if (r->delete_marked)
            uk_text(w, x, area.y + 2, RV_FONT, uk_rgb(RV_BAD), "marked for deletion", 0);
        /* second line: tags, trim, the newest note */
        size_t n = 0;
        line[0] = 0;
        for (int i = 0; i < r->n_tags && n < sizeof line - 80; i++)
            n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", i ? ", " : "tags: ", r->tags[i]);
        if (r->trim_in_ns || r->trim_out_ns)
            n += (size_t)snprintf(line + n, sizeof line - n, "%strim %.3f – %.3f s", n ? "    " : "",
                                  r->trim_in_ns ? (r->trim_in_ns - a->start_ns) / 1e9 : 0.0,
                                  ((r->trim_out_ns ? r->trim_out_ns : a->end_ns) - a->start_ns) / 1e9);
        if (r->n_notes)
            snprintf(line + n, sizeof line - n, "%snote: %s", n ? "    " : "", r->notes[r->n_notes - 1].text);
        float y2 = area.y + 4 + uk_text_line_height(w, RV_FONT);
        uk_text(w, area.x + 8, y2, RV_SMALL, uk_rgb(0x8ab4ff), line, area.w - 16);
    }
}

void rv_player_draw(struct review_app *a, uk_rect area)
{
    uk_window *w = a->win;
    if (a->scene_pending && a->frames > a->opened_frame) {
        char err[512];
        a->scene_pending = false;
        a->scene = rv_scene_new(a->pb, err, sizeof err);
        if (!a->scene)
            rv_status(a, true, "3D view: %s", err);
    }
    update_frames(a);
    float info_h = uk_text_line_height(w, RV_FONT) + uk_text_line_height(w, RV_SMALL) + 10;
    draw_info(a, (uk_rect){area.x, area.y, area.w, info_h});
    float y = area.y + info_h;
    float rest = area.h - info_h;
    float tl_h = 16 + 8 + uk_text_line_height(w, RV_SMALL) + 6 + 14;
    float top_h = floorf((rest - tl_h) * 0.56f);
    uk_rect va = {area.x + 4, y, floorf(area.w * 0.64f) - 8, top_h};
    uk_rect sa = {va.x + va.w + 8, y, area.x + area.w - (va.x + va.w + 8) - 4, top_h};
    draw_cameras(a, va);
    a->r_scene = sa;
    uk_fill_rect(w, sa, uk_rgb(0x15161a));
    if (a->scene) {
        rv_scene_draw(a->scene, w, sa, a->t_ns, a->playing);
    } else {
        uk_text(w, sa.x + 10, sa.y + 10, RV_SMALL, uk_rgb(RV_DIM), a->scene_pending ? "loading the robot…" : "no 3D view",
                0);
    }
    y += top_h + 4;
    draw_timeline(a, (uk_rect){area.x, y, area.w, tl_h});
    y += tl_h + 4;
    a->r_plots = (uk_rect){area.x + 4, y, area.w - 8, area.y + area.h - y};
    if (a->plots)
        rv_plots_draw(a->plots, w, a->r_plots, a->t_ns, a->start_ns, a->end_ns);
}
