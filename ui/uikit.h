/* teleop ui kit — the few building blocks the review app and the operator
 * console draw with: one GLFW window with an OpenGL compatibility context
 * (MuJoCo's mjr renderer needs legacy GL, so 3D views share the window),
 * queued input events (keys with modifiers, Unicode characters from GLFW's
 * character input, mouse buttons, motion, scroll), filled and outlined
 * rectangles, lines and polylines, RGB images updated in place (video
 * frames), UTF-8 text through FreeType with fontconfig choosing a font per
 * glyph the main font lacks (CJK, symbols), and PNG screenshots of the back
 * buffer (libpng). docs/review.md explains the choices.
 *
 * Coordinates: logical pixels, origin top left, y down. On a HiDPI screen
 * one logical pixel is uk_scale() framebuffer pixels; text is rasterized at
 * framebuffer resolution. Mouse positions in events are logical pixels.
 *
 * Threads: every function runs on the thread that opened the window (GLFW
 * and GL demand it), except uk_window_wake.
 *
 * Memory: uk_window and uk_image are owned by the caller (uk_window_close,
 * uk_image_free; images before their window). Strings passed in are read
 * during the call only.
 */
#ifndef TELEOP_UI_UIKIT_H
#define TELEOP_UI_UIKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uk_window uk_window;
typedef struct uk_image uk_image;

typedef struct uk_rect {
    float x, y, w, h;
} uk_rect;

typedef struct uk_color {
    float r, g, b, a;
} uk_color;

/* 0xRRGGBB opaque, or with alpha 0..1. */
uk_color uk_rgb(uint32_t rgb);
uk_color uk_rgba(uint32_t rgb, float alpha);
bool uk_rect_contains(uk_rect r, float x, float y);

/* ---- window, frame loop ---- */

/* Opens a visible window of width × height logical pixels with a current GL
 * compatibility context. NULL with one line in err (no display, no GL). */
uk_window *uk_window_open(const char *title, int width, int height, char *err, size_t errlen);
void uk_window_close(uk_window *w);

/* Processes pending window-system input into the event queue, waiting up to
 * timeout_s for some when the queue is empty (0: do not wait). */
void uk_window_poll(uk_window *w, double timeout_s);
/* Round trip to the window system, then uk_window_poll(w, 0): every input
 * event the server generated before this call is queued afterwards (what
 * tests driving the app with synthetic X events wait on). */
void uk_window_sync(uk_window *w);
/* Makes a uk_window_poll waiting on another thread return (thread-safe). */
void uk_window_wake(void);
bool uk_window_should_close(const uk_window *w);
void uk_window_set_should_close(uk_window *w, bool close);
void uk_window_set_title(uk_window *w, const char *utf8);

/* Size in logical pixels, and framebuffer pixels per logical pixel. */
float uk_width(const uk_window *w);
float uk_height(const uk_window *w);
float uk_scale(const uk_window *w);
void uk_framebuffer_size(const uk_window *w, int *width, int *height);

/* Starts a frame: viewport, a 2D projection in logical pixels, the
 * background cleared. uk_frame_end presents it (after any screenshot). */
void uk_frame_begin(uk_window *w, uk_color background);
void uk_frame_end(uk_window *w);
/* Waits until the GPU has finished everything drawn so far (benchmarks). */
void uk_finish(uk_window *w);
/* Restores the 2D state after foreign GL calls (mjr_render and friends). */
void uk_gl_restore_2d(uk_window *w);

/* Seconds on a monotonic clock. */
double uk_time(void);

/* The GLFW window, for code that needs GLFW or MuJoCo directly. Owned by w. */
struct GLFWwindow *uk_glfw_window(uk_window *w);

/* ---- input ---- */

typedef enum uk_event_kind {
    UK_EVENT_KEY,     /* key, scancode, action, mods */
    UK_EVENT_CHAR,    /* codepoint: text typed (layouts, IMEs, dead keys resolved) */
    UK_EVENT_BUTTON,  /* button, action, mods, x, y */
    UK_EVENT_MOTION,  /* x, y */
    UK_EVENT_SCROLL,  /* dx, dy, x, y */
    UK_EVENT_RESIZE,  /* the new size is in uk_width/uk_height */
    UK_EVENT_CLOSE,   /* the window manager asked to close */
} uk_event_kind;

