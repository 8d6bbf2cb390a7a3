/* teleop — URDF kinematics loader (expat). */
#include "teleop/urdf.h"

#include "teleop/file.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum joint_type { J_REVOLUTE, J_CONTINUOUS, J_PRISMATIC, J_FIXED, J_FLOATING, J_PLANAR } joint_type;

static const char *const joint_type_names[] = {"revolute", "continuous", "prismatic", "fixed", "floating", "planar"};

typedef struct urdf_joint {
    char name[TP_NAME_MAX];
    char parent[TP_NAME_MAX], child[TP_NAME_MAX];
    joint_type type;
    tp_pose origin;
    tp_vec3 axis;
    double lower, upper, velocity;
    bool has_limit;
    int line;
} urdf_joint;

struct tp_urdf {
    char robot[TP_NAME_MAX];
    char (*links)[TP_NAME_MAX];
    int nlinks, cap_links;
    urdf_joint *joints;
    int njoints, cap_joints;
};

typedef struct parse_state {
    tp_urdf *u;
    XML_Parser parser;
    const char *name;
    char *err;
    size_t errlen;
    bool failed;
    int depth;
    bool saw_robot;
    urdf_joint *cur; /* joint being read */
    int joint_depth;
} parse_state;

static void set_err(parse_state *ps, const char *fmt, const char *a, const char *b)
{
    if (ps->failed)
        return;
    ps->failed = true;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    snprintf(ps->err, ps->errlen, "%s:%lu: %s", ps->name, (unsigned long)XML_GetCurrentLineNumber(ps->parser),
             msg);
    XML_StopParser(ps->parser, XML_FALSE);
}

static const char *attr(const char **atts, const char *key)
{
    for (int i = 0; atts[i]; i += 2)
        if (!strcmp(atts[i], key))
            return atts[i + 1];
    return NULL;
}

/* Parses "a b c" into three doubles; false on anything else. */
static bool parse3(const char *s, double v[3])
{
    char *end;
    for (int i = 0; i < 3; i++) {
        errno = 0;
        v[i] = strtod(s, &end);
        if (end == s || errno == ERANGE || !isfinite(v[i]))
            return false;
        s = end;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return *s == '\0';
}

static bool parse1(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(*v))
        return false;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    return *end == '\0';
}

static bool copy_name(char dst[TP_NAME_MAX], const char *src)
{
    if (!src || !src[0] || strlen(src) >= TP_NAME_MAX)
        return false;
    strcpy(dst, src);
    return true;
}

