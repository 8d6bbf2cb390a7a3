/* teleop review — the 3D view (scene3d.h): MuJoCo model from the episode's
 * embedded description through an in-memory file system, posed from the
 * recorded state, hands added to the scene as decorative geoms. */
#include "scene3d.h"

#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bones of the XR_EXT_hand_tracking skeleton: wrist to each metacarpal,
 * then along each finger. */
static const int hand_bones[][2] = {
    {1, 2},   {2, 3},   {3, 4},   {4, 5},                                   /* thumb */
    {1, 6},   {6, 7},   {7, 8},   {8, 9},   {9, 10},                        /* index */
    {1, 11},  {11, 12}, {12, 13}, {13, 14}, {14, 15},                       /* middle */
    {1, 16},  {16, 17}, {17, 18}, {18, 19}, {19, 20},                       /* ring */
    {1, 21},  {21, 22}, {22, 23}, {23, 24}, {24, 25},                       /* little */
    {6, 11},  {11, 16}, {16, 21},                                           /* across the knuckles */
};
enum { NBONES = sizeof hand_bones / sizeof hand_bones[0] };

typedef struct object_map {
    int px;      /* column of "<body>.px" in sim_objects */
    int qposadr; /* the body's free joint */
} object_map;

struct tp_scene3d {
    tp_playback *pb;
    mjModel *m;
    mjData *d;
    mjvScene scn;
    mjvCamera cam;
    mjvOption opt;
    mjrContext con;
    bool scene_made, gl_made, show_hands;
    /* state column -> qpos address, -1 when no joint of that name */
    int *state_qpos;
    int state_dims, posed;
    object_map *objects;
    int nobjects;
    /* hands at the time set, in world coordinates */
    bool have_hands, tracked[2];
    double hand[2][26][3];
    int head_px, head_valid; /* operator columns, -1 when absent */
    bool head_tracked;
    double head[3];
    double operator_ref[3]; /* the operator's head at the start, stage coordinates */
    double anchor[3];       /* where that head is placed in the world: beside the robot */
    double robot_centre[3];
};

static bool is_xml(const char *name)
{
    size_t n = strlen(name);
    return n >= 4 && !strcasecmp(name + n - 4, ".xml");
}

/* Every robot/… attachment into a MuJoCo virtual file system, named relative
 * to the description's folder as the description refers to them. XML files
 * get a terminating NUL (MuJoCo parses them as C strings). */
static mjModel *load_model(tp_playback *pb, char *err, size_t errlen)
{
    const tp_episode *ep = tp_playback_episode(pb);
    const char *path = tp_playback_path(pb);
    const char *desc = tp_episode_meta(ep, "robot_description");
    if (!desc || !desc[0]) {
        snprintf(err, errlen, "%s: no robot description embedded (meta robot_description)", path);
        return NULL;
    }
    size_t desc_size;
    if (!tp_episode_attachment(ep, desc, &desc_size)) {
        snprintf(err, errlen, "%s: robot description '%s' is not among its attachments", path, desc);
        return NULL;
    }
    const char *slash = strrchr(desc, '/');
    size_t dirlen = slash ? (size_t)(slash - desc) + 1 : 0;
    mjVFS *vfs = malloc(sizeof *vfs); /* ~2 MB of name table */
    if (!vfs) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    mj_defaultVFS(vfs);
    for (int i = 0; i < tp_episode_attachment_count(ep); i++) {
        const tp_episode_attachment_info *a = tp_episode_attachment_at(ep, i);
        if (strncmp(a->name, "robot/", 6) || strncmp(a->name, desc, dirlen))
            continue;
        const char *rel = a->name + dirlen;
        bool nul = is_xml(rel);
        if (a->size > (size_t)INT32_MAX - 1 || strlen(rel) >= mjMAXVFSNAME ||
            mj_makeEmptyFileVFS(vfs, rel, (int)a->size + nul) != 0) {
            snprintf(err, errlen, "%s: attachment '%s' does not fit MuJoCo's in-memory files", path, a->name);
            mj_deleteVFS(vfs);
            free(vfs);
            return NULL;
        }
        int idx = mj_findFileVFS(vfs, rel);
        memcpy(vfs->filedata[idx], a->data, a->size);
        if (nul)
            ((char *)vfs->filedata[idx])[a->size] = '\0';
    }
    char mjerr[1000] = "";
    mjModel *m = mj_loadXML(desc + dirlen, vfs, mjerr, sizeof mjerr);
    mj_deleteVFS(vfs);
    free(vfs);
    if (!m) {
        for (char *p = mjerr; *p; p++) /* one line */
            if (*p == '\n')
                *p = ' ';
        snprintf(err, errlen, "%s: robot description '%s': %s", path, desc, mjerr);
    }
    return m;
}

