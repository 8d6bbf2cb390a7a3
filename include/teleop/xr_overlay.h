/* teleop — the headset's status overlay: what the operator reads at a
 * glance, drawn into an RGBA image for a quad layer (and the desktop
 * mirror).
 *
 * Line 1: the recording state (REC red, PAUSED amber, IDLE / DONE grey),
 * the episode number and the time in that state, the disk space left.
 * Line 2: hold or clutch state (HOLD red with its cause, CLUTCH RELEASED
 * amber, ENGAGED green), a lost hand per side (red), camera drops.
 * Lines 3 and 4: the left and right arm's active warnings
 * (operator_feedback.h): amber near a joint limit or the workspace edge,
 * red beyond the edge, clamped, holding or untracked.
 * docs/devices/xr.md, "Status overlay", shows it.
 *
 * Text is rasterised with FreeType from the font fontconfig picks for
 * "sans-serif:bold" (the ui kit's text draws into its own GLFW window's
 * textures, so it is not used here); nothing here needs a window or a GL
 * context: the caller uploads the image (glTexSubImage2D into a swapchain
 * image, or a mirror texture).
 *
 * Memory: tp_overlay_create allocates the renderer (FreeType library and
 * face); tp_overlay_draw allocates nothing and writes only the caller's
 * image. One thread per renderer.
 */
#ifndef TELEOP_XR_OVERLAY_H
#define TELEOP_XR_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/operator_feedback.h"
#include "teleop/workflow.h"

struct tp_console_status;

typedef enum tp_overlay_hold {
    TP_OVERLAY_ENGAGED = 0,    /* the robot follows the operator */
    TP_OVERLAY_CLUTCH,         /* the operator released the clutch */
    TP_OVERLAY_HOLD_EMERGENCY, /* emergency hold (key, headset, disk fault) */
    TP_OVERLAY_HOLD_ROBOT,     /* the robot's state is stale (link lost) */
    TP_OVERLAY_HOLD_INPUT,     /* no operator input (stale) */
} tp_overlay_hold;

/* Everything the overlay shows. */
typedef struct tp_overlay_status {
    tp_wf_state state;
    bool record;          /* false: a session that records nothing (state shows as IDLE) */
    int episode;
    double state_s;       /* seconds in the current state */
    tp_overlay_hold hold;
    bool hand_lost[2];
    long long camera_drops; /* frames dropped or missed, all cameras */
    double disk_free_mb;    /* < 0: unknown */
    tp_side_warnings warnings[2];
} tp_overlay_status;

/* The status from what the headset view reads off the console tap
 * (console_tap.h: the view's status and limit figures, either NULL when
 * not published yet) and the feedback of those figures, at now_ns. */
void tp_overlay_status_from(tp_overlay_status *o, const struct tp_console_status *st, const tp_limit_figures *fig,
                            const tp_feedback_output *fb, int64_t now_ns);

typedef struct tp_overlay tp_overlay;

/* Text of px pixels (line height 1.5 px). NULL with a one-line message when
 * FreeType or fontconfig fail or no font is found. */
tp_overlay *tp_overlay_create(int px, char *err, size_t errlen);
void tp_overlay_destroy(tp_overlay *o);

/* The image height the four lines need at this text size. */
int tp_overlay_height(const tp_overlay *o);
/* Colours (RGBA) the overlay uses. */
#define TP_OVERLAY_RED 0xff3b30ffu
#define TP_OVERLAY_AMBER 0xffb000ffu
#define TP_OVERLAY_GREEN 0x34c759ffu
#define TP_OVERLAY_GREY 0xa0a0a0ffu
#define TP_OVERLAY_WHITE 0xf0f0f0ffu
#define TP_OVERLAY_BACKGROUND 0x101010c0u

/* Clears rgba (width x height pixels, stride bytes per row, straight
 * alpha) to the translucent background and draws the status. */
void tp_overlay_draw(tp_overlay *o, const tp_overlay_status *s, uint8_t *rgba, int width, int height, int stride);

/* Where line (0..3) and column x of the layout are: the pen position
 * (baseline) the overlay draws that line's text at. */
void tp_overlay_line_origin(const tp_overlay *o, int line, int *x, int *baseline);
/* Draws text (ASCII) in colour with its baseline at (x, baseline),
 * blended over what rgba holds; returns the pen's x after it. The overlay's
 * own primitive, exposed for tests and for the mirror's extra text. */
int tp_overlay_text(tp_overlay *o, uint8_t *rgba, int width, int height, int stride, int x, int baseline,
                    const char *text, uint32_t colour);
/* The width text would take. */
int tp_overlay_text_width(tp_overlay *o, const char *text);

#endif
