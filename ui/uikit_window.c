/* teleop ui kit — the GLFW window, its GL compatibility context, the frame
 * loop and the input event queue. */
#include <GL/gl.h>
#include <GLFW/glfw3.h>
#ifdef UK_HAVE_X11
#include <X11/Xlib.h>
/* From glfw3native.h, which Debian's package cannot include without the
 * Xrandr development headers. */
Display *glfwGetX11Display(void);
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uikit_internal.h"

static int g_windows; /* glfwInit/glfwTerminate pairs with the first/last window */

static void error_cb(int code, const char *desc)
{
    (void)code;
    (void)desc; /* reported through the calls that fail */
}

uk_color uk_rgb(uint32_t rgb) { return uk_rgba(rgb, 1.0f); }

uk_color uk_rgba(uint32_t rgb, float alpha)
{
    return (uk_color){((rgb >> 16) & 255) / 255.0f, ((rgb >> 8) & 255) / 255.0f, (rgb & 255) / 255.0f, alpha};
}

bool uk_rect_contains(uk_rect r, float x, float y)
{
    return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

double uk_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void uk_push_event(uk_window *w, const uk_event *ev)
{
    if (w->q_len == UK_EVENT_QUEUE) { /* a stalled app: keep the newest input */
        w->q_head = (w->q_head + 1) % UK_EVENT_QUEUE;
        w->q_len--;
    }
    w->queue[(w->q_head + w->q_len) % UK_EVENT_QUEUE] = *ev;
    w->q_len++;
}

bool uk_next_event(uk_window *w, uk_event *ev)
{
    if (!w->q_len)
        return false;
    *ev = w->queue[w->q_head];
    w->q_head = (w->q_head + 1) % UK_EVENT_QUEUE;
    w->q_len--;
    return true;
}

static void update_size(uk_window *w)
{
    int ww, wh;
    float sx, sy;
    glfwGetFramebufferSize(w->glfw, &w->fb_w, &w->fb_h);
    glfwGetWindowSize(w->glfw, &ww, &wh);
    glfwGetWindowContentScale(w->glfw, &sx, &sy);
    (void)sy;
    w->scale = sx >= 1.0f && isfinite(sx) ? sx : 1.0f;
    (void)ww;
    (void)wh;
}

/* Window coordinates to logical pixels: via framebuffer pixels, so a
 * platform whose window coordinates are already scaled (macOS) and one
 * whose are not (X11) both land right. */
static void to_logical(const uk_window *w, double x, double y, float *lx, float *ly)
{
    int ww, wh;
    glfwGetWindowSize(w->glfw, &ww, &wh);
    double fx = ww > 0 ? (double)w->fb_w / ww : 1.0, fy = wh > 0 ? (double)w->fb_h / wh : 1.0;
    *lx = (float)(x * fx / w->scale);
    *ly = (float)(y * fy / w->scale);
}

static void key_cb(GLFWwindow *g, int key, int scancode, int action, int mods)
{
    uk_window *w = glfwGetWindowUserPointer(g);
    uk_event ev = {.kind = UK_EVENT_KEY, .key = key, .scancode = scancode, .action = action, .mods = mods};
    ev.x = w->mouse_x;
    ev.y = w->mouse_y;
    uk_push_event(w, &ev);
}

static void char_cb(GLFWwindow *g, unsigned int codepoint)
{
    uk_window *w = glfwGetWindowUserPointer(g);
    uk_event ev = {.kind = UK_EVENT_CHAR, .codepoint = codepoint};
    uk_push_event(w, &ev);
}

static void button_cb(GLFWwindow *g, int button, int action, int mods)
{
    uk_window *w = glfwGetWindowUserPointer(g);
    uk_event ev = {.kind = UK_EVENT_BUTTON, .button = button, .action = action, .mods = mods};
    ev.x = w->mouse_x;
    ev.y = w->mouse_y;
    uk_push_event(w, &ev);
}

static void motion_cb(GLFWwindow *g, double x, double y)
{
    uk_window *w = glfwGetWindowUserPointer(g);
    to_logical(w, x, y, &w->mouse_x, &w->mouse_y);
    uk_event ev = {.kind = UK_EVENT_MOTION, .x = w->mouse_x, .y = w->mouse_y};
    uk_push_event(w, &ev);
}

static void scroll_cb(GLFWwindow *g, double dx, double dy)
{
    uk_window *w = glfwGetWindowUserPointer(g);
    uk_event ev = {.kind = UK_EVENT_SCROLL, .dx = (float)dx, .dy = (float)dy, .x = w->mouse_x, .y = w->mouse_y};
    uk_push_event(w, &ev);
}

static void fb_size_cb(GLFWwindow *g, int width, int height)
{
    uk_window *w = glfwGetWindowUserPointer(g);
    (void)width;
    (void)height;
    update_size(w);
    uk_event ev = {.kind = UK_EVENT_RESIZE};
    uk_push_event(w, &ev);
}

static void scale_cb(GLFWwindow *g, float sx, float sy)
{
    (void)sx;
    (void)sy;
    fb_size_cb(g, 0, 0);
}

static void close_cb(GLFWwindow *g)
{
    uk_window *w = glfwGetWindowUserPointer(g);
    uk_event ev = {.kind = UK_EVENT_CLOSE};
    uk_push_event(w, &ev);
}

uk_window *uk_window_open(const char *title, int width, int height, char *err, size_t errlen)
{
    glfwSetErrorCallback(error_cb);
    if (!g_windows && !glfwInit()) {
        const char *d = NULL;
        glfwGetError(&d);
        snprintf(err, errlen, "cannot open a window: %s", d ? d : "GLFW failed to start (no display?)");
        return NULL;
    }
    uk_window *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        if (!g_windows)
            glfwTerminate();
        return NULL;
    }
    glfwDefaultWindowHints();
    /* Legacy (compatibility) GL 2.1+: MuJoCo's mjr draws with fixed-function GL. */
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 2);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 1);
    glfwWindowHint(GLFW_DOUBLEBUFFER, GLFW_TRUE);
    glfwWindowHint(GLFW_DEPTH_BITS, 24);
    glfwWindowHint(GLFW_STENCIL_BITS, 8);
    glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
    w->glfw = glfwCreateWindow(width, height, title, NULL, NULL);
    if (!w->glfw) {
        const char *d = NULL;
        glfwGetError(&d);
        snprintf(err, errlen, "cannot open a window: %s", d ? d : "no OpenGL context");
        free(w);
        if (!g_windows)
            glfwTerminate();
        return NULL;
    }
    g_windows++;
    glfwSetWindowUserPointer(w->glfw, w);
    glfwMakeContextCurrent(w->glfw);
    glfwSwapInterval(0); /* the app paces itself; vsync would hide its frame rate */
    glfwSetKeyCallback(w->glfw, key_cb);
    glfwSetCharCallback(w->glfw, char_cb);
    glfwSetMouseButtonCallback(w->glfw, button_cb);
    glfwSetCursorPosCallback(w->glfw, motion_cb);
    glfwSetScrollCallback(w->glfw, scroll_cb);
    glfwSetFramebufferSizeCallback(w->glfw, fb_size_cb);
    glfwSetWindowContentScaleCallback(w->glfw, scale_cb);
    glfwSetWindowCloseCallback(w->glfw, close_cb);
    update_size(w);
    w->text = uk_text_state_new();
    if (!w->text) {
        snprintf(err, errlen, "cannot open a window: no usable font (FreeType/fontconfig found none)");
        uk_window_close(w);
        return NULL;
    }
    return w;
}

