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

struct console_robot {
    mjModel *m;
    mjData *d;
    mjvScene scene;
    mjvCamera camera;
    mjvOption option;
    mjrContext context;
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
    mjr_freeContext(&r->context);
    mjv_freeScene(&r->scene);
    mj_deleteData(r->d);
    mj_deleteModel(r->m);
    free(r);
}

void console_robot_draw(console_robot *r, uk_window *w, uk_rect rect, const double *qpos, int nq)
{
    if (nq != r->m->nq)
        return; /* another model than the session's: nothing sensible to pose */
    memcpy(r->d->qpos, qpos, sizeof(double) * (size_t)nq);
    mj_kinematics(r->m, r->d);
    mjv_updateScene(r->m, r->d, &r->option, NULL, &r->camera, mjCAT_ALL, &r->scene);
    int fw, fh;
    uk_framebuffer_size(w, &fw, &fh);
    float s = uk_scale(w);
    mjrRect vp = {(int)lroundf(rect.x * s), fh - (int)lroundf((rect.y + rect.h) * s), (int)lroundf(rect.w * s),
                  (int)lroundf(rect.h * s)};
    mjr_setBuffer(mjFB_WINDOW, &r->context);
    mjr_render(vp, &r->scene, &r->context);
    /* State mjr leaves behind that the kit's 2D drawing does not reset: a
     * texture unit other than 0 makes every textured quad (text, images)
     * sample one texel. */
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