static void on_start(void *data, const char *el, const char **atts)
{
    parse_state *ps = data;
    tp_urdf *u = ps->u;
    ps->depth++;
    if (ps->failed)
        return;
    if (ps->depth == 1) {
        if (strcmp(el, "robot") != 0) {
            set_err(ps, "root element is <%s>, expected <robot>", el, NULL);
            return;
        }
        ps->saw_robot = true;
        const char *n = attr(atts, "name");
        snprintf(u->robot, sizeof u->robot, "%s", n ? n : "");
        return;
    }
    if (ps->depth == 2 && !strcmp(el, "link")) {
        const char *n = attr(atts, "name");
        if (u->nlinks == u->cap_links) {
            int nc = u->cap_links ? u->cap_links * 2 : 32;
            void *p = realloc(u->links, (size_t)nc * sizeof *u->links);
            if (!p) {
                set_err(ps, "out of memory", NULL, NULL);
                return;
            }
            u->links = p;
            u->cap_links = nc;
        }
        if (!copy_name(u->links[u->nlinks], n)) {
            set_err(ps, "<link> has a missing or too long name", NULL, NULL);
            return;
        }
        for (int i = 0; i < u->nlinks; i++)
            if (!strcmp(u->links[i], n)) {
                set_err(ps, "link '%s' is defined twice", n, NULL);
                return;
            }
        u->nlinks++;
        return;
    }
    if (ps->depth == 2 && !strcmp(el, "joint")) {
        if (u->njoints == u->cap_joints) {
            int nc = u->cap_joints ? u->cap_joints * 2 : 32;
            void *p = realloc(u->joints, (size_t)nc * sizeof *u->joints);
            if (!p) {
                set_err(ps, "out of memory", NULL, NULL);
                return;
            }
            u->joints = p;
            u->cap_joints = nc;
        }
        urdf_joint *j = &u->joints[u->njoints];
        memset(j, 0, sizeof *j);
        j->origin = tp_pose_identity();
        j->axis = tp_v3(1, 0, 0); /* URDF default axis */
        j->line = (int)XML_GetCurrentLineNumber(ps->parser);
        const char *n = attr(atts, "name"), *t = attr(atts, "type");
        if (!copy_name(j->name, n)) {
            set_err(ps, "<joint> has a missing or too long name", NULL, NULL);
            return;
        }
        if (!t) {
            set_err(ps, "joint '%s': missing type", n, NULL);
            return;
        }
        bool known = false;
        for (int k = 0; k < 6; k++)
            if (!strcmp(t, joint_type_names[k])) {
                j->type = (joint_type)k;
                known = true;
            }
        if (!known) {
            set_err(ps, "joint '%s': unknown type '%s'", n, t);
            return;
        }
        ps->cur = j;
        ps->joint_depth = ps->depth;
        u->njoints++;
        return;
    }
    if (ps->cur && ps->depth == ps->joint_depth + 1) {
        urdf_joint *j = ps->cur;
        if (!strcmp(el, "parent") || !strcmp(el, "child")) {
            const char *l = attr(atts, "link");
            if (!copy_name(!strcmp(el, "parent") ? j->parent : j->child, l))
                set_err(ps, "joint '%s': <%s> needs a link attribute", j->name, el);
        } else if (!strcmp(el, "origin")) {
            const char *xyz = attr(atts, "xyz"), *rpy = attr(atts, "rpy");
            double p[3] = {0, 0, 0}, r[3] = {0, 0, 0};
            if (xyz && !parse3(xyz, p)) {
                set_err(ps, "joint '%s': origin xyz '%s' is not three numbers", j->name, xyz);
                return;
            }
            if (rpy && !parse3(rpy, r)) {
                set_err(ps, "joint '%s': origin rpy '%s' is not three numbers", j->name, rpy);
                return;
            }
            j->origin = (tp_pose){tp_v3(p[0], p[1], p[2]), tp_quat_from_rpy(r[0], r[1], r[2])};
        } else if (!strcmp(el, "axis")) {
            const char *xyz = attr(atts, "xyz");
            double a[3];
            if (!xyz || !parse3(xyz, a) || tp_v3_norm(tp_v3(a[0], a[1], a[2])) < 1e-9) {
                set_err(ps, "joint '%s': axis xyz '%s' is not a non-zero 3-vector", j->name, xyz ? xyz : "");
                return;
            }
            j->axis = tp_v3_normalize(tp_v3(a[0], a[1], a[2]));
        } else if (!strcmp(el, "limit")) {
            const char *lo = attr(atts, "lower"), *hi = attr(atts, "upper"), *v = attr(atts, "velocity");
            j->lower = 0;
            j->upper = 0;
            if ((lo && !parse1(lo, &j->lower)) || (hi && !parse1(hi, &j->upper))) {
                set_err(ps, "joint '%s': limit lower/upper are not numbers", j->name, NULL);
                return;
            }
            if (!v || !parse1(v, &j->velocity) || j->velocity < 0) {
                set_err(ps, "joint '%s': limit velocity '%s' is missing or not a non-negative number", j->name,
                        v ? v : "");
                return;
            }
            if (j->lower > j->upper) {
                set_err(ps, "joint '%s': limit lower > upper", j->name, NULL);
                return;
            }
            j->has_limit = true;
        }
    }
}