/* action: UK_PRESS, UK_RELEASE, UK_REPEAT; mods: UK_MOD_* bits. Keys and
 * buttons are GLFW's codes (GLFW_KEY_*, GLFW_MOUSE_BUTTON_*). */
enum { UK_RELEASE = 0, UK_PRESS = 1, UK_REPEAT = 2 };
enum { UK_MOD_SHIFT = 1, UK_MOD_CONTROL = 2, UK_MOD_ALT = 4, UK_MOD_SUPER = 8 };

typedef struct uk_event {
    uk_event_kind kind;
    int key, scancode, action, mods, button;
    uint32_t codepoint;
    float x, y;   /* logical pixels */
    float dx, dy; /* scroll offsets */
} uk_event;

/* Takes the oldest queued event; false when the queue is empty. */
bool uk_next_event(uk_window *w, uk_event *ev);
void uk_mouse(const uk_window *w, float *x, float *y);

/* ---- primitives (between uk_frame_begin and uk_frame_end) ---- */

void uk_fill_rect(uk_window *w, uk_rect r, uk_color c);
void uk_stroke_rect(uk_window *w, uk_rect r, float line_width, uk_color c);
void uk_line(uk_window *w, float x0, float y0, float x1, float y1, float line_width, uk_color c);
/* n points as x,y pairs; NaN y values break the line. */
void uk_polyline(uk_window *w, const float *xy, int n, float line_width, uk_color c);
void uk_fill_triangle(uk_window *w, float x0, float y0, float x1, float y1, float x2, float y2, uk_color c);
/* Clipping: drawing outside the innermost pushed rectangle is discarded. */
void uk_clip_push(uk_window *w, uk_rect r);
void uk_clip_pop(uk_window *w);

/* An RGB image on the GPU (a video frame). */
uk_image *uk_image_new(int width, int height);
void uk_image_free(uk_image *img);
/* Uploads packed RGB24 rows (stride bytes apart); reallocates when the size
 * changed. */
void uk_image_update(uk_image *img, const uint8_t *rgb, int width, int height, int stride);
/* Draws into r (stretched; callers keep the aspect): nearest-pixel at a
 * whole-number zoom, bilinear otherwise. */
void uk_image_draw(uk_window *w, const uk_image *img, uk_rect r);
/* Copies the rectangle r of the frame drawn so far into img (resized to
 * it): a view expensive to draw (the 3D scene) is drawn again from img. */
void uk_image_capture(uk_window *w, uk_image *img, uk_rect r);
int uk_image_width(const uk_image *img);
int uk_image_height(const uk_image *img);

/* ---- text ---- */

/* Text size is the font's pixel size in logical pixels; y is the top of the
 * line box (uk_text_line_height tall). */
float uk_text_line_height(uk_window *w, float size);
float uk_text_width(uk_window *w, float size, const char *utf8);
/* Draws one line (a newline ends it); when max_width > 0, text that does
 * not fit is cut at a character boundary and ends in "…". Returns the width
 * drawn. Invalid UTF-8 bytes draw as U+FFFD. */
float uk_text(uk_window *w, float x, float y, float size, uk_color c, const char *utf8, float max_width);
/* Byte length of the longest prefix of utf8 that fits in max_width. */
size_t uk_text_fit(uk_window *w, float size, const char *utf8, float max_width);
/* Fonts actually used so far (file names, for docs and tests). */
int uk_text_font_count(const uk_window *w);
const char *uk_text_font_file(const uk_window *w, int index);

/* ---- screenshot ---- */

/* Writes the back buffer (the frame drawn since uk_frame_begin, before
 * uk_frame_end) as an RGB PNG: to PATH.tmp, then renamed. 0 or -1 with one
 * line naming the file. */
int uk_screenshot_png(uk_window *w, const char *path, char *err, size_t errlen);

/* ---- UTF-8 helpers ---- */

/* Decodes one code point at s (n bytes available); returns bytes used (>= 1)
 * and U+FFFD for an invalid sequence. */
int uk_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Appends cp as UTF-8 to buf (len bytes used, cap total, NUL kept);
 * false when it does not fit. */
bool uk_utf8_append(char *buf, size_t cap, uint32_t cp);
/* Removes the last code point; false when empty. */
bool uk_utf8_pop(char *buf);

#endif
