/* teleop — MuJoCo model validation (every real number finite) and MuJoCo's
 * warnings and errors routed into teleop's log instead of MUJOCO_LOG.TXT. */
#include <math.h>
#include <mujoco/mujoco.h>
#include <mujoco/mjxmacro.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "teleop/log.h"

/* ------------------------------------------------------------ MuJoCo log */

/* Set on threads that are loading a model (never real-time): a warning is
 * logged at once. On any other thread (the control loop steps MuJoCo, which
 * may warn about an unstable simulation) it must not format or write, so the
 * first message is kept in one slot and the rest counted; tp_mujoco_log_flush
 * logs them from a thread that may. */
static _Thread_local bool loading_thread;
static _Thread_local char load_msgs[4][256]; /* warnings of the model being loaded */
static _Thread_local int load_count;
static char pending_msg[512];
static atomic_int pending_state; /* 0 empty, 1 being written, 2 full */
static atomic_int pending_more;

static void on_warning(const char *msg)
{
    if (loading_thread) {
        if (load_count < 4)
            snprintf(load_msgs[load_count], sizeof load_msgs[0], "%s", msg);
        load_count++;
        return;
    }
    int expected = 0;
    if (atomic_compare_exchange_strong(&pending_state, &expected, 1)) {
        size_t n = 0;
        while (n + 1 < sizeof pending_msg && msg[n]) {
            pending_msg[n] = msg[n] == '\n' ? ' ' : msg[n];
            n++;
        }
        pending_msg[n] = '\0';
        atomic_store(&pending_state, 2);
    } else {
        atomic_fetch_add(&pending_more, 1);
    }
}

/* MuJoCo's errors are fatal (it cannot go on after one); its default handler
 * writes MUJOCO_LOG.TXT into the working directory and waits for Enter. */
static void on_error(const char *msg)
{
    tp_log_error("MuJoCo error: %s", msg);
    exit(1);
}

static void install(void)
{
    mju_user_warning = on_warning;
    mju_user_error = on_error;
}

void tp_mujoco_log_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}

void tp_mujoco_log_flush(void)
{
    if (atomic_load(&pending_state) != 2)
        return;
    int more = atomic_exchange(&pending_more, 0);
    if (more)
        tp_log_warn("MuJoCo: %s (and %d more warnings)", pending_msg, more);
    else
        tp_log_warn("MuJoCo: %s", pending_msg);
    atomic_store(&pending_state, 0);
}

void tp_mujoco_loading(void)
{
    loading_thread = true;
    load_count = 0;
}

void tp_mujoco_loaded(bool ok)
{
    loading_thread = false;
    /* A refused model is one line (the refusal says more than MuJoCo's
     * "XML contains a 'NaN'"); a good one's warnings are worth reading. */
    for (int i = 0; ok && i < load_count && i < 4; i++) {
        for (char *c = load_msgs[i]; *c; c++)
            if (*c == '\n')
                *c = ' ';
        tp_log_warn("MuJoCo: %s", load_msgs[i]);
    }
    if (ok && load_count > 4)
        tp_log_warn("MuJoCo: %d more warnings while loading", load_count - 4);
    load_count = 0;
}

/* ------------------------------------------------------------ validation */

/* The object an mjModel array's rows belong to, from its name's prefix, and
 * how many there are (an array with another row count, say mesh_vert, holds
 * data rather than one row per object). */
static const struct {
    const char *prefix;
    mjtObj obj;
    const char *what;
    size_t count; /* offset of the object count in mjModel */
} row_objects[] = {
    {"body_", mjOBJ_BODY, "body", offsetof(mjModel, nbody)},
    {"jnt_", mjOBJ_JOINT, "joint", offsetof(mjModel, njnt)},
    {"dof_", mjOBJ_JOINT, "joint", offsetof(mjModel, nv)},
    {"geom_", mjOBJ_GEOM, "geom", offsetof(mjModel, ngeom)},
    {"site_", mjOBJ_SITE, "site", offsetof(mjModel, nsite)},
    {"cam_", mjOBJ_CAMERA, "camera", offsetof(mjModel, ncam)},
    {"light_", mjOBJ_LIGHT, "light", offsetof(mjModel, nlight)},
    {"mesh_", mjOBJ_MESH, "mesh", offsetof(mjModel, nmesh)},
    {"skin_", mjOBJ_SKIN, "skin", offsetof(mjModel, nskin)},
    {"hfield_", mjOBJ_HFIELD, "hfield", offsetof(mjModel, nhfield)},
    {"tex_", mjOBJ_TEXTURE, "texture", offsetof(mjModel, ntex)},
    {"mat_", mjOBJ_MATERIAL, "material", offsetof(mjModel, nmat)},
    {"pair_", mjOBJ_PAIR, "pair", offsetof(mjModel, npair)},
    {"exclude_", mjOBJ_EXCLUDE, "exclude", offsetof(mjModel, nexclude)},
    {"eq_", mjOBJ_EQUALITY, "equality", offsetof(mjModel, neq)},
    {"tendon_", mjOBJ_TENDON, "tendon", offsetof(mjModel, ntendon)},
    {"actuator_", mjOBJ_ACTUATOR, "actuator", offsetof(mjModel, nu)},
    {"sensor_", mjOBJ_SENSOR, "sensor", offsetof(mjModel, nsensor)},
    {"numeric_", mjOBJ_NUMERIC, "numeric", offsetof(mjModel, nnumeric)},
    {"tuple_", mjOBJ_TUPLE, "tuple", offsetof(mjModel, ntuple)},
    {"key_", mjOBJ_KEY, "keyframe", offsetof(mjModel, nkey)},
};