static int dim_index(const tp_playback_series *s, const char *name)
{
    for (int i = 0; i < s->dims; i++)
        if (s->dim_names && s->dim_names[i] && !strcmp(s->dim_names[i], name))
            return i;
    return -1;
}

static int map_state(tp_scene3d *s)
{
    const tp_playback_series *st = tp_playback_series_get(s->pb, "state");
    if (!st)
        return 0;
    s->state_dims = st->dims;
    if (!(s->state_qpos = malloc(sizeof(int) * (size_t)(st->dims > 0 ? st->dims : 1))))
        return -1;
    for (int i = 0; i < st->dims; i++) {
        s->state_qpos[i] = -1;
        int j = st->dim_names ? mj_name2id(s->m, mjOBJ_JOINT, st->dim_names[i]) : -1;
        if (j >= 0 && (s->m->jnt_type[j] == mjJNT_HINGE || s->m->jnt_type[j] == mjJNT_SLIDE)) {
            s->state_qpos[i] = s->m->jnt_qposadr[j];
            s->posed++;
        }
    }
    return 0;
}

/* Free bodies from the sim_objects stream: "<body>.px" … "<body>.qw". */
static int map_objects(tp_scene3d *s)
{
    const tp_playback_series *so = tp_playback_series_get(s->pb, TP_SIM_OBJECTS_STREAM);
    if (!so)
        return 0;
    if (!(s->objects = calloc((size_t)(s->m->njnt > 0 ? s->m->njnt : 1), sizeof *s->objects)))
        return -1;
    for (int j = 0; j < s->m->njnt; j++) {
        if (s->m->jnt_type[j] != mjJNT_FREE)
            continue;
        const char *body = mj_id2name(s->m, mjOBJ_BODY, s->m->jnt_bodyid[j]);
        char name[300];
        snprintf(name, sizeof name, "%s.px", body ? body : "");
        int px = body ? dim_index(so, name) : -1;
        if (px >= 0 && px + 6 < so->dims)
            s->objects[s->nobjects++] = (object_map){px, s->m->jnt_qposadr[j]};
    }
    return 0;
}

/* The operator stands beside the robot, on its right, facing the way it
 * faces (stage -Z is the robot's +X, stage +Y up): the operator's head at
 * the start goes level with the top of the robot, 75 cm to the side
 * of its right-most part (clear of a table in front of it). */
