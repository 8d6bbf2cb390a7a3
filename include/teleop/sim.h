/* teleop — simulated humanoid upper body (MuJoCo) and its head camera.
 *
 * tp_sim owns the MuJoCo model and the physics data; it is stepped by exactly
 * one thread (the control thread): set_targets + step + read_state allocate
 * nothing. Actuated joints are exposed in the station's action order: left arm
 * 7, right arm 7, left hand 7, right hand 7 (names from the model).
 *
 * tp_sim_renderer renders the model's head camera offscreen through EGL
 * (no X server) from a qpos snapshot, with its own mjData and GL context; it
 * is created, used and destroyed on one rendering thread. It keeps a pointer
 * to the tp_sim's model, so the sim must outlive it.
 */
#ifndef TELEOP_SIM_H
#define TELEOP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/chain.h"

#define TP_SIM_ARM_DOF 7
#define TP_SIM_HAND_DOF 7
#define TP_SIM_ACTION_DIMS 28

typedef struct tp_sim tp_sim;

/* Loads an MJCF file. NULL with a one-line message on failure. */
tp_sim *tp_sim_create(const char *mjcf_path, char *err, size_t errlen);
void tp_sim_destroy(tp_sim *sim);

double tp_sim_timestep(const tp_sim *sim); /* seconds per physics step */
int tp_sim_joint_count(const tp_sim *sim); /* TP_SIM_ACTION_DIMS */
const char *tp_sim_joint_name(const tp_sim *sim, int i);
void tp_sim_joint_limits(const tp_sim *sim, int i, double *lower, double *upper);
double tp_sim_joint_max_velocity(const tp_sim *sim, int i);
/* A named MJCF camera as the model declares it: vertical field of view
 * (degrees), the body it is fixed to (name owned by the sim) and its pose in
 * that body's frame (cam_pos, cam_quat: w x y z; MuJoCo cameras look along
 * -Z with +Y up). 0, or -1 when the model has no such camera. */
int tp_sim_camera_info(const tp_sim *sim, const char *camera, double *fovy_deg, const char **body, double pos[3],
                       double quat_wxyz[4]);

/* The arm chain of side (0 left, 1 right) from the torso body to the
 * end-effector site ("left_ee"/"right_ee"), in torso coordinates. */
int tp_sim_arm_chain(const tp_sim *sim, int side, tp_chain *out, char *err, size_t errlen);

/* Any serial chain of the model: base body to tip (site, else body). */
int tp_sim_chain(const tp_sim *sim, const char *base, const char *tip, tp_chain *out, char *err, size_t errlen);

/* Position targets for the actuators, action order (clamped to limits). */
void tp_sim_set_targets(tp_sim *sim, const double *q_target);
/* Places the robot at q (action order, clamped to limits) at rest, with the
 * targets set to q. Not for the control loop's steady state. */
void tp_sim_reset_joints(tp_sim *sim, const double *q);
/* Mirrors a real robot: the joints' positions become q (action order; a
 * non-finite value keeps the joint where it is) and nothing else changes,
 * no physics, no derived quantities (qpos snapshots and the renderers'
 * own forward kinematics are what read it). Real-time safe. */
void tp_sim_mirror_joints(tp_sim *sim, const double *q);
void tp_sim_step(tp_sim *sim);
double tp_sim_time(const tp_sim *sim); /* simulated seconds */
/* The joint torques (action order) that hold the robot still against
 * gravity at q (action order, clamped to limits; a non-finite value is the
 * model's reference pose): MuJoCo's bias force at zero velocity. Computed in
 * scratch data of its own, so the simulated state is untouched; allocates
 * nothing. One thread at a time (not concurrently with another call). */
void tp_sim_gravity_torque(tp_sim *sim, const double *q, double *tau);
/* Joint positions and velocities, action order. */
void tp_sim_read_state(const tp_sim *sim, double *q, double *qd);
/* World pose of a named site or body (tests, objects); -1 when not found. */
int tp_sim_site_pose(const tp_sim *sim, const char *name, tp_pose *out);
/* Whether the model has a camera of that name (a sim camera's mjcf_camera). */
bool tp_sim_has_camera(const tp_sim *sim, const char *name);
/* Full generalized position vector (objects included) for render snapshots. */
int tp_sim_qpos_size(const tp_sim *sim);
void tp_sim_copy_qpos(const tp_sim *sim, double *dst);

/* The scene's free bodies (bodies with a free joint: the objects), in model
 * order: how many, each one's body name (owned by the model), and all their
 * world poses, TP_SIM_POSE_DIMS values each: px py pz (m, world frame: z up,
 * floor at 0) qx qy qz qw (unit quaternion, x y z w as the operator stream).
 * The poses are of the current state; no allocation (control-thread safe). */
#define TP_SIM_POSE_DIMS 7
int tp_sim_free_body_count(const tp_sim *sim);
const char *tp_sim_free_body_name(const tp_sim *sim, int i);
void tp_sim_free_body_poses(const tp_sim *sim, double *out);

typedef struct tp_sim_renderer tp_sim_renderer;

tp_sim_renderer *tp_sim_renderer_create(const tp_sim *sim, const char *camera, int width, int height,
                                        char *err, size_t errlen);
/* Renders qpos (tp_sim_qpos_size values) into rgb (width*height*3 bytes,
 * top row first). Returns 0, or -1 on a GL error. */
int tp_sim_renderer_render(tp_sim_renderer *r, const double *qpos, uint8_t *rgb);
void tp_sim_renderer_destroy(tp_sim_renderer *r);

#endif