/* "geom 'table' friction", or the array and row when the row is no object. */
static void describe(const mjModel *m, const char *field, long row, long rows, char *out, size_t outlen)
{
    for (size_t k = 0; k < sizeof row_objects / sizeof row_objects[0]; k++) {
        size_t n = strlen(row_objects[k].prefix);
        if (strncmp(field, row_objects[k].prefix, n) != 0)
            continue;
        int count = *(const int *)((const char *)m + row_objects[k].count);
        if (rows != count)
            break;
        long id = row_objects[k].count == offsetof(mjModel, nv) ? m->dof_jntid[row] : row;
        const char *name = mj_id2name(m, row_objects[k].obj, (int)id);
        if (name && name[0])
            snprintf(out, outlen, "%s '%s' %s", row_objects[k].what, name, field + n);
        else
            snprintf(out, outlen, "%s %ld %s", row_objects[k].what, id, field + n);
        return;
    }
    snprintf(out, outlen, "%s[%ld]", field, row);
}

static bool report(const mjModel *m, const char *path, const char *field, long row, long rows, double v, char *err,
                   size_t errlen)
{
    char what[256];
    if (rows == 0)
        snprintf(what, sizeof what, "%s", field); /* a single value: an option */
    else
        describe(m, field, row, rows, what, sizeof what);
    snprintf(err, errlen, "%s: %s is %s", path, what, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    return false;
}

bool tp_mujoco_check_model(const mjModel *m, const char *path, char *err, size_t errlen)
{
    /* The options. */
#define X(type, name)                                                                                           \
    if (!isfinite((double)m->opt.name))                                                                          \
        return report(m, path, "option " #name, 0, 0, (double)m->opt.name, err, errlen);
    MJOPTION_FLOATS
#undef X
#define X(name, n)                                                                                              \
    for (int i = 0; i < (n); i++)                                                                                \
        if (!isfinite((double)m->opt.name[i]))                                                                   \
            return report(m, path, "option " #name, 0, 0, (double)m->opt.name[i], err, errlen);
    MJOPTION_VECTORS
#undef X
    /* Every real-valued array of the model, with its size from the model's
     * own size fields (MuJoCo's X-macro list of mjModel's arrays): a new
     * MuJoCo array is checked without a change here. */
    MJMODEL_POINTERS_PREAMBLE(m)
#define X(type, name, nr, nc)                                                                                   \
    if (_Generic((type)0, mjtNum: true, float: true, default: false)) {                                          \
        long rows = (long)(m->nr), cols = (long)(nc);                                                            \
        for (long i = 0; i < rows * cols; i++) {                                                                 \
            double v = (double)m->name[i];                                                                       \
            if (!isfinite(v))                                                                                    \
                return report(m, path, #name, i / (cols > 0 ? cols : 1), rows, v, err, errlen);                 \
        }                                                                                                        \
    }
    MJMODEL_POINTERS
#undef X
    (void)nuser_body, (void)nuser_jnt, (void)nuser_geom, (void)nuser_site, (void)nuser_cam, (void)nuser_tendon;
    (void)nuser_actuator, (void)nuser_sensor, (void)nq, (void)nv, (void)na, (void)nu, (void)nmocap;
    double stat[] = {m->stat.meaninertia, m->stat.meanmass, m->stat.meansize, m->stat.extent,
                     m->stat.center[0],   m->stat.center[1], m->stat.center[2]};
    for (size_t i = 0; i < sizeof stat / sizeof stat[0]; i++)
        if (!isfinite(stat[i]))
            return report(m, path, "statistic (computed from the model)", 0, 0, stat[i], err, errlen);
    return true;
}