static void place_operator(tp_scene3d *s)
{
    s->operator_ref[0] = 0;
    s->operator_ref[1] = 1.6;
    s->operator_ref[2] = 0;
    const tp_playback_series *op = tp_playback_series_get(s->pb, "operator");
    int hx = op ? dim_index(op, "head.px") : -1, hv = op ? dim_index(op, "head.valid") : -1;
    s->head_px = s->head_valid = -1;
    if (hx >= 0 && hv >= 0 && hx + 2 < op->dims) {
        s->head_px = hx;
        s->head_valid = hv;
    }
    if (s->head_px >= 0)
        for (int64_t k = 0; k < op->n; k++) {
            const float *row = op->values + (size_t)k * (size_t)op->dims;
            if (row[hv] >= 0.5f) {
                for (int i = 0; i < 3; i++)
                    s->operator_ref[i] = row[hx + i];
                break;
            }
        }
    /* The robot's extent: every geom of a body below the world that moves
     * with a joint, or is welded to such a root (not the floor, not the
     * scenery at the world's level). */
    double lo[3] = {1e9, 1e9, 1e9}, hi[3] = {-1e9, -1e9, -1e9};
    for (int g = 0; g < s->m->ngeom; g++) {
        int b = s->m->geom_bodyid[g];
        if (b == 0)
            continue;
        int root = s->m->body_rootid[b];
        bool robot = false;
        for (int j = 0; j < s->m->njnt && !robot; j++)
            robot = s->m->body_rootid[s->m->jnt_bodyid[j]] == root && s->m->jnt_type[j] != mjJNT_FREE;
        if (!robot)
            continue;
        for (int i = 0; i < 3; i++) {
            double r = s->m->geom_rbound[g];
            lo[i] = fmin(lo[i], s->d->geom_xpos[3 * g + i] - r);
            hi[i] = fmax(hi[i], s->d->geom_xpos[3 * g + i] + r);
        }
    }
    if (lo[0] > hi[0]) { /* no jointed robot: beside the model's centre */
        for (int i = 0; i < 3; i++)
            lo[i] = hi[i] = s->m->stat.center[i];
    }
    for (int i = 0; i < 3; i++)
        s->robot_centre[i] = 0.5 * (lo[i] + hi[i]);
    s->anchor[0] = 0.5 * (lo[0] + hi[0]);
    s->anchor[1] = lo[1] - 0.75;
    s->anchor[2] = hi[2];
}

void tp_scene3d_reset_view(tp_scene3d *s)
{
    mjv_defaultFreeCamera(s->m, &s->cam);
    /* From the front and a little above, framing robot and operator. */
    s->cam.lookat[0] = s->anchor[0] + 0.2; /* hands are held in front */
    s->cam.lookat[1] = 0.5 * (s->anchor[1] + s->robot_centre[1]);
    s->cam.lookat[2] = s->anchor[2] - 0.4;
    s->cam.azimuth = 160;
    s->cam.elevation = -15;
    s->cam.distance = 2.1;
}

tp_scene3d *tp_scene3d_create(tp_playback *pb, char *err, size_t errlen)
{
    tp_scene3d *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", tp_playback_path(pb));
        return NULL;
    }
    s->pb = pb;
    s->show_hands = true;
    if (!(s->m = load_model(pb, err, errlen))) {
        tp_scene3d_destroy(s);
        return NULL;
    }
    if (!(s->d = mj_makeData(s->m)) || map_state(s) || map_objects(s)) {
        snprintf(err, errlen, "%s: out of memory for the 3D view", tp_playback_path(pb));
        tp_scene3d_destroy(s);
        return NULL;
    }
    mj_kinematics(s->m, s->d);
    place_operator(s);
    mjv_defaultOption(&s->opt);
    for (int g = 0; g < mjNGROUP; g++) /* no site markers (end-effector sites) */
        s->opt.sitegroup[g] = 0;
    mjv_defaultScene(&s->scn);
    /* Room for the model and the hands: 2 × (26 joints + bones) + head. */
    mjv_makeScene(s->m, &s->scn, s->m->ngeom + 2 * (26 + NBONES) + 64);
    s->scene_made = true;
    /* Software GL (Mesa llvmpipe) is the common case: shadows and reflections
     * would cost more than the rest of the frame. */
    s->scn.flags[mjRND_SHADOW] = 0;
    s->scn.flags[mjRND_REFLECTION] = 0;
    s->scn.flags[mjRND_SKYBOX] = 0;
    tp_scene3d_reset_view(s);
    tp_scene3d_set_time(s, tp_playback_start_ns(pb));
    return s;
}

