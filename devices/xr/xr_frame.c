/* teleop — the OpenXR client's graphics frame loop, run by the view thread:
 * the lock-free hand-over with the operator device thread, xrWaitFrame /
 * xrBeginFrame / xrEndFrame with quad layers, swapchains and their
 * uploads, and the desktop mirror (docs/devices/xr.md, The view in the
 * headset). */
#define GL_GLEXT_PROTOTYPES 1
#include <GL/gl.h>
#include <GL/glext.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "teleop/clock.h"
#include "xr_internal.h"

#define MAX_QUADS 8
#define SWAPCHAIN_MAX_IMAGES 8

struct tp_xr_swapchain {
    tp_xr *xr;
    XrSwapchain handle;
    int width, height;
    int64_t format;
    uint32_t image_count;
    GLuint images[SWAPCHAIN_MAX_IMAGES];
    bool released; /* an image was released: the swapchain can be shown */
    uint32_t last_index; /* the image released last: what the compositor shows */
    uint8_t *staging; /* width*height*4: the flipped RGBA picture */
};

/* ------------------------------------------------------ thread hand-over */

int xr_view_sync_init(xr_view_sync *v, char *err, size_t errlen)
{
    v->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (v->wake_fd < 0) {
        snprintf(err, errlen, "OpenXR: eventfd: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void xr_view_sync_free(xr_view_sync *v)
{
    if (v->wake_fd >= 0)
        close(v->wake_fd);
    v->wake_fd = -1;
}

void xr_view_quiesce(tp_xr *xr)
{
    if (!atomic_load(&xr->sync.active))
        return;
    /* Paired with tp_xr_frame_begin: it raises in_frame, then reads
     * stopping; here stopping is raised, then in_frame read. Either the
     * view thread sees stopping and begins nothing, or this thread sees
     * its frame and waits for xrEndFrame. */
    atomic_store(&xr->sync.stopping, true);
    int64_t deadline = tp_now_ns() + 1000000000LL;
    while (atomic_load(&xr->sync.in_frame) && tp_now_ns() < deadline) {
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
}

void xr_view_resume(tp_xr *xr) { atomic_store(&xr->sync.stopping, false); }

bool xr_view_next_display_time(tp_xr *xr, XrTime *t)
{
    xr_view_sync *v = &xr->sync;
    const int64_t period = atomic_load(&v->period_ns);
    const bool started = v->located_time > 0 && period > 0;
    int64_t deadline = tp_now_ns() + (started ? period * 3 / 2 : 50000000LL);
    for (;;) {
        long long seq = atomic_load(&v->display_seq);
        if (seq != v->located_seq) {
            v->located_seq = seq;
            XrTime published = (XrTime)atomic_load(&v->display_time);
            if (published > v->located_time) {
                v->located_time = published;
                *t = published;
                return true;
            }
            continue; /* already located past it (below) */
        }
        int64_t left = deadline - tp_now_ns();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = v->wake_fd, .events = POLLIN};
        if (poll(&p, 1, (int)((left + 999999) / 1000000)) > 0) {
            uint64_t n;
            ssize_t got = read(v->wake_fd, &n, sizeof n);
            (void)got; /* only a wake-up: the count does not matter */
        }
    }
    if (!started)
        return false;
    v->located_time += period;
    *t = v->located_time;
    return true;
}

static void publish_display_time(xr_view_sync *v, XrTime t, int64_t period_ns)
{
    atomic_store(&v->period_ns, period_ns);
    atomic_store(&v->display_time, (int64_t)t);
    atomic_fetch_add(&v->display_seq, 1);
    uint64_t one = 1;
    ssize_t put = write(v->wake_fd, &one, sizeof one);
    (void)put; /* a full counter still wakes the reader */
}

int tp_xr_view_attach(tp_xr *xr)
{
    if (!xr->gl)
        return -1;
    atomic_store(&xr->sync.active, true);
    return 0;
}

int tp_xr_view_enter(tp_xr *xr, char *err, size_t errlen)
{
    if (!xr->gl) {
        snprintf(err, errlen, "OpenXR: the session is headless: nothing to show");
        return -1;
    }
    tp_xr_gl_make_current(xr->gl);
    return 0;
}

void tp_xr_view_leave(tp_xr *xr)
{
    (void)xr;
    tp_xr_gl_make_current(NULL);
}

/* ------------------------------------------------------------ the frame */

/* A frame call's loss result: the session is over for the view thread. */
static bool frame_lost(tp_xr *xr, XrResult r)
{
    if (r == XR_ERROR_SESSION_LOST || r == XR_ERROR_INSTANCE_LOST) {
        atomic_store(&xr->sync.lost, true);
        return true;
    }
    return false;
}

int tp_xr_frame_begin(tp_xr *xr, tp_xr_frame *f, char *err, size_t errlen)
{
    xr_view_sync *v = &xr->sync;
    if (atomic_load(&v->lost))
        return TP_XR_ENDED;
    atomic_store(&v->in_frame, true);
    if (!atomic_load(&xr->running) || atomic_load(&v->stopping)) {
        atomic_store(&v->in_frame, false);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        return TP_XR_IDLE;
    }
    XrFrameWaitInfo wi = {.type = XR_TYPE_FRAME_WAIT_INFO};
    XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
    XrResult r = xrWaitFrame(xr->session, &wi, &fs);
    f->woke_ns = tp_now_ns();
    if (XR_SUCCEEDED(r)) {
        XrFrameBeginInfo bi = {.type = XR_TYPE_FRAME_BEGIN_INFO};
        r = xrBeginFrame(xr->session, &bi);
    }
    if (XR_FAILED(r)) {
        atomic_store(&v->in_frame, false);
        if (frame_lost(xr, r))
            return TP_XR_ENDED;
        xr_check(r, "xrWaitFrame/xrBeginFrame", err, errlen);
        return TP_XR_ERROR;
    }
    f->display_time = fs.predictedDisplayTime;
    f->period_ns = fs.predictedDisplayPeriod;
    f->should_render = fs.shouldRender;
    int64_t ns;
    f->display_ns = tp_xr_time_to_ns(xr, fs.predictedDisplayTime, &ns) == 0 ? ns : f->woke_ns + f->period_ns;
    publish_display_time(v, fs.predictedDisplayTime, fs.predictedDisplayPeriod);
    return TP_XR_FRAME;
}

static XrPosef to_xr(tp_pose p)
{
    return (XrPosef){.orientation = {(float)p.q.x, (float)p.q.y, (float)p.q.z, (float)p.q.w},
                     .position = {(float)p.p.x, (float)p.p.y, (float)p.p.z}};
}

int tp_xr_frame_submit(tp_xr *xr, const tp_xr_frame *f, const tp_xr_quad *quads, int n, int64_t *submitted_ns,
                       char *err, size_t errlen)
{
    static const XrEyeVisibility eyes[] = {XR_EYE_VISIBILITY_BOTH, XR_EYE_VISIBILITY_LEFT, XR_EYE_VISIBILITY_RIGHT};
    XrCompositionLayerQuad layer[MAX_QUADS];
    const XrCompositionLayerBaseHeader *list[MAX_QUADS];
    uint32_t count = 0;
    for (int i = 0; f->should_render && i < n && count < MAX_QUADS; i++) {
        const tp_xr_quad *q = &quads[i];
        if (!q->swapchain || !q->swapchain->released)
            continue;
        layer[count] = (XrCompositionLayerQuad){
            .type = XR_TYPE_COMPOSITION_LAYER_QUAD,
            .layerFlags = q->blend ? XR_COMPOSITION_LAYER_BLEND_TEXTURE_SOURCE_ALPHA_BIT |
                                         XR_COMPOSITION_LAYER_UNPREMULTIPLIED_ALPHA_BIT
                                   : 0,
            .space = q->head_locked ? xr->view : xr->base,
            .eyeVisibility = eyes[q->eye >= 0 && q->eye <= 2 ? q->eye : 0],
            .subImage = {.swapchain = q->swapchain->handle,
                         .imageRect = {.offset = {0, 0}, .extent = {q->swapchain->width, q->swapchain->height}}},
            .pose = to_xr(q->pose),
            .size = {(float)q->width_m, (float)q->height_m}};
        list[count] = (const XrCompositionLayerBaseHeader *)&layer[count];
        count++;
    }
    XrFrameEndInfo ei = {.type = XR_TYPE_FRAME_END_INFO, .displayTime = f->display_time,
                         .environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE, .layerCount = count,
                         .layers = count ? list : NULL};
    *submitted_ns = tp_now_ns();
    XrResult r = xrEndFrame(xr->session, &ei);
    atomic_store(&xr->sync.in_frame, false);
    if (frame_lost(xr, r))
        return TP_XR_ENDED;
    if (!xr_check(r, "xrEndFrame", err, errlen))
        return TP_XR_ERROR;
    return TP_XR_FRAME;
}

int tp_xr_locate_head(tp_xr *xr, int64_t display_time, tp_pose *head)
{
    XrSpaceLocation loc = {.type = XR_TYPE_SPACE_LOCATION};
    if (XR_FAILED(xrLocateSpace(xr->view, xr->base, (XrTime)display_time, &loc)))
        return -1;
    const XrSpaceLocationFlags need = XR_SPACE_LOCATION_POSITION_VALID_BIT | XR_SPACE_LOCATION_ORIENTATION_VALID_BIT;
    if ((loc.locationFlags & need) != need)
        return -1;
    *head = (tp_pose){{loc.pose.position.x, loc.pose.position.y, loc.pose.position.z},
                      {loc.pose.orientation.x, loc.pose.orientation.y, loc.pose.orientation.z,
                       loc.pose.orientation.w}};
    return 0;
}

/* ----------------------------------------------------------- swapchains */

tp_xr_swapchain *tp_xr_swapchain_create(tp_xr *xr, int width, int height, char *err, size_t errlen)
{
    int64_t formats[64];
    uint32_t nf = 0;
    if (!xr_check(xrEnumerateSwapchainFormats(xr->session, 64, &nf, formats), "xrEnumerateSwapchainFormats", err,
                  errlen))
        return NULL;
    int64_t format = 0;
    for (uint32_t i = 0; i < nf; i++)
        if (formats[i] == GL_SRGB8_ALPHA8)
            format = GL_SRGB8_ALPHA8;
    for (uint32_t i = 0; i < nf && !format; i++)
        if (formats[i] == GL_RGBA8)
            format = GL_RGBA8;
    if (!format) {
        snprintf(err, errlen, "OpenXR: the runtime offers neither GL_SRGB8_ALPHA8 nor GL_RGBA8 swapchains");
        return NULL;
    }
    tp_xr_swapchain *sc = calloc(1, sizeof *sc);
    if (!sc || !(sc->staging = malloc((size_t)width * (size_t)height * 4))) {
        free(sc);
        snprintf(err, errlen, "OpenXR: out of memory");
        return NULL;
    }
    sc->xr = xr;
    sc->width = width;
    sc->height = height;
    sc->format = format;
    XrSwapchainCreateInfo ci = {.type = XR_TYPE_SWAPCHAIN_CREATE_INFO,
                                .usageFlags = XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT |
                                              XR_SWAPCHAIN_USAGE_TRANSFER_DST_BIT | XR_SWAPCHAIN_USAGE_SAMPLED_BIT,
                                .format = format,
                                .sampleCount = 1,
                                .width = (uint32_t)width,
                                .height = (uint32_t)height,
                                .faceCount = 1,
                                .arraySize = 1,
                                .mipCount = 1};
    XrSwapchainImageOpenGLKHR images[SWAPCHAIN_MAX_IMAGES];
    for (int i = 0; i < SWAPCHAIN_MAX_IMAGES; i++)
        images[i] = (XrSwapchainImageOpenGLKHR){.type = XR_TYPE_SWAPCHAIN_IMAGE_OPENGL_KHR};
    if (!xr_check(xrCreateSwapchain(xr->session, &ci, &sc->handle), "xrCreateSwapchain", err, errlen)) {
        sc->handle = XR_NULL_HANDLE;
        tp_xr_swapchain_destroy(sc);
        return NULL;
    }
    if (!xr_check(xrEnumerateSwapchainImages(sc->handle, SWAPCHAIN_MAX_IMAGES, &sc->image_count,
                                             (XrSwapchainImageBaseHeader *)images),
                  "xrEnumerateSwapchainImages", err, errlen)) {
        tp_xr_swapchain_destroy(sc);
        return NULL;
    }
    for (uint32_t i = 0; i < sc->image_count; i++)
        sc->images[i] = images[i].image;
    return sc;
}

void tp_xr_swapchain_destroy(tp_xr_swapchain *sc)
{
    if (!sc)
        return;
    if (sc->handle != XR_NULL_HANDLE)
        xrDestroySwapchain(sc->handle);
    free(sc->staging);
    free(sc);
}

int64_t tp_xr_swapchain_format(const tp_xr_swapchain *sc) { return sc->format; }

int tp_xr_swapchain_upload(tp_xr_swapchain *sc, const uint8_t *pixels, int channels, int stride, char *err,
                           size_t errlen)
{
    /* OpenGL's row 0 is the picture's bottom row: the staging copy is
     * flipped (and given alpha) on the way. */
    const int w = sc->width, h = sc->height;
    for (int y = 0; y < h; y++) {
        const uint8_t *src = pixels + (size_t)(h - 1 - y) * (size_t)stride;
        uint8_t *dst = sc->staging + (size_t)y * (size_t)w * 4;
        if (channels == 4) {
            memcpy(dst, src, (size_t)w * 4);
        } else {
            for (int x = 0; x < w; x++) {
                dst[4 * x] = src[3 * x];
                dst[4 * x + 1] = src[3 * x + 1];
                dst[4 * x + 2] = src[3 * x + 2];
                dst[4 * x + 3] = 255;
            }
        }
    }
    uint32_t index = 0;
    XrSwapchainImageAcquireInfo ai = {.type = XR_TYPE_SWAPCHAIN_IMAGE_ACQUIRE_INFO};
    XrResult r = xrAcquireSwapchainImage(sc->handle, &ai, &index);
    if (frame_lost(sc->xr, r))
        return -2;
    if (!xr_check(r, "xrAcquireSwapchainImage", err, errlen))
        return -1;
    XrSwapchainImageWaitInfo wi = {.type = XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO, .timeout = 100000000LL};
    r = xrWaitSwapchainImage(sc->handle, &wi);
    if (r == XR_TIMEOUT_EXPIRED)
        r = XR_ERROR_RUNTIME_FAILURE; /* an image not free after 100 ms: the compositor is stuck */
    if (frame_lost(sc->xr, r))
        return -2;
    if (!xr_check(r, "xrWaitSwapchainImage", err, errlen))
        return -1;
    GLint bound = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &bound);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glBindTexture(GL_TEXTURE_2D, sc->images[index < sc->image_count ? index : 0]);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, sc->staging);
    glBindTexture(GL_TEXTURE_2D, (GLuint)bound);
    GLenum gl_error = glGetError();
    XrSwapchainImageReleaseInfo ri = {.type = XR_TYPE_SWAPCHAIN_IMAGE_RELEASE_INFO};
    r = xrReleaseSwapchainImage(sc->handle, &ri);
    if (frame_lost(sc->xr, r))
        return -2;
    if (!xr_check(r, "xrReleaseSwapchainImage", err, errlen))
        return -1;
    if (gl_error != GL_NO_ERROR) {
        snprintf(err, errlen, "OpenXR view: uploading a %dx%d image: OpenGL error 0x%x", w, h, (unsigned)gl_error);
        return -1;
    }
    sc->released = true;
    sc->last_index = index;
    return 0;
}

/* --------------------------------------------------------------- mirror */

int tp_xr_mirror_draw(tp_xr *xr, const tp_xr_mirror_rect *rects, int n, uint8_t *read_rgb, char *err,
                      size_t errlen)
{
    const int mw = xr->cfg.mirror_width, mh = xr->cfg.mirror_height;
    if (mw <= 0 || mh <= 0 || !xr->gl) {
        snprintf(err, errlen, "OpenXR view: no mirror window");
        return -1;
    }
    if (!xr->mirror_fbo)
        glGenFramebuffers(1, &xr->mirror_fbo);
    glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
    glViewport(0, 0, mw, mh);
    glDisable(GL_FRAMEBUFFER_SRGB); /* bytes as stored: the images are sRGB-encoded already */
    glClearColor(0.06f, 0.06f, 0.06f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, xr->mirror_fbo);
    for (int i = 0; i < n; i++) {
        const tp_xr_swapchain *sc = rects[i].swapchain;
        if (!sc || !sc->released)
            continue;
        glFramebufferTexture2D(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, sc->images[sc->last_index],
                               0);
        /* Window y runs down from the top; OpenGL's up from the bottom,
         * like the texture's rows: no flip, only the origin moves. */
        int y0 = mh - rects[i].y - sc->height;
        glBlitFramebuffer(0, 0, sc->width, sc->height, rects[i].x, y0, rects[i].x + sc->width, y0 + sc->height,
                          GL_COLOR_BUFFER_BIT, GL_NEAREST);
    }
    glFramebufferTexture2D(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, 0, 0);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
    if (read_rgb) {
        /* The back buffer, before the swap leaves it undefined. */
        glReadBuffer(GL_BACK);
        glPixelStorei(GL_PACK_ALIGNMENT, 1);
        for (int y = 0; y < mh; y++)
            glReadPixels(0, mh - 1 - y, mw, 1, GL_RGB, GL_UNSIGNED_BYTE, read_rgb + (size_t)y * (size_t)mw * 3);
    }
    GLenum gl_error = glGetError();
    if (gl_error != GL_NO_ERROR) {
        snprintf(err, errlen, "OpenXR view: drawing the mirror: OpenGL error 0x%x", (unsigned)gl_error);
        return -1;
    }
    tp_xr_gl_swap(xr->gl);
    return 0;
}
