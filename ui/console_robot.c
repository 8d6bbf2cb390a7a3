/* teleop — the console's robot view: the station's MJCF drawn by MuJoCo's
 * renderer (mjv/mjr) into the console window, posed from the control loop's
 * qpos. */
#include <GL/gl.h>
#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console_internal.h"

/* The view is rendered offscreen a few times a second and shown as an
 * image in between: a robot moving at a person's pace looks the same, and
 * the console's share of a software GL's CPU stays small. */
#define RENDER_HZ 8.0

struct console_robot {
    mjModel *m;
    mjData *d;
    mjvScene scene;
    mjvCamera camera;
    mjvOption option;
    mjrContext context;
    uk_image *image;
    uint8_t *pixels, *rows; /* offscreen read-back (bottom row first), then top row first */
    int width, height;      /* of the last render */
    double rendered_s;
};

console_robot *console_robot_open(const char *model_path, char *err, size_t errlen)
{
    if (!model_path || !model_path[0]) {
        snprintf(err, errlen, "no robot model");
        return NULL;
    }
    console_robot *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char lerr[512] = "";
    r->m = mj_loadXML(model_path, NULL, lerr, sizeof lerr);
    if (!r->m) {
        snprintf(err, errlen, "%s: %s", model_path, lerr);
        free(r);
        return NULL;
    }
    r->d = mj_makeData(r->m);
    if (!r->d) {
        snprintf(err, errlen, "%s: out of memory", model_path);
        mj_deleteModel(r->m);
        free(r);
        return NULL;
    }
    mj_forward(r->m, r->d);
    mjv_defaultCamera(&r->camera);
    mjv_defaultOption(&r->option);
    mjv_defaultScene(&r->scene);
    mjr_defaultContext(&r->context);
    mjv_makeScene(r->m, &r->scene, 4000);
    /* A glance view, drawn beside the session on whatever GL the station
     * has (software GL costs the CPU the session needs): no shadow,
     * reflection or skybox passes. */
    r->scene.flags[mjRND_SHADOW] = 0;
    r->scene.flags[mjRND_REFLECTION] = 0;
    r->scene.flags[mjRND_SKYBOX] = 0;
    /* No multisampling and coarser round shapes: on a software GL every
     * sample and vertex is the CPU's. */
    r->m->vis.quality.offsamples = 0;
    r->m->vis.quality.numslices = 12;
    r->m->vis.quality.numstacks = 8;
    r->m->vis.quality.numquads = 1;
    mjr_makeContext(r->m, &r->context, mjFONTSCALE_100); /* the window's context is current */
    /* Three-quarter view from the front, on the torso (the model's centre
     * when it has none): arms, hands and the table in the frame. */
    r->camera.type = mjCAMERA_FREE;
    int torso = mj_name2id(r->m, mjOBJ_BODY, "torso_link");
    for (int i = 0; i < 3; i++)
        r->camera.lookat[i] = torso >= 0 ? r->d->xpos[3 * torso + i] : r->m->stat.center[i];
    if (torso >= 0)
        r->camera.lookat[2] -= 0.15;
    r->camera.distance = torso >= 0 ? 1.7 : 1.5 * r->m->stat.extent;
    r->camera.azimuth = 160;
    r->camera.elevation = -22;
    return r;
}

void console_robot_close(console_robot *r)
{
    if (!r)
        return;
    uk_image_free(r->image);
    free(r->pixels);
    free(r->rows);
    mjr_freeContext(&r->context);
    mjv_freeScene(&r->scene);
    mj_deleteData(r->d);
    mj_deleteModel(r->m);
    free(r);
}

/* GL state mjr leaves behind that the kit's 2D drawing does not reset: a
 * texture unit other than 0 makes every textured quad (text, images) sample
 * one texel. */
static void reset_gl(uk_window *w)
{
    glActiveTexture(GL_TEXTURE0);
    glDisable(GL_TEXTURE_GEN_S);
    glDisable(GL_TEXTURE_GEN_T);
    glDisable(GL_TEXTURE_GEN_R);
    glDisable(GL_TEXTURE_GEN_Q);
    glDisable(GL_TEXTURE_CUBE_MAP);
    glDisable(GL_COLOR_MATERIAL);
    glDisable(GL_ALPHA_TEST);
    glDisable(GL_FOG);
    glMatrixMode(GL_TEXTURE);
    glLoadIdentity();
    uk_gl_restore_2d(w);
}

/* Renders the pose offscreen into the image; false when it cannot. */
static bool render(console_robot *r, uk_window *w, int width, int height)
{
    if (width > r->context.offWidth)
        width = r->context.offWidth;
    if (height > r->context.offHeight)
        height = r->context.offHeight;
    if (width <= 0 || height <= 0)
        return false;
    if (width != r->width || height != r->height) {
        free(r->pixels);
        free(r->rows);
        r->pixels = malloc((size_t)width * height * 3);
        r->rows = malloc((size_t)width * height * 3);
        r->width = width;
        r->height = height;
        if (!r->pixels || !r->rows) {
            r->width = r->height = 0;
            return false;
        }
    }
    mjv_updateScene(r->m, r->d, &r->option, NULL, &r->camera, mjCAT_ALL, &r->scene);
    mjrRect vp = {0, 0, width, height};
    mjr_setBuffer(mjFB_OFFSCREEN, &r->context);
    mjr_render(vp, &r->scene, &r->context);
    mjr_readPixels(r->pixels, NULL, vp, &r->context);
    mjr_setBuffer(mjFB_WINDOW, &r->context);
    reset_gl(w);
    size_t row = (size_t)width * 3;
    for (int y = 0; y < height; y++)
        memcpy(r->rows + (size_t)y * row, r->pixels + (size_t)(height - 1 - y) * row, row);
    if (!r->image)
        r->image = uk_image_new(width, height);
    if (!r->image)
        return false;
    uk_image_update(r->image, r->rows, width, height, width * 3);
    return true;
}

void console_robot_draw(console_robot *r, uk_window *w, uk_rect rect, const double *qpos, int nq)
{
    if (!qpos) { /* before the first pose: the model's rest pose */
        qpos = r->m->qpos0;
        nq = r->m->nq;
    }
    if (nq != r->m->nq)
        return; /* another model than the session's: nothing sensible to pose */
    double now = uk_time();
    float s = uk_scale(w);
    int width = (int)lroundf(rect.w * s), height = (int)lroundf(rect.h * s);
    if (!r->image || now - r->rendered_s >= 1.0 / RENDER_HZ || width != r->width || height != r->height) {
        memcpy(r->d->qpos, qpos, sizeof(double) * (size_t)nq);
        mj_kinematics(r->m, r->d);
        if (render(r, w, width, height))
            r->rendered_s = now;
    }
    if (r->image)
        uk_image_draw(w, r->image, rect);
}
