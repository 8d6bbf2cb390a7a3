/* teleop xr-replay — graphics sessions (XR_KHR_opengl_enable, GLX): the
 * graphics binding, swapchains of GL textures, layer validation at
 * xrEndFrame, and the dump of what was submitted (PNG + index).
 *
 * Textures are made and read in the application's GL context: the extension
 * requires that context to be current on the calling thread for the swapchain
 * calls and xrEndFrame, so the runtime needs no context of its own (and no
 * second X connection) and its reads see the app's finished rendering in
 * command order, with no cross-context synchronisation. Every GL binding the
 * runtime touches is restored before it returns. */
#include "rt.h"
#include "rt_api.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef GL_SRGB8_ALPHA8
#define GL_SRGB8_ALPHA8 0x8C43
#endif

#define RT_SWAPCHAIN_IMAGES 3

typedef struct rt_swapchain {
    rt_obj obj;
    rt_session *sess;
    int64_t format;
    uint32_t width, height, array_size;
    GLuint tex[RT_SWAPCHAIN_IMAGES];
    uint32_t first_acquired; /* oldest acquired image not yet released */
    uint32_t acquired;       /* acquired and not released */
    bool waited;             /* the oldest acquired image has been waited */
    int last_released;       /* image the compositor shows, -1 before any release */
} rt_swapchain;

static const int64_t g_formats[] = {GL_SRGB8_ALPHA8, GL_RGBA8};

XrResult XRAPI_CALL rt_xrGetOpenGLGraphicsRequirementsKHR(XrInstance instance, XrSystemId system,
                                                          XrGraphicsRequirementsOpenGLKHR *req)
{
    ENTER_INSTANCE(instance);
    if (system != RT_SYSTEM_ID)
        RETURN(XR_ERROR_SYSTEM_INVALID);
    if (!req || req->type != XR_TYPE_GRAPHICS_REQUIREMENTS_OPENGL_KHR)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    /* glGetTexImage and sRGB textures: GL 3.3 covers both. */
    req->minApiVersionSupported = XR_MAKE_VERSION(3, 3, 0);
    req->maxApiVersionSupported = XR_MAKE_VERSION(4, 6, 0);
    inst->gl_requirements_queried = true;
    RETURN(XR_SUCCESS);
}

XrResult rt_gfx_binding_check(const rt_instance *inst, const void *next, bool *found)
{
    *found = false;
    for (const XrBaseInStructure *n = next; n; n = n->next) {
        switch ((int)n->type) {
        case XR_TYPE_GRAPHICS_BINDING_OPENGL_XLIB_KHR: {
            if (!inst->ext_opengl)
                return XR_ERROR_GRAPHICS_DEVICE_INVALID;
            if (!inst->gl_requirements_queried)
                return XR_ERROR_GRAPHICS_REQUIREMENTS_CALL_MISSING;
            const XrGraphicsBindingOpenGLXlibKHR *b = (const void *)n;
            if (!b->xDisplay || !b->glxContext || !b->glxDrawable)
                return XR_ERROR_GRAPHICS_DEVICE_INVALID;
            *found = true;
            return XR_SUCCESS;
        }
        case XR_TYPE_GRAPHICS_BINDING_OPENGL_WIN32_KHR:
        case XR_TYPE_GRAPHICS_BINDING_OPENGL_XCB_KHR:
        case XR_TYPE_GRAPHICS_BINDING_OPENGL_WAYLAND_KHR:
        case XR_TYPE_GRAPHICS_BINDING_D3D11_KHR:
        case XR_TYPE_GRAPHICS_BINDING_D3D12_KHR:
        case XR_TYPE_GRAPHICS_BINDING_OPENGL_ES_ANDROID_KHR:
        case XR_TYPE_GRAPHICS_BINDING_VULKAN_KHR:
        case XR_TYPE_GRAPHICS_BINDING_EGL_MNDX:
            return XR_ERROR_GRAPHICS_DEVICE_INVALID;
        default:
            break;
        }
    }
    return XR_SUCCESS;
}

