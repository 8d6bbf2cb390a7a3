/* teleop ui kit — the window's private state, shared by the kit's files
 * (window and input, primitives, text, screenshot). Not for kit users. */
#ifndef TELEOP_UI_UIKIT_INTERNAL_H
#define TELEOP_UI_UIKIT_INTERNAL_H

#include "uikit.h"

#define UK_EVENT_QUEUE 512
#define UK_CLIP_DEPTH 16

typedef struct uk_text_state uk_text_state; /* uikit_text.c */

struct uk_window {
    struct GLFWwindow *glfw;
    uk_event queue[UK_EVENT_QUEUE];
    int q_head, q_len;
    int fb_w, fb_h; /* framebuffer pixels */
    float scale;    /* framebuffer pixels per logical pixel */
    float mouse_x, mouse_y;
    uk_rect clip[UK_CLIP_DEPTH];
    int clip_depth;
    uk_text_state *text;
};

void uk_push_event(uk_window *w, const uk_event *ev);
void uk_apply_clip(uk_window *w);
uk_text_state *uk_text_state_new(void);
void uk_text_state_free(uk_text_state *t);

#endif
