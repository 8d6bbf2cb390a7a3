/* teleop — pose math (vec3, quaternion, SE(3)). */
#include "teleop/pose.h"

#include <math.h>

tp_vec3 tp_v3(double x, double y, double z) { return (tp_vec3){x, y, z}; }
tp_vec3 tp_v3_add(tp_vec3 a, tp_vec3 b) { return (tp_vec3){a.x + b.x, a.y + b.y, a.z + b.z}; }
tp_vec3 tp_v3_sub(tp_vec3 a, tp_vec3 b) { return (tp_vec3){a.x - b.x, a.y - b.y, a.z - b.z}; }
tp_vec3 tp_v3_scale(tp_vec3 a, double s) { return (tp_vec3){a.x * s, a.y * s, a.z * s}; }
double tp_v3_dot(tp_vec3 a, tp_vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

tp_vec3 tp_v3_cross(tp_vec3 a, tp_vec3 b)
{
    return (tp_vec3){a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

double tp_v3_norm(tp_vec3 a) { return sqrt(tp_v3_dot(a, a)); }

tp_vec3 tp_v3_normalize(tp_vec3 a)
{
    double n = tp_v3_norm(a);
    return n > 0.0 ? tp_v3_scale(a, 1.0 / n) : a;
}

tp_vec3 tp_v3_lerp(tp_vec3 a, tp_vec3 b, double t)
{
    return tp_v3_add(a, tp_v3_scale(tp_v3_sub(b, a), t));
}

bool tp_v3_isfinite(tp_vec3 a) { return isfinite(a.x) && isfinite(a.y) && isfinite(a.z); }

tp_quat tp_quat_identity(void) { return (tp_quat){0, 0, 0, 1}; }

tp_quat tp_quat_from_axis_angle(tp_vec3 axis, double angle)
{
    double n = tp_v3_norm(axis);
    if (n == 0.0)
        return tp_quat_identity();
    double s = sin(angle * 0.5) / n;
    return (tp_quat){axis.x * s, axis.y * s, axis.z * s, cos(angle * 0.5)};
}

tp_quat tp_quat_from_rotvec(tp_vec3 v)
{
    double angle = tp_v3_norm(v);
    if (angle < 1e-12) /* first-order expansion keeps tiny rotations exact */
        return tp_quat_normalize((tp_quat){v.x * 0.5, v.y * 0.5, v.z * 0.5, 1.0});
    return tp_quat_from_axis_angle(v, angle);
}

tp_vec3 tp_quat_to_rotvec(tp_quat q)
{
    if (q.w < 0) /* shortest rotation: angle in [0, pi] */
        q = (tp_quat){-q.x, -q.y, -q.z, -q.w};
    double s = sqrt(q.x * q.x + q.y * q.y + q.z * q.z);
    if (s < 1e-12)
        return (tp_vec3){2 * q.x, 2 * q.y, 2 * q.z};
    double angle = 2.0 * atan2(s, q.w);
    double k = angle / s;
    return (tp_vec3){q.x * k, q.y * k, q.z * k};
}

tp_quat tp_quat_from_rpy(double roll, double pitch, double yaw)
{
    tp_quat qx = tp_quat_from_axis_angle(tp_v3(1, 0, 0), roll);
    tp_quat qy = tp_quat_from_axis_angle(tp_v3(0, 1, 0), pitch);
    tp_quat qz = tp_quat_from_axis_angle(tp_v3(0, 0, 1), yaw);
    return tp_quat_mul(qz, tp_quat_mul(qy, qx));
}

tp_quat tp_quat_mul(tp_quat a, tp_quat b)
{
    return (tp_quat){
        a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
        a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
        a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
        a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
    };
}

tp_quat tp_quat_conj(tp_quat q) { return (tp_quat){-q.x, -q.y, -q.z, q.w}; }

double tp_quat_dot(tp_quat a, tp_quat b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

tp_quat tp_quat_normalize(tp_quat q)
{
    double n = sqrt(tp_quat_dot(q, q));
    if (!(n > 0.0))
        return tp_quat_identity();
    return (tp_quat){q.x / n, q.y / n, q.z / n, q.w / n};
}

double tp_quat_angle_between(tp_quat a, tp_quat b)
{
    tp_quat d = tp_quat_mul(tp_quat_conj(a), b);
    double s = sqrt(d.x * d.x + d.y * d.y + d.z * d.z);
    return 2.0 * atan2(s, fabs(d.w));
}

tp_vec3 tp_quat_rotate(tp_quat q, tp_vec3 v)
{
    /* v' = v + 2w (u x v) + 2 u x (u x v), u = vector part */
    tp_vec3 u = {q.x, q.y, q.z};
    tp_vec3 t = tp_v3_scale(tp_v3_cross(u, v), 2.0);
    return tp_v3_add(tp_v3_add(v, tp_v3_scale(t, q.w)), tp_v3_cross(u, t));
}

tp_quat tp_quat_slerp(tp_quat a, tp_quat b, double t)
{
    double d = tp_quat_dot(a, b);
    if (d < 0) {
        b = (tp_quat){-b.x, -b.y, -b.z, -b.w};
        d = -d;
    }
    if (d > 0.9995) { /* nearly parallel: normalized lerp avoids 0/0 */
        tp_quat r = {a.x + t * (b.x - a.x), a.y + t * (b.y - a.y), a.z + t * (b.z - a.z),
                     a.w + t * (b.w - a.w)};
        return tp_quat_normalize(r);
    }
    double th = acos(d);
    double s = sin(th);
    double wa = sin((1 - t) * th) / s, wb = sin(t * th) / s;
    return (tp_quat){wa * a.x + wb * b.x, wa * a.y + wb * b.y, wa * a.z + wb * b.z, wa * a.w + wb * b.w};
}

tp_mat3 tp_quat_to_mat3(tp_quat q)
{
    double x = q.x, y = q.y, z = q.z, w = q.w;
    tp_mat3 r = {{
        {1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
        {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
        {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)},
    }};
    return r;
}

tp_quat tp_quat_from_mat3(tp_mat3 a)
{
    /* Shepperd's method: branch on the largest diagonal term for stability. */
    const double(*m)[3] = a.m;
    double tr = m[0][0] + m[1][1] + m[2][2];
    tp_quat q;
    if (tr > 0) {
        double s = sqrt(tr + 1.0) * 2;
        q = (tp_quat){(m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s, 0.25 * s};
    } else if (m[0][0] > m[1][1] && m[0][0] > m[2][2]) {
        double s = sqrt(1.0 + m[0][0] - m[1][1] - m[2][2]) * 2;
        q = (tp_quat){0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s, (m[2][1] - m[1][2]) / s};
    } else if (m[1][1] > m[2][2]) {
        double s = sqrt(1.0 + m[1][1] - m[0][0] - m[2][2]) * 2;
        q = (tp_quat){(m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s, (m[0][2] - m[2][0]) / s};
    } else {
        double s = sqrt(1.0 + m[2][2] - m[0][0] - m[1][1]) * 2;
        q = (tp_quat){(m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s, (m[1][0] - m[0][1]) / s};
    }
    if (q.w < 0)
        q = (tp_quat){-q.x, -q.y, -q.z, -q.w};
    return tp_quat_normalize(q);
}

bool tp_quat_isfinite(tp_quat q)
{
    return isfinite(q.x) && isfinite(q.y) && isfinite(q.z) && isfinite(q.w);
}

tp_mat3 tp_mat3_identity(void) { return (tp_mat3){{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}; }

tp_mat3 tp_mat3_mul(tp_mat3 a, tp_mat3 b)
{
    tp_mat3 r;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            r.m[i][j] = a.m[i][0] * b.m[0][j] + a.m[i][1] * b.m[1][j] + a.m[i][2] * b.m[2][j];
    return r;
}

tp_mat3 tp_mat3_transpose(tp_mat3 a)
{
    tp_mat3 r;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            r.m[i][j] = a.m[j][i];
    return r;
}

tp_vec3 tp_mat3_apply(tp_mat3 a, tp_vec3 v)
{
    return (tp_vec3){a.m[0][0] * v.x + a.m[0][1] * v.y + a.m[0][2] * v.z,
                     a.m[1][0] * v.x + a.m[1][1] * v.y + a.m[1][2] * v.z,
                     a.m[2][0] * v.x + a.m[2][1] * v.y + a.m[2][2] * v.z};
}

tp_mat3 tp_mat3_from_cols(tp_vec3 x, tp_vec3 y, tp_vec3 z)
{
    return (tp_mat3){{{x.x, y.x, z.x}, {x.y, y.y, z.y}, {x.z, y.z, z.z}}};
}

tp_pose tp_pose_identity(void) { return (tp_pose){{0, 0, 0}, {0, 0, 0, 1}}; }

tp_pose tp_pose_mul(tp_pose a, tp_pose b)
{
    return (tp_pose){tp_v3_add(a.p, tp_quat_rotate(a.q, b.p)), tp_quat_mul(a.q, b.q)};
}

tp_pose tp_pose_inverse(tp_pose a)
{
    tp_quat qi = tp_quat_conj(a.q);
    return (tp_pose){tp_v3_scale(tp_quat_rotate(qi, a.p), -1.0), qi};
}

tp_vec3 tp_pose_apply(tp_pose a, tp_vec3 point) { return tp_v3_add(a.p, tp_quat_rotate(a.q, point)); }

tp_pose tp_pose_interpolate(tp_pose a, tp_pose b, double t)
{
    return (tp_pose){tp_v3_lerp(a.p, b.p, t), tp_quat_slerp(a.q, b.q, t)};
}
