/* teleop review — the player's 3D view: the robot built from the description
 * embedded in the episode (meta robot_description and every robot/…
 * attachment, loaded by MuJoCo from memory, never from the disk), posed from
 * the recorded state at a time (state dim names are joint names; simulated
 * objects from the sim_objects stream), the operator's hands from the
 * operator stream drawn beside it (a sphere per joint, capsules along the
 * bones), seen through an orbit camera the app drives from the mouse.
 *
 * GL: the caller owns the window and its OpenGL context (no window code
 * here). tp_scene3d_gl_init makes this view's MuJoCo render context in the
 * context current on the calling thread; tp_scene3d_render and
 * tp_scene3d_gl_free must run with that same context current. Everything
 * else needs no GL. render leaves the GL state as mjr_render does (viewport,
 * scissor and blending changed): set your own after it.
 *
 * Memory: the view keeps the playback handle it was made from (which must
 * outlive it) and owns its MuJoCo model, data, scene and render context.
 * Not thread-safe: one thread (the app's UI thread) uses a view. */
#ifndef TELEOP_UI_SCENE3D_H
#define TELEOP_UI_SCENE3D_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "playback.h"

typedef struct tp_scene3d tp_scene3d;

/* Loads the embedded robot. NULL with one line naming the episode file when
 * it has no robot description or MuJoCo refuses it. No GL needed. */
tp_scene3d *tp_scene3d_create(tp_playback *pb, char *err, size_t errlen);
/* Frees the render context too if gl_init was called and gl_free was not:
 * then call it with the GL context current. */
void tp_scene3d_destroy(tp_scene3d *s);

/* 0, or -1 with a message (no current context, no framebuffer). */
int tp_scene3d_gl_init(tp_scene3d *s, char *err, size_t errlen);
void tp_scene3d_gl_free(tp_scene3d *s);

/* Poses the robot and places the hands as recorded at t_ns (the last state
 * row at or before it; the first before the recording starts). */
void tp_scene3d_set_time(tp_scene3d *s, int64_t t_ns);
/* Draws into the rectangle x, y, width, height of the current framebuffer,
 * in GL window coordinates (pixels, origin at the bottom-left corner). */
void tp_scene3d_render(tp_scene3d *s, int x, int y, int width, int height);

/* Orbit camera, in MuJoCo's units: dx, dy are the mouse motion divided by
 * the viewport height (a drag across the whole view is 1). */
void tp_scene3d_rotate(tp_scene3d *s, double dx, double dy); /* left drag */
void tp_scene3d_pan(tp_scene3d *s, double dx, double dy);    /* right or middle drag */
void tp_scene3d_zoom(tp_scene3d *s, double steps);           /* scroll: > 0 moves closer */
void tp_scene3d_reset_view(tp_scene3d *s);                   /* the robot from the front */

void tp_scene3d_show_hands(tp_scene3d *s, bool show); /* default shown */

/* How many state dims drive a joint of the model (the rest have no joint of
 * that name); false from tp_scene3d_hands_drawn when the episode has no
 * operator hands or neither is tracked at the time set. */
int tp_scene3d_posed_joints(const tp_scene3d *s);
bool tp_scene3d_hands_drawn(const tp_scene3d *s);

#endif
