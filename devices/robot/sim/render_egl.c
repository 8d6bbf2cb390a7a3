/* teleop — headless head-camera rendering: MuJoCo's renderer on an EGL
 * surfaceless context (Mesa), so no X server or window is needed. */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <mujoco/mujoco.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

struct tp_sim_renderer {
    const tp_sim *sim;
    EGLDisplay dpy;
    EGLContext ctx;
    mjData *d;
    mjvScene scn;
    mjvCamera cam;
    mjvOption opt;
    mjrContext con;
    int width, height;
    uint8_t *scratch; /* bottom-up pixels from GL before the flip */
    int scene_made, context_made;
};

/* One GL user at a time. Renderers live on their cameras' capture threads,
 * each with its own context on the process's one surfaceless EGL display.
 * Mesa's software rasterizer (llvmpipe, Debian 12) crashed inside the driver
 * when two such contexts rendered at once (two sim cameras, about one
 * session in ten under meson's MALLOC_PERTURB_), and setup (EGL
 * initialization, mjr_makeContext loading GL entry points into
 * process-wide tables) is not safe to run concurrently either. llvmpipe
 * already spreads one render over every core, so taking turns costs little
 * throughput. The lock is held only by camera capture threads, never by the
 * control loop. */
static pthread_mutex_t gl_lock = PTHREAD_MUTEX_INITIALIZER;

static tp_sim_renderer *renderer_create(const tp_sim *sim, const char *camera, int width, int height, char *err,
                                        size_t errlen);
static void renderer_destroy(tp_sim_renderer *r);

tp_sim_renderer *tp_sim_renderer_create(const tp_sim *sim, const char *camera, int width, int height, char *err,
                                        size_t errlen)
{
    pthread_mutex_lock(&gl_lock);
    tp_sim_renderer *r = renderer_create(sim, camera, width, height, err, errlen);
    pthread_mutex_unlock(&gl_lock);
    return r;
}

void tp_sim_renderer_destroy(tp_sim_renderer *r)
{
    pthread_mutex_lock(&gl_lock);
    renderer_destroy(r);
    pthread_mutex_unlock(&gl_lock);
}

