/* teleop review — the player's 3D view: the playback engine's MuJoCo scene
 * (tp_scene3d: robot from the embedded description, posed from the state,
 * operator hands beside it) drawn into a rectangle of the app's window, and
 * the mouse driving its orbit camera (left drag rotates, right drag pans,
 * the wheel zooms, a double click resets). */
#include <GLFW/glfw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "review_app.h"
#include "scene3d.h"

/* While playing, the scene is drawn anew at most this often (the state
 * stream is 500 Hz, the eye needs no more than the cameras' 30 Hz) and
 * copied from its last drawing in between: on software GL the 3D view costs
 * more than everything else on the screen together. */
#define SCENE_PERIOD_NS 33333333LL

struct rv_scene {
    tp_scene3d *s;
    uk_image *cache;
    bool cached, moved;
    int64_t cached_t;
    uk_rect cached_area;
    int drag_button; /* -1: not dragging */
    float last_x, last_y;
    double last_click;
};

rv_scene *rv_scene_new(tp_playback *pb, char *err, size_t errlen)
{
    rv_scene *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->drag_button = -1;
    v->cache = uk_image_new(0, 0);
    v->s = tp_scene3d_create(pb, err, errlen);
    if (!v->s || !v->cache) {
        uk_image_free(v->cache);
        free(v);
        return NULL;
    }
    if (tp_scene3d_gl_init(v->s, err, errlen)) {
        tp_scene3d_destroy(v->s);
        uk_image_free(v->cache);
        free(v);
        return NULL;
    }
    return v;
}

void rv_scene_free(rv_scene *v)
{
    if (!v)
        return;
    tp_scene3d_gl_free(v->s);
    tp_scene3d_destroy(v->s);
    uk_image_free(v->cache);
    free(v);
}

void rv_scene_draw(rv_scene *v, uk_window *w, uk_rect area, int64_t t_ns, bool playing)
{
    bool same_area = !memcmp(&area, &v->cached_area, sizeof area);
    int64_t dt = t_ns > v->cached_t ? t_ns - v->cached_t : v->cached_t - t_ns;
    if (v->cached && same_area && !v->moved && (dt == 0 || (playing && dt < SCENE_PERIOD_NS))) {
        uk_image_draw(w, v->cache, area);
        goto label;
    }
    float s = uk_scale(w);
    int fw, fh;
    uk_framebuffer_size(w, &fw, &fh);
    int x = (int)(area.x * s + 0.5f), y = (int)(area.y * s + 0.5f);
    int width = (int)(area.w * s + 0.5f), height = (int)(area.h * s + 0.5f);
    tp_scene3d_set_time(v->s, t_ns);
    tp_scene3d_render(v->s, x, fh - (y + height), width, height);
    uk_gl_restore_2d(w);
    uk_image_capture(w, v->cache, area);
    v->cached = true;
    v->moved = false;
    v->cached_t = t_ns;
    v->cached_area = area;
label:;
    char label[128];
    snprintf(label, sizeof label, "%d joints posed%s", tp_scene3d_posed_joints(v->s),
             tp_scene3d_hands_drawn(v->s) ? " · operator hands" : "");
    uk_text(w, area.x + 6, area.y + 4, RV_SMALL, uk_rgb(RV_DIM), label, area.w - 12);
}

bool rv_scene_mouse(rv_scene *v, const uk_event *ev, uk_rect area)
{
    float h = area.h > 1 ? area.h : 1;
    switch (ev->kind) {
    case UK_EVENT_BUTTON:
        if (ev->action == UK_PRESS && uk_rect_contains(area, ev->x, ev->y)) {
            double now = uk_time();
            if (ev->button == GLFW_MOUSE_BUTTON_LEFT && now - v->last_click < 0.4)
                tp_scene3d_reset_view(v->s), v->moved = true;
            if (ev->button == GLFW_MOUSE_BUTTON_LEFT)
                v->last_click = now;
            v->drag_button = ev->button;
            v->last_x = ev->x;
            v->last_y = ev->y;
            return true;
        }
        if (ev->action == UK_RELEASE && v->drag_button == ev->button) {
            v->drag_button = -1;
            return true;
        }
        return false;
    case UK_EVENT_MOTION:
        if (v->drag_button < 0)
            return false;
        v->moved = true;
        if (v->drag_button == GLFW_MOUSE_BUTTON_LEFT)
            tp_scene3d_rotate(v->s, (ev->x - v->last_x) / h, (ev->y - v->last_y) / h);
        else
            tp_scene3d_pan(v->s, (ev->x - v->last_x) / h, (ev->y - v->last_y) / h);
        v->last_x = ev->x;
        v->last_y = ev->y;
        return true;
    case UK_EVENT_SCROLL:
        if (!uk_rect_contains(area, ev->x, ev->y))
            return false;
        tp_scene3d_zoom(v->s, ev->dy);
        v->moved = true;
        return true;
    default: return false;
    }
}