static void on_end(void *data, const char *el)
{
    parse_state *ps = data;
    (void)el;
    if (ps->cur && ps->depth == ps->joint_depth) {
        urdf_joint *j = ps->cur;
        if (!ps->failed && (!j->parent[0] || !j->child[0]))
            set_err(ps, "joint '%s': needs <parent> and <child>", j->name, NULL);
        if (!ps->failed && j->type == J_REVOLUTE && !j->has_limit)
            set_err(ps, "joint '%s': revolute joint without <limit>", j->name, NULL);
        ps->cur = NULL;
    }
    ps->depth--;
}

void tp_urdf_free(tp_urdf *u)
{
    if (!u)
        return;
    free(u->links);
    free(u->joints);
    free(u);
}

static int link_index(const tp_urdf *u, const char *name)
{
    for (int i = 0; i < u->nlinks; i++)
        if (!strcmp(u->links[i], name))
            return i;
    return -1;
}

tp_urdf *tp_urdf_parse(const char *xml, size_t len, const char *name, char *err, size_t errlen)
{
    tp_urdf *u = calloc(1, sizeof *u);
    XML_Parser p = XML_ParserCreate(NULL);
    if (!u || !p) {
        snprintf(err, errlen, "%s: out of memory", name);
        free(u);
        if (p)
            XML_ParserFree(p);
        return NULL;
    }
    parse_state ps = {.u = u, .parser = p, .name = name, .err = err, .errlen = errlen};
    XML_SetUserData(p, &ps);
    XML_SetElementHandler(p, on_start, on_end);
    if (XML_Parse(p, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR && !ps.failed) {
        snprintf(err, errlen, "%s:%lu: malformed XML: %s", name, (unsigned long)XML_GetCurrentLineNumber(p),
                 XML_ErrorString(XML_GetErrorCode(p)));
        ps.failed = true;
    }
    XML_ParserFree(p);
    if (!ps.failed && !ps.saw_robot) {
        snprintf(err, errlen, "%s: no <robot> element", name);
        ps.failed = true;
    }
    /* Joints must connect declared links, and each link has one parent. */
    for (int i = 0; !ps.failed && i < u->njoints; i++) {
        const urdf_joint *j = &u->joints[i];
        const char *missing = link_index(u, j->parent) < 0 ? j->parent : link_index(u, j->child) < 0 ? j->child : NULL;
        if (missing) {
            snprintf(err, errlen, "%s:%d: joint '%s' refers to link '%s', which is not defined", name, j->line,
                     j->name, missing);
            ps.failed = true;
        }
        for (int k = 0; !ps.failed && k < i; k++)
            if (!strcmp(u->joints[k].child, j->child)) {
                snprintf(err, errlen, "%s:%d: link '%s' has two parent joints ('%s' and '%s')", name, j->line,
                         j->child, u->joints[k].name, j->name);
                ps.failed = true;
            }
    }
    /* Every link's parent joints lead to a root: a cycle has none (each
     * link has at most one parent, checked above). */
    int *up = ps.failed ? NULL : malloc(sizeof(int) * 3 * (size_t)(u->nlinks + 1));
    if (!ps.failed && !up) {
        snprintf(err, errlen, "%s: out of memory", name);
        ps.failed = true;
    }
    if (!ps.failed) {
        int *joint_of = up + u->nlinks + 1, *state = joint_of + u->nlinks + 1; /* 0 new, 1 on this walk, 2 done */
        for (int l = 0; l < u->nlinks; l++)
            up[l] = joint_of[l] = -1, state[l] = 0;
        for (int i = 0; i < u->njoints; i++) {
            int child = link_index(u, u->joints[i].child);
            up[child] = link_index(u, u->joints[i].parent);
            joint_of[child] = i;
        }
        for (int l = 0; !ps.failed && l < u->nlinks; l++) {
            int at = l;
            while (at >= 0 && state[at] == 0) {
                state[at] = 1;
                at = up[at];
            }
            if (at >= 0 && state[at] == 1) {
                const urdf_joint *pj = &u->joints[joint_of[at]];
                snprintf(err, errlen, "%s:%d: the joints form a cycle through link '%s' (joint '%s')", name, pj->line,
                         u->links[at], pj->name);
                ps.failed = true;
            }
            for (at = l; at >= 0 && state[at] == 1; at = up[at])
                state[at] = 2;
        }
    }
    free(up);
    if (ps.failed) {
        tp_urdf_free(u);
        return NULL;
    }
    return u;
}

tp_urdf *tp_urdf_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *buf = tp_read_file(path, &len, err, errlen);
    if (!buf)
        return NULL;
    tp_urdf *u = tp_urdf_parse(buf, len, path, err, errlen);
    free(buf);
    return u;
}