static EGLDisplay open_display(void)
{
    PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display =
        (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
    if (get_platform_display) {
        EGLDisplay d = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
        if (d != EGL_NO_DISPLAY)
            return d;
    }
    return eglGetDisplay(EGL_DEFAULT_DISPLAY);
}

static tp_sim_renderer *renderer_create(const tp_sim *sim, const char *camera, int width, int height, char *err,
                                        size_t errlen)
{
    const mjModel *m = sim->m;
    int cam_id = mj_name2id(m, mjOBJ_CAMERA, camera);
    if (cam_id < 0) {
        snprintf(err, errlen, "%s: camera '%s' not found", sim->path, camera);
        return NULL;
    }
    if (width > m->vis.global.offwidth || height > m->vis.global.offheight) {
        snprintf(err, errlen, "%s: camera '%s': %dx%d exceeds the model's offscreen buffer %dx%d", sim->path, camera,
                 width, height, m->vis.global.offwidth, m->vis.global.offheight);
        return NULL;
    }
    tp_sim_renderer *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "camera '%s': out of memory", camera);
        return NULL;
    }
    r->sim = sim;
    r->width = width;
    r->height = height;
    r->dpy = open_display();
    EGLint major, minor;
    if (r->dpy == EGL_NO_DISPLAY || !eglInitialize(r->dpy, &major, &minor)) {
        snprintf(err, errlen, "camera '%s': cannot initialize EGL (headless rendering needs Mesa's EGL: "
                              "packages libegl1, libgl1-mesa-dri)", camera);
        free(r);
        return NULL;
    }
    static const EGLint cfg_attr[] = {EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
                                      EGL_DEPTH_SIZE, 24, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                                      EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_NONE};
    EGLConfig cfg;
    EGLint ncfg = 0;
    if (!eglBindAPI(EGL_OPENGL_API) || !eglChooseConfig(r->dpy, cfg_attr, &cfg, 1, &ncfg) || ncfg < 1 ||
        (r->ctx = eglCreateContext(r->dpy, cfg, EGL_NO_CONTEXT, NULL)) == EGL_NO_CONTEXT ||
        !eglMakeCurrent(r->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, r->ctx)) {
        snprintf(err, errlen, "camera '%s': cannot create a surfaceless OpenGL context (EGL error 0x%x)", camera,
                 (unsigned)eglGetError());
        renderer_destroy(r);
        return NULL;
    }
    r->d = mj_makeData(m);
    r->scratch = malloc((size_t)width * (size_t)height * 3);
    if (!r->d || !r->scratch) {
        snprintf(err, errlen, "camera '%s': out of memory", camera);
        renderer_destroy(r);
        return NULL;
    }
    mjv_defaultCamera(&r->cam);
    r->cam.type = mjCAMERA_FIXED;
    r->cam.fixedcamid = cam_id;
    mjv_defaultOption(&r->opt);
    /* A camera sees bodies only: no site markers (the end-effector sites). */
    for (int g = 0; g < mjNGROUP; g++)
        r->opt.sitegroup[g] = 0;
    mjv_defaultScene(&r->scn);
    mjv_makeScene(m, &r->scn, 2000);
    r->scene_made = 1;
    /* Software GL (llvmpipe) is the common headless case: shadow maps and
     * reflections would more than double the cost of a frame. */
    r->scn.flags[mjRND_SHADOW] = 0;
    r->scn.flags[mjRND_REFLECTION] = 0;
    r->scn.flags[mjRND_SKYBOX] = 0;
    mjr_defaultContext(&r->con);
    mjr_makeContext(m, &r->con, mjFONTSCALE_100);
    r->context_made = 1;
    mjr_setBuffer(mjFB_OFFSCREEN, &r->con);
    if (r->con.currentBuffer != mjFB_OFFSCREEN) {
        snprintf(err, errlen, "camera '%s': offscreen framebuffer unavailable", camera);
        renderer_destroy(r);
        return NULL;
    }
    return r;
}

int tp_sim_renderer_render(tp_sim_renderer *r, const double *qpos, uint8_t *rgb)
{
    const mjModel *m = r->sim->m;
    memcpy(r->d->qpos, qpos, sizeof(double) * (size_t)m->nq);
    mj_kinematics(m, r->d);
    mj_camlight(m, r->d);
    mjv_updateScene(m, r->d, &r->opt, NULL, &r->cam, mjCAT_ALL, &r->scn);
    mjrRect viewport = {0, 0, r->width, r->height};
    pthread_mutex_lock(&gl_lock);
    /* Another renderer on this thread may have made its own context current. */
    if (eglGetCurrentContext() != r->ctx && !eglMakeCurrent(r->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, r->ctx)) {
        pthread_mutex_unlock(&gl_lock);
        return -1;
    }
    mjr_render(viewport, &r->scn, &r->con);
    mjr_readPixels(r->scratch, NULL, viewport, &r->con);
    pthread_mutex_unlock(&gl_lock);
    /* GL rows run bottom-up; frames are stored top row first. */
    size_t row = (size_t)r->width * 3;
    for (int y = 0; y < r->height; y++)
        memcpy(rgb + (size_t)y * row, r->scratch + (size_t)(r->height - 1 - y) * row, row);
    return 0;
}

static void renderer_destroy(tp_sim_renderer *r)
{
    if (!r)
        return;
    if (r->context_made)
        mjr_freeContext(&r->con);
    if (r->scene_made)
        mjv_freeScene(&r->scn);
    if (r->d)
        mj_deleteData(r->d);
    free(r->scratch);
    if (r->dpy != EGL_NO_DISPLAY && r->dpy) {
        eglMakeCurrent(r->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        if (r->ctx != EGL_NO_CONTEXT && r->ctx)
            eglDestroyContext(r->dpy, r->ctx);
        /* No eglTerminate: the display is one per process, shared by every
         * renderer (eglGetPlatformDisplay returns the same handle), so
         * terminating it here would pull the GL driver from under renderers
         * on other threads. */
        eglReleaseThread();
    }
    free(r);
}