XrResult XRAPI_CALL rt_xrEnumerateSwapchainFormats(XrSession session, uint32_t capacity, uint32_t *count,
                                                   int64_t *formats)
{
    ENTER_SESSION(session);
    uint32_t n = s->graphics ? (uint32_t)(sizeof g_formats / sizeof g_formats[0]) : 0;
    XrResult r = rt_two_call(capacity, count, formats, n);
    if (r == XR_SUCCESS && capacity)
        memcpy(formats, g_formats, n * sizeof *formats);
    RETURN(r);
}

XrResult XRAPI_CALL rt_xrCreateSwapchain(XrSession session, const XrSwapchainCreateInfo *info, XrSwapchain *out)
{
    ENTER_SESSION(session);
    if (!info || !out || info->type != XR_TYPE_SWAPCHAIN_CREATE_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!s->graphics)
        RETURN(XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED);
    if (info->createFlags & ~(XrSwapchainCreateFlags)(XR_SWAPCHAIN_CREATE_PROTECTED_CONTENT_BIT |
                                                      XR_SWAPCHAIN_CREATE_STATIC_IMAGE_BIT))
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (info->createFlags & XR_SWAPCHAIN_CREATE_PROTECTED_CONTENT_BIT)
        RETURN(XR_ERROR_FEATURE_UNSUPPORTED);
    if (info->format != GL_SRGB8_ALPHA8 && info->format != GL_RGBA8)
        RETURN(XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED);
    if (!info->width || !info->height || info->width > 4096 || info->height > 4096 || info->sampleCount != 1 ||
        info->faceCount != 1 || info->arraySize != 1 || info->mipCount != 1)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    rt_swapchain *sc = calloc(1, sizeof *sc);
    if (!sc)
        RETURN(XR_ERROR_OUT_OF_MEMORY);
    sc->sess = s;
    sc->format = info->format;
    sc->width = info->width;
    sc->height = info->height;
    sc->array_size = info->arraySize;
    sc->last_released = -1;
    GLint bound = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &bound);
    glGenTextures(RT_SWAPCHAIN_IMAGES, sc->tex);
    for (int i = 0; i < RT_SWAPCHAIN_IMAGES; i++) {
        glBindTexture(GL_TEXTURE_2D, sc->tex[i]);
        glTexImage2D(GL_TEXTURE_2D, 0, (GLint)info->format, (GLsizei)info->width, (GLsizei)info->height, 0, GL_RGBA,
                     GL_UNSIGNED_BYTE, NULL);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    }
    glBindTexture(GL_TEXTURE_2D, (GLuint)bound);
    if (!sc->tex[0] || glGetError() != GL_NO_ERROR) {
        /* No context current, or the driver refused the textures. */
        glDeleteTextures(RT_SWAPCHAIN_IMAGES, sc->tex);
        free(sc);
        RETURN(XR_ERROR_RUNTIME_FAILURE);
    }
    if (!rt_handle_new(&sc->obj, RT_SWAPCHAIN, s->obj.handle)) {
        glDeleteTextures(RT_SWAPCHAIN_IMAGES, sc->tex);
        free(sc);
        RETURN(XR_ERROR_LIMIT_REACHED);
    }
    *out = (XrSwapchain)sc->obj.handle;
    RETURN(XR_SUCCESS);
}

void rt_swapchain_free(rt_obj *obj)
{
    rt_swapchain *sc = (rt_swapchain *)obj;
    /* With no context current (an app tearing down after its window) GLVND
     * dispatches this to a no-op; the textures die with the app's context. */
    glDeleteTextures(RT_SWAPCHAIN_IMAGES, sc->tex);
    free(sc);
}

/* The swapchain, with its session checked for loss: a lost session's
 * swapchains answer only xrDestroySwapchain. */
static rt_swapchain *swapchain_get(XrSwapchain h, XrResult *res)
{
    rt_swapchain *sc = rt_handle_get((uint64_t)h, RT_SWAPCHAIN);
    if (!sc) {
        *res = XR_ERROR_HANDLE_INVALID;
        return NULL;
    }
    if (!rt_session_get((XrSession)sc->sess->obj.handle, res))
        return NULL;
    return sc;
}

