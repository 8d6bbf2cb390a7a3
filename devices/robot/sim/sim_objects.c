/* teleop — the simulated scene's free bodies (the objects on the table):
 * names and world poses, for the episode's sim_objects stream. */
#include <string.h>

#include "sim_internal.h"

/* The i-th joint of type free, or -1. Free joints sit only on top-level
 * bodies (MuJoCo's rule), so their qpos is the body's world pose. */
static int free_joint(const mjModel *m, int i)
{
    for (int j = 0, seen = 0; j < m->njnt; j++)
        if (m->jnt_type[j] == mjJNT_FREE && seen++ == i)
            return j;
    return -1;
}

int tp_sim_free_body_count(const tp_sim *s)
{
    int n = 0;
    for (int j = 0; j < s->m->njnt; j++)
        n += s->m->jnt_type[j] == mjJNT_FREE;
    return n;
}

const char *tp_sim_free_body_name(const tp_sim *s, int i)
{
    int j = free_joint(s->m, i);
    if (j < 0)
        return NULL;
    const char *name = mj_id2name(s->m, mjOBJ_BODY, s->m->jnt_bodyid[j]);
    return name ? name : "";
}

void tp_sim_free_body_poses(const tp_sim *s, double *out)
{
    const mjModel *m = s->m;
    for (int j = 0; j < m->njnt; j++) {
        if (m->jnt_type[j] != mjJNT_FREE)
            continue;
        const mjtNum *q = s->d->qpos + m->jnt_qposadr[j]; /* x y z, then w x y z */
        out[0] = q[0];
        out[1] = q[1];
        out[2] = q[2];
        out[3] = q[4];
        out[4] = q[5];
        out[5] = q[6];
        out[6] = q[3];
        out += TP_SIM_POSE_DIMS;
    }
}