void tp_scene3d_destroy(tp_scene3d *s)
{
    if (!s)
        return;
    tp_scene3d_gl_free(s);
    if (s->scene_made)
        mjv_freeScene(&s->scn);
    if (s->d)
        mj_deleteData(s->d);
    if (s->m)
        mj_deleteModel(s->m);
    free(s->state_qpos);
    free(s->objects);
    free(s);
}

int tp_scene3d_gl_init(tp_scene3d *s, char *err, size_t errlen)
{
    if (s->gl_made)
        return 0;
    mjr_defaultContext(&s->con);
    mjr_makeContext(s->m, &s->con, mjFONTSCALE_100);
    s->gl_made = true;
    mjr_setBuffer(mjFB_WINDOW, &s->con);
    if (s->con.currentBuffer != mjFB_WINDOW) {
        snprintf(err, errlen, "%s: 3D view: the current GL context has no window framebuffer",
                 tp_playback_path(s->pb));
        tp_scene3d_gl_free(s);
        return -1;
    }
    return 0;
}

void tp_scene3d_gl_free(tp_scene3d *s)
{
    if (!s->gl_made)
        return;
    mjr_freeContext(&s->con);
    s->gl_made = false;
}

/* Stage coordinates (metres, +Y up, -Z forward) to the world beside the robot. */
static void stage_to_world(const tp_scene3d *s, const float p[3], double out[3])
{
    out[0] = s->anchor[0] - (p[2] - s->operator_ref[2]);
    out[1] = s->anchor[1] - (p[0] - s->operator_ref[0]);
    out[2] = s->anchor[2] + (p[1] - s->operator_ref[1]);
}

void tp_scene3d_set_time(tp_scene3d *s, int64_t t_ns)
{
    const mjModel *m = s->m;
    memcpy(s->d->qpos, m->qpos0, sizeof(mjtNum) * (size_t)m->nq);
    const tp_playback_series *st = tp_playback_series_get(s->pb, "state");
    if (st && st->n > 0 && s->state_qpos) {
        const float *row = st->values + (size_t)tp_playback_series_index(st, t_ns) * (size_t)st->dims;
        for (int i = 0; i < s->state_dims; i++)
            if (s->state_qpos[i] >= 0)
                s->d->qpos[s->state_qpos[i]] = row[i];
    }
    const tp_playback_series *so = s->nobjects ? tp_playback_series_get(s->pb, TP_SIM_OBJECTS_STREAM) : NULL;
    if (so && so->n > 0) {
        const float *row = so->values + (size_t)tp_playback_series_index(so, t_ns) * (size_t)so->dims;
        for (int k = 0; k < s->nobjects; k++) {
            const float *p = row + s->objects[k].px;
            mjtNum *q = s->d->qpos + s->objects[k].qposadr;
            double norm = sqrt((double)p[3] * p[3] + (double)p[4] * p[4] + (double)p[5] * p[5] + (double)p[6] * p[6]);
            if (!(norm > 1e-6) || !isfinite(norm))
                continue;
            q[0] = p[0];
            q[1] = p[1];
            q[2] = p[2];
            q[3] = p[6] / norm; /* stream x y z w, MuJoCo w x y z */
            q[4] = p[3] / norm;
            q[5] = p[4] / norm;
            q[6] = p[5] / norm;
        }
    }
    mj_kinematics(m, s->d);
    mj_camlight(m, s->d);
    const tp_playback_series *op = s->head_px >= 0 ? tp_playback_series_get(s->pb, "operator") : NULL;
    s->head_tracked = false;
    if (op && op->n > 0) {
        const float *row = op->values + (size_t)tp_playback_series_index(op, t_ns) * (size_t)op->dims;
        s->head_tracked = row[s->head_valid] >= 0.5f;
        stage_to_world(s, row + s->head_px, s->head);
    }
    float hands[2][26][3];
    s->have_hands = tp_playback_hands(s->pb, t_ns, hands[0], hands[1], s->tracked);
    if (s->have_hands)
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 26; j++)
                stage_to_world(s, hands[h][j], s->hand[h][j]);
}