#define ENTER_SWAPCHAIN(h)                                                                                         \
    XrResult res_;                                                                                                 \
    rt_lock();                                                                                                     \
    rt_swapchain *sc = swapchain_get(h, &res_);                                                                    \
    if (!sc) {                                                                                                     \
        rt_unlock();                                                                                               \
        return res_;                                                                                               \
    }

XrResult XRAPI_CALL rt_xrDestroySwapchain(XrSwapchain swapchain)
{
    rt_lock();
    if (!rt_handle_get((uint64_t)swapchain, RT_SWAPCHAIN))
        RETURN(XR_ERROR_HANDLE_INVALID);
    rt_handle_destroy((uint64_t)swapchain);
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrEnumerateSwapchainImages(XrSwapchain swapchain, uint32_t capacity, uint32_t *count,
                                                  XrSwapchainImageBaseHeader *images)
{
    ENTER_SWAPCHAIN(swapchain);
    XrResult r = rt_two_call(capacity, count, images, RT_SWAPCHAIN_IMAGES);
    if (r != XR_SUCCESS || !capacity)
        RETURN(r);
    XrSwapchainImageOpenGLKHR *gl = (XrSwapchainImageOpenGLKHR *)images;
    for (int i = 0; i < RT_SWAPCHAIN_IMAGES; i++)
        if (gl[i].type != XR_TYPE_SWAPCHAIN_IMAGE_OPENGL_KHR)
            RETURN(XR_ERROR_VALIDATION_FAILURE);
    for (int i = 0; i < RT_SWAPCHAIN_IMAGES; i++)
        gl[i].image = sc->tex[i];
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrAcquireSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageAcquireInfo *info,
                                               uint32_t *index)
{
    ENTER_SWAPCHAIN(swapchain);
    if ((info && info->type != XR_TYPE_SWAPCHAIN_IMAGE_ACQUIRE_INFO) || !index)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (sc->acquired == RT_SWAPCHAIN_IMAGES)
        RETURN(XR_ERROR_CALL_ORDER_INVALID);
    *index = (sc->first_acquired + sc->acquired) % RT_SWAPCHAIN_IMAGES;
    sc->acquired++;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrWaitSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageWaitInfo *info)
{
    ENTER_SWAPCHAIN(swapchain);
    if (!info || info->type != XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!sc->acquired || sc->waited)
        RETURN(XR_ERROR_CALL_ORDER_INVALID);
    /* The compositor reads synchronously at xrEndFrame: an image is free as
     * soon as it is acquired. */
    sc->waited = true;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrReleaseSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageReleaseInfo *info)
{
    ENTER_SWAPCHAIN(swapchain);
    if (info && info->type != XR_TYPE_SWAPCHAIN_IMAGE_RELEASE_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!sc->waited)
        RETURN(XR_ERROR_CALL_ORDER_INVALID);
    sc->last_released = (int)sc->first_acquired;
    sc->first_acquired = (sc->first_acquired + 1) % RT_SWAPCHAIN_IMAGES;
    sc->acquired--;
    sc->waited = false;
    RETURN(XR_SUCCESS);
}

/* ---- xrEndFrame: layers ---- */

static XrResult sub_image_check(rt_session *s, const XrSwapchainSubImage *sub, rt_swapchain **out)
{
    rt_swapchain *sc = rt_handle_get((uint64_t)sub->swapchain, RT_SWAPCHAIN);
    if (!sc)
        return XR_ERROR_HANDLE_INVALID;
    if (sc->sess != s)
        return XR_ERROR_VALIDATION_FAILURE;
    if (sc->last_released < 0)
        return XR_ERROR_LAYER_INVALID; /* nothing released to show */
    const XrRect2Di *r = &sub->imageRect;
    if (r->offset.x < 0 || r->offset.y < 0 || r->extent.width <= 0 || r->extent.height <= 0 ||
        (int64_t)r->offset.x + r->extent.width > sc->width || (int64_t)r->offset.y + r->extent.height > sc->height)
        return XR_ERROR_SWAPCHAIN_RECT_INVALID;
    if (sub->imageArrayIndex >= sc->array_size)
        return XR_ERROR_VALIDATION_FAILURE;
    *out = sc;
    return XR_SUCCESS;
}

static XrResult space_check(rt_session *s, XrSpace space)
{
    /* Any space of this session; rt_space's first fields are obj and sess. */
    struct {
        rt_obj obj;
        rt_session *sess;
    } *sp = rt_handle_get((uint64_t)space, RT_SPACE);
    if (!sp)
        return XR_ERROR_HANDLE_INVALID;
    return sp->sess == s ? XR_SUCCESS : XR_ERROR_VALIDATION_FAILURE;
}

XrResult rt_gfx_layer_check(rt_session *s, const XrCompositionLayerBaseHeader *layer)
{
    if (!layer)
        return XR_ERROR_LAYER_INVALID;
    rt_swapchain *sc;
    XrResult r;
    switch (layer->type) {
    case XR_TYPE_COMPOSITION_LAYER_PROJECTION: {
        const XrCompositionLayerProjection *p = (const void *)layer;
        if ((r = space_check(s, p->space)) != XR_SUCCESS)
            return r;
        if (p->viewCount != 2 || !p->views)
            return XR_ERROR_VALIDATION_FAILURE;
        for (uint32_t i = 0; i < 2; i++) {
            if (p->views[i].type != XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW || !rt_pose_valid(p->views[i].pose))
                return XR_ERROR_VALIDATION_FAILURE;
            if ((r = sub_image_check(s, &p->views[i].subImage, &sc)) != XR_SUCCESS)
                return r;
        }
        return XR_SUCCESS;
    }
    case XR_TYPE_COMPOSITION_LAYER_QUAD: {
        const XrCompositionLayerQuad *q = (const void *)layer;
        if ((r = space_check(s, q->space)) != XR_SUCCESS)
            return r;
        if (q->eyeVisibility > XR_EYE_VISIBILITY_RIGHT || !rt_pose_valid(q->pose) || !(q->size.width > 0) ||
            !(q->size.height > 0))
            return XR_ERROR_VALIDATION_FAILURE;
        return sub_image_check(s, &q->subImage, &sc);
    }
    default:
        return XR_ERROR_LAYER_INVALID;
    }
}

/* ---- the dump: TELEOP_XR_REPLAY_DUMP=DIR ---- */

static int write_png(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h, bool srgb)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (srgb)
        png_set_sRGB(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
    png_write_info(png, info);
    /* GL rows run bottom-up; PNG rows top-down. */
    for (uint32_t y = 0; y < h; y++)
        png_write_row(png, rgba + (size_t)(h - 1 - y) * w * 4);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return fclose(f);
}

/* Writes the sub-image as DIR/NAME; 0 or -1. */
static int dump_sub_image(const char *dir, const char *name, const XrSwapchainSubImage *sub)
{
    rt_swapchain *sc = rt_handle_get((uint64_t)sub->swapchain, RT_SWAPCHAIN);
    size_t full = (size_t)sc->width * sc->height * 4;
    uint8_t *pixels = malloc(full);
    uint8_t *crop = malloc((size_t)sub->imageRect.extent.width * sub->imageRect.extent.height * 4);
    int rc = -1;
    if (pixels && crop) {
        GLint bound = 0, pack = 4;
        glGetIntegerv(GL_TEXTURE_BINDING_2D, &bound);
        glGetIntegerv(GL_PACK_ALIGNMENT, &pack);
        glPixelStorei(GL_PACK_ALIGNMENT, 1);
        glBindTexture(GL_TEXTURE_2D, sc->tex[sc->last_released]);
        /* Stored bytes as they are: sRGB-encoded for GL_SRGB8_ALPHA8 (no
         * decode on a read of the same internal format), linear for RGBA8. */
        glGetTexImage(GL_TEXTURE_2D, 0, GL_RGBA, GL_UNSIGNED_BYTE, pixels);
        glBindTexture(GL_TEXTURE_2D, (GLuint)bound);
        glPixelStorei(GL_PACK_ALIGNMENT, pack);
        uint32_t w = (uint32_t)sub->imageRect.extent.width, h = (uint32_t)sub->imageRect.extent.height;
        for (uint32_t y = 0; y < h; y++)
            memcpy(crop + (size_t)y * w * 4,
                   pixels + ((size_t)(sub->imageRect.offset.y + (int32_t)y) * sc->width + (size_t)sub->imageRect.offset.x) * 4,
                   (size_t)w * 4);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        rc = write_png(path, crop, w, h, sc->format == GL_SRGB8_ALPHA8);
    }
    free(pixels);
    free(crop);
    return rc;
}

static const char *space_name(XrSpace space)
{
    struct {
        rt_obj obj;
        rt_session *sess;
        bool is_action;
        XrReferenceSpaceType ref;
    } *sp = rt_handle_get((uint64_t)space, RT_SPACE);
    if (sp->is_action)
        return "action";
    switch (sp->ref) {
    case XR_REFERENCE_SPACE_TYPE_VIEW:
        return "view";
    case XR_REFERENCE_SPACE_TYPE_LOCAL:
        return "local";
    case XR_REFERENCE_SPACE_TYPE_STAGE:
        return "stage";
    default:
        return "other";
    }
}

static void index_line(FILE *idx, int64_t frame, XrTime t, const char *type, XrSpace space, XrPosef p, float w,
                       float h, const char *eye, const char *file)
{
    fprintf(idx, "%lld %lld %s %s %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %s %s\n", (long long)frame,
            (long long)t, type, space_name(space), p.position.x, p.position.y, p.position.z, p.orientation.x,
            p.orientation.y, p.orientation.z, p.orientation.w, w, h, eye, file);
}

void rt_gfx_dump_frame(rt_session *s, const XrFrameEndInfo *info)
{
    int64_t frame = s->frames_submitted++;
    const char *dir = getenv("TELEOP_XR_REPLAY_DUMP");
    if (!dir || !*dir)
        return;
    const char *every_s = getenv("TELEOP_XR_REPLAY_DUMP_EVERY");
    long every = every_s ? strtol(every_s, NULL, 10) : 1;
    if (every < 1)
        every = 1;
    if (frame % every)
        return;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: TELEOP_XR_REPLAY_DUMP=%s: %s\n", RT_RUNTIME_NAME, dir, strerror(errno));
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/index.txt", dir);
    FILE *idx = fopen(path, "a");
    if (!idx) {
        fprintf(stderr, "%s: %s: %s\n", RT_RUNTIME_NAME, path, strerror(errno));
        return;
    }
    static const char *const eyes[] = {"both", "left", "right"};
    for (uint32_t i = 0; i < info->layerCount; i++) {
        const XrCompositionLayerBaseHeader *l = info->layers[i];
        char name[128];
        if (l->type == XR_TYPE_COMPOSITION_LAYER_QUAD) {
            const XrCompositionLayerQuad *q = (const void *)l;
            snprintf(name, sizeof name, "f%06lld_l%u_quad.png", (long long)frame, i);
            if (dump_sub_image(dir, name, &q->subImage) != 0)
                fprintf(stderr, "%s: cannot write %s/%s\n", RT_RUNTIME_NAME, dir, name);
            index_line(idx, frame, info->displayTime, "quad", q->space, q->pose, q->size.width, q->size.height,
                       eyes[q->eyeVisibility], name);
        } else {
            const XrCompositionLayerProjection *p = (const void *)l;
            for (uint32_t v = 0; v < 2; v++) {
                snprintf(name, sizeof name, "f%06lld_l%u_proj_%s.png", (long long)frame, i, v ? "right" : "left");
                if (dump_sub_image(dir, name, &p->views[v].subImage) != 0)
                    fprintf(stderr, "%s: cannot write %s/%s\n", RT_RUNTIME_NAME, dir, name);
                index_line(idx, frame, info->displayTime, "projection", p->space, p->views[v].pose,
                           (float)p->views[v].subImage.imageRect.extent.width,
                           (float)p->views[v].subImage.imageRect.extent.height, v ? "right" : "left", name);
            }
        }
    }
    fclose(idx);
}