void uk_window_close(uk_window *w)
{
    if (!w)
        return;
    glfwMakeContextCurrent(w->glfw);
    uk_text_state_free(w->text);
    glfwDestroyWindow(w->glfw);
    free(w);
    if (--g_windows == 0)
        glfwTerminate();
}

void uk_window_poll(uk_window *w, double timeout_s)
{
    if (timeout_s > 0 && w->q_len == 0)
        glfwWaitEventsTimeout(timeout_s);
    else
        glfwPollEvents();
}

void uk_window_sync(uk_window *w)
{
#ifdef UK_HAVE_X11
    Display *d = glfwGetX11Display();
    if (d)
        XSync(d, False);
#endif
    uk_window_poll(w, 0);
}

void uk_window_wake(void) { glfwPostEmptyEvent(); }

bool uk_window_should_close(const uk_window *w) { return glfwWindowShouldClose(w->glfw); }

void uk_window_set_should_close(uk_window *w, bool close) { glfwSetWindowShouldClose(w->glfw, close); }

void uk_window_set_title(uk_window *w, const char *utf8) { glfwSetWindowTitle(w->glfw, utf8); }

float uk_width(const uk_window *w) { return w->fb_w / w->scale; }
float uk_height(const uk_window *w) { return w->fb_h / w->scale; }
float uk_scale(const uk_window *w) { return w->scale; }

void uk_framebuffer_size(const uk_window *w, int *width, int *height)
{
    *width = w->fb_w;
    *height = w->fb_h;
}

void uk_mouse(const uk_window *w, float *x, float *y)
{
    *x = w->mouse_x;
    *y = w->mouse_y;
}

struct GLFWwindow *uk_glfw_window(uk_window *w) { return w->glfw; }

void uk_gl_restore_2d(uk_window *w)
{
    glfwMakeContextCurrent(w->glfw);
    glViewport(0, 0, w->fb_w, w->fb_h);
    glMatrixMode(GL_PROJECTION);
    glLoadIdentity();
    glOrtho(0, w->fb_w / w->scale, w->fb_h / w->scale, 0, -1, 1);
    glMatrixMode(GL_MODELVIEW);
    glLoadIdentity();
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_LIGHTING);
    glDisable(GL_CULL_FACE);
    glDisable(GL_TEXTURE_2D);
    glDisable(GL_STENCIL_TEST);
    glEnable(GL_BLEND);
    glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glDrawBuffer(GL_BACK);
    glReadBuffer(GL_BACK);
    uk_apply_clip(w);
}

void uk_frame_begin(uk_window *w, uk_color bg)
{
    update_size(w);
    w->clip_depth = 0;
    uk_gl_restore_2d(w);
    glClearColor(bg.r, bg.g, bg.b, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
}

void uk_finish(uk_window *w)
{
    (void)w;
    glFinish();
}

void uk_frame_end(uk_window *w)
{
    glfwSwapBuffers(w->glfw);
}