static void add_hand_geoms(tp_scene3d *s)
{
    static const float colour[2][4] = {{0.25f, 0.55f, 0.95f, 1.0f}, {0.95f, 0.55f, 0.2f, 1.0f}};
    static const float bone_colour[4] = {0.85f, 0.85f, 0.85f, 1.0f};
    static const float head_colour[4] = {0.7f, 0.7f, 0.75f, 0.35f};
    if (s->head_tracked && s->scn.ngeom < s->scn.maxgeom) {
        mjvGeom *g = &s->scn.geoms[s->scn.ngeom++];
        const mjtNum size[3] = {0.09, 0, 0};
        mjv_initGeom(g, mjGEOM_SPHERE, size, s->head, NULL, head_colour);
        g->category = mjCAT_DECOR;
    }
    for (int h = 0; h < 2 && s->have_hands; h++) {
        if (!s->tracked[h])
            continue;
        for (int j = 0; j < 26; j++) {
            if (s->scn.ngeom >= s->scn.maxgeom)
                return;
            mjvGeom *g = &s->scn.geoms[s->scn.ngeom++];
            const mjtNum size[3] = {j == 0 ? 0.012 : 0.008, 0, 0};
            mjv_initGeom(g, mjGEOM_SPHERE, size, s->hand[h][j], NULL, colour[h]);
            g->category = mjCAT_DECOR;
        }
        for (int b = 0; b < NBONES; b++) {
            if (s->scn.ngeom >= s->scn.maxgeom)
                return;
            const double *a = s->hand[h][hand_bones[b][0]], *z = s->hand[h][hand_bones[b][1]];
            mjvGeom *g = &s->scn.geoms[s->scn.ngeom++];
            mjv_initGeom(g, mjGEOM_CAPSULE, NULL, NULL, NULL, bone_colour);
            mjv_makeConnector(g, mjGEOM_CAPSULE, 0.005, a[0], a[1], a[2], z[0], z[1], z[2]);
            g->category = mjCAT_DECOR;
        }
    }
}

void tp_scene3d_render(tp_scene3d *s, int x, int y, int width, int height)
{
    if (!s->gl_made || width <= 0 || height <= 0)
        return;
    mjv_updateScene(s->m, s->d, &s->opt, NULL, &s->cam, mjCAT_ALL, &s->scn);
    if (s->show_hands)
        add_hand_geoms(s);
    mjr_setBuffer(mjFB_WINDOW, &s->con);
    mjrRect viewport = {x, y, width, height};
    mjr_render(viewport, &s->scn, &s->con);
}

void tp_scene3d_rotate(tp_scene3d *s, double dx, double dy)
{
    mjv_moveCamera(s->m, mjMOUSE_ROTATE_V, dx, dy, &s->scn, &s->cam);
}

void tp_scene3d_pan(tp_scene3d *s, double dx, double dy)
{
    mjv_moveCamera(s->m, mjMOUSE_MOVE_V, dx, dy, &s->scn, &s->cam);
}

void tp_scene3d_zoom(tp_scene3d *s, double steps)
{
    mjv_moveCamera(s->m, mjMOUSE_ZOOM, 0, -0.05 * steps, &s->scn, &s->cam);
}

void tp_scene3d_show_hands(tp_scene3d *s, bool show) { s->show_hands = show; }
int tp_scene3d_posed_joints(const tp_scene3d *s) { return s->posed; }
bool tp_scene3d_hands_drawn(const tp_scene3d *s) { return s->show_hands && s->have_hands && (s->tracked[0] || s->tracked[1]); }