const char *tp_urdf_robot_name(const tp_urdf *u) { return u->robot; }
int tp_urdf_link_count(const tp_urdf *u) { return u->nlinks; }
int tp_urdf_joint_count(const tp_urdf *u) { return u->njoints; }

int tp_urdf_chain(const tp_urdf *u, const char *base_link, const char *tip_link, tp_chain *out, char *err,
                  size_t errlen)
{
    if (link_index(u, base_link) < 0) {
        snprintf(err, errlen, "robot '%s': base link '%s' not found", u->robot, base_link);
        return -1;
    }
    if (link_index(u, tip_link) < 0) {
        snprintf(err, errlen, "robot '%s': tip link '%s' not found", u->robot, tip_link);
        return -1;
    }
    /* Walk up from the tip to the base through parent joints. */
    const urdf_joint *path[256];
    int depth = 0;
    const char *link = tip_link;
    while (strcmp(link, base_link) != 0) {
        const urdf_joint *pj = NULL;
        for (int i = 0; i < u->njoints; i++)
            if (!strcmp(u->joints[i].child, link)) {
                pj = &u->joints[i];
                break;
            }
        if (!pj) {
            snprintf(err, errlen, "robot '%s': tip link '%s' is not below base link '%s' (no serial chain)",
                     u->robot, tip_link, base_link);
            return -1;
        }
        if (depth == (int)(sizeof path / sizeof path[0])) {
            snprintf(err, errlen, "robot '%s': chain %s -> %s is longer than %d links", u->robot, base_link, tip_link,
                     (int)(sizeof path / sizeof path[0]));
            return -1;
        }
        path[depth++] = pj;
        link = pj->parent;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->base_name, sizeof out->base_name, "%s", base_link);
    snprintf(out->tip_name, sizeof out->tip_name, "%s", tip_link);
    /* Fixed transforms accumulate until the next moving joint. */
    tp_pose pending = tp_pose_identity();
    for (int k = depth - 1; k >= 0; k--) {
        const urdf_joint *j = path[k];
        switch (j->type) {
        case J_FIXED:
            pending = tp_pose_mul(pending, j->origin);
            break;
        case J_REVOLUTE:
        case J_CONTINUOUS: {
            if (out->n == TP_CHAIN_MAX_JOINTS) {
                snprintf(err, errlen, "robot '%s': chain %s -> %s has more than %d joints", u->robot, base_link,
                         tip_link, TP_CHAIN_MAX_JOINTS);
                return -1;
            }
            int i = out->n++;
            snprintf(out->joint_name[i], TP_NAME_MAX, "%s", j->name);
            out->origin[i] = tp_pose_mul(pending, j->origin);
            out->axis[i] = j->axis;
            if (j->type == J_CONTINUOUS) {
                /* Unlimited joints get +-2 pi so IK stays within one turn each side. */
                out->lower[i] = -2 * M_PI;
                out->upper[i] = 2 * M_PI;
            } else {
                out->lower[i] = j->lower;
                out->upper[i] = j->upper;
            }
            out->max_velocity[i] = j->has_limit && j->velocity > 0 ? j->velocity : INFINITY;
            pending = tp_pose_identity();
            break;
        }
        default:
            snprintf(err, errlen, "robot '%s': joint '%s' on the chain %s -> %s has unsupported type '%s'",
                     u->robot, j->name, base_link, tip_link, joint_type_names[j->type]);
            return -1;
        }
    }
    if (out->n == 0) {
        snprintf(err, errlen, "robot '%s': chain %s -> %s has no moving joints", u->robot, base_link, tip_link);
        return -1;
    }
    out->tip = pending;
    return 0;
}
