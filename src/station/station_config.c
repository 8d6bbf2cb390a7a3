/* teleop — the station config: one key table per module, applied to a
 * tp_session_config, written back as INI and documented from the same
 * tables (docs/configuration.md). */
#include "teleop/station_config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "station/cameras.h"
#include "teleop/calibration.h"
#include "teleop/controller.h"
#include "teleop/hand_vector.h"
#include "teleop/motion.h"
#include "teleop/operator_device.h"
#include "teleop/paths.h"
#include "teleop/sim.h"
#include "teleop/text.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define S(field) offsetof(tp_session_config, field)

/* ------------------------------------------------------------ defaults */

void tp_session_default_config(tp_session_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->duration_s = 20.0;
    cfg->control_hz = 500.0;
    cfg->operator_hz = 90.0;
    cfg->stale_input_s = 0.1;
    cfg->out_dir = "recordings";
    cfg->task = "";
    cfg->operator_name = "";
    cfg->record = true;
    cfg->loop_motion = true;
    cfg->operator_source = "xr";
    cfg->robot_link = "sim";
    tp_unitree_link_config_default(&cfg->unitree);
    cfg->xr_runtime = "replay";
    cfg->xr_view = "off";
    cfg->xr_layout = (tp_xr_view_layout){.distance_m = 1.0, .width_m = 1.2, .wrist_panels = true};
    tp_controls_default_config(&cfg->controls);
    camera_default_config(&cfg->cameras[0], "head_camera");
    cfg->camera_count = 1;
    cfg->realtime_priority = true;
    cfg->usb_monitor = true;
    cfg->min_free_mb = 100;
    cfg->max_recorder_behind_s = 1.0;
    tp_workflow_default_config(&cfg->workflow);
    cfg->command_fd = -1;
    for (int g = 0; g < 2; g++) {
        cfg->gloves[g].driver = "opengloves";
        cfg->gloves[g].port = "";
        cfg->gloves[g].baud = 115200;
        cfg->gloves[g].max_value = 0;
        cfg->gloves[g].timeout_ms = 100;
        tp_glove_default_calibration(&cfg->gloves[g].calibration, 1023);
    }
    tp_retarget_default_config(&cfg->retarget);
    tp_controller_default_config(&cfg->control);
    snprintf(cfg->calibration_id, sizeof cfg->calibration_id, "default");
    tp_upload_default_config(&cfg->upload);
    tp_feedback_default_config(&cfg->feedback);
}

/* ------------------------------------------------------------ tables */

static const tp_config_key session_keys[] = {
    {.name = "duration", .type = TP_CFG_DOUBLE, .offset = S(duration_s), .min = 0.001, .max = 86400,
     .meaning = "session length, seconds (a recording session of several episodes: a cap, default 24 h)"},
    {.name = "control_rate_hz", .type = TP_CFG_DOUBLE, .offset = S(control_hz), .min = 10, .max = 5000,
     .meaning = "control loop rate: the model's physics rate (500 Hz bundled) divided by a whole number (physics substeps per tick); anything else is refused"},
    {.name = "stale_input", .type = TP_CFG_DOUBLE, .offset = S(stale_input_s), .min = 0.001, .max = 10,
     .meaning = "hold the robot when the newest operator frame is older than this (s)"},
    {.name = "out", .type = TP_CFG_TEXT, .offset = S(out_dir), .max = 4000, .meaning = "episode folder"},
    {.name = "task", .type = TP_CFG_TEXT, .offset = S(task), .max = TP_TASK_MAX_BYTES,
     .default_text = "empty; with the bundled demo motion `" TP_DEMO_MOTION_TASK "`",
     .meaning = "task text stored in each episode (`meta.task`), whole: UTF-8, no control characters"},
    {.name = "operator", .type = TP_CFG_NAME, .offset = S(operator_name), .max = TP_OPERATOR_NAME_MAX_BYTES,
     .default_text = "empty; with the bundled demo motion `" TP_DEMO_MOTION_OPERATOR "`",
     .meaning = "operator name stored in the episode, as `teleop calibrate --operator` takes it; empty: none"},
    {.name = "record", .type = TP_CFG_BOOL, .offset = S(record), .meaning = "write an episode"},
    {.name = "realtime_priority", .type = TP_CFG_BOOL, .offset = S(realtime_priority),
     .meaning = "try SCHED_FIFO for the control thread"},
};

static const tp_config_key recording_keys[] = {
    {.name = "episodes", .type = TP_CFG_INT, .offset = S(workflow.episodes), .min = 0, .max = 1000000,
     .meaning = "end the session after this many kept episodes; 0 = until quit (`docs/recording.md`)"},
    {.name = "episode_time", .type = TP_CFG_DOUBLE, .offset = S(workflow.episode_time_s), .min = 0, .max = 86400,
     .meaning = "stop and keep each episode after this many seconds; 0 = no limit"},
    {.name = "reset_time", .type = TP_CFG_DOUBLE, .offset = S(workflow.reset_time_s), .min = 0, .max = 86400,
     .meaning = "pause between episodes (robot still teleoperated, nothing recorded), seconds"},
    {.name = "auto_start", .type = TP_CFG_BOOL, .offset = S(workflow.auto_start),
     .meaning = "record at once and after each pause; false: wait for a start command (key, command line, "
                "headset button)"},
    {.name = "min_free_mb", .type = TP_CFG_DOUBLE, .offset = S(min_free_mb), .min = 0, .max = 1e9,
     .meaning = "free space (MB) the recordings folder must have to start an episode (checked with `statvfs`)"},
    {.name = "max_behind", .type = TP_CFG_DOUBLE, .offset = S(max_recorder_behind_s), .min = 0.05, .max = 3600,
     .meaning = "seconds the recorder's queue may overflow (rows lost to a disk too slow) before the recording "
                "is ended and the robot held"},
};

static const char *const link_choices[] = {"sim", "unitree", NULL};

static const tp_config_key robot_keys[] = {
    {.name = "link", .type = TP_CFG_ENUM, .offset = S(robot_link), .choices = link_choices,
     .meaning = "robot link (`docs/devices/robot-links.md`): `sim`, the embedded MuJoCo simulation of `model`; "
                "`unitree`, a Unitree G1 + Dex3-1 over DDS (`[unitree]`, `docs/devices/unitree.md`)"},
    {.name = "model", .type = TP_CFG_PATH, .offset = S(model_path),
     .default_text = "bundled `devices/robot/models/humanoid.xml`", .meaning = "MJCF of the simulated robot"},
    {.name = "arm_base", .type = TP_CFG_TEXT, .offset = S(control.arm_base), .size = 64,
     .meaning = "base body of both arms' IK chains in the robot model"},
    {.name = "left_arm_tip", .type = TP_CFG_TEXT, .offset = S(control.arm_tip[0]), .size = 64,
     .meaning = "tip (site or body) of the left arm chain; its joints must be the action layout's arm joints"},
    {.name = "right_arm_tip", .type = TP_CFG_TEXT, .offset = S(control.arm_tip[1]), .size = 64,
     .meaning = "tip of the right arm chain"},
};

/* The "unitree" link (docs/devices/unitree.md); the link checks the values
 * again when it opens. */
static const tp_config_key unitree_keys[] = {
    {.name = "domain", .type = TP_CFG_INT, .offset = S(unitree.domain_id), .min = 0, .max = 232,
     .meaning = "DDS domain id: 0 on the robot, 1 for Unitree's simulators and `teleop sim --dds`"},
    {.name = "interface", .type = TP_CFG_TEXT, .offset = S(unitree.interface), .max = 63,
     .default_text = "empty: CycloneDDS chooses",
     .meaning = "network interface name (`enp3s0`, `lo`) or address on the robot's network"},
    {.name = "state_timeout_ms", .type = TP_CFG_DOUBLE, .offset = S(unitree.state_timeout_ms), .min = 0.1,
     .max = 10000,
     .meaning = "the robot's newest `rt/lowstate` older than this is stale: no new targets, the arms released, "
                "`robot_link_lost`"},
    {.name = "weight_ramp_s", .type = TP_CFG_DOUBLE, .offset = S(unitree.weight_ramp_s), .min = 0.01, .max = 60,
     .meaning = "the arm_sdk blend weight goes 0 -> 1 on engage (and 1 -> 0 on release) in this long"},
    {.name = "hand_rate_hz", .type = TP_CFG_DOUBLE, .offset = S(unitree.hand_rate_hz), .min = 0, .max = 1000,
     .meaning = "Dex3-1 hand commands per second while engaged (0: none)"},
    {.name = "arm_kp", .type = TP_CFG_DOUBLE, .offset = S(unitree.arm_kp), .min = 0, .max = 1000,
     .meaning = "position gain of the shoulders and elbows"},
    {.name = "arm_kd", .type = TP_CFG_DOUBLE, .offset = S(unitree.arm_kd), .min = 0, .max = 100,
     .meaning = "damping gain of the shoulders and elbows"},
    {.name = "wrist_kp", .type = TP_CFG_DOUBLE, .offset = S(unitree.wrist_kp), .min = 0, .max = 1000,
     .meaning = "position gain of the wrists"},
    {.name = "wrist_kd", .type = TP_CFG_DOUBLE, .offset = S(unitree.wrist_kd), .min = 0, .max = 100,
     .meaning = "damping gain of the wrists"},
    {.name = "hand_kp", .type = TP_CFG_DOUBLE, .offset = S(unitree.hand_kp), .min = 0, .max = 100,
     .meaning = "position gain of the Dex3-1 fingers"},
    {.name = "hand_kd", .type = TP_CFG_DOUBLE, .offset = S(unitree.hand_kd), .min = 0, .max = 10,
     .meaning = "damping gain of the Dex3-1 fingers"},
    {.name = "gravity_feed_forward", .type = TP_CFG_BOOL, .offset = S(unitree.gravity_feed_forward),
     .meaning = "send the robot model's gravity torque at the commanded arm pose as feed-forward torque"},
};

static const char *const source_choices[] = {"xr", "motion", "replay", NULL};
static const char *const runtime_choices[] = {"replay", "system", NULL};

static const char *const xr_view_choices[] = {"off", "headset", NULL};


static const tp_config_key operator_keys[] = {
    {.name = "source", .type = TP_CFG_ENUM, .offset = S(operator_source), .choices = source_choices,
     .meaning = "operator device: `xr` (OpenXR through the loader, `docs/devices/xr.md`) or `motion` (the motion "
                "file replayed directly; `replay` is its old name)"},
    {.name = "xr_runtime", .type = TP_CFG_ENUM, .offset = S(xr_runtime), .choices = runtime_choices,
     .meaning = "`xr` only: `replay` selects the bundled replay runtime (it plays `operator.motion`, looping as "
                "`operator.loop` says); `system` uses whatever runtime the loader finds (a headset)"},
    {.name = "xr_replay_script", .type = TP_CFG_PATH, .offset = S(xr_replay_script), .default_text = "none",
     .meaning = "`xr` with the replay runtime: scripted controller input, tracking loss, exit or loss "
                "(format in `docs/devices/xr.md`)"},
    {.name = "motion", .type = TP_CFG_PATH, .offset = S(motion_path), .default_text = "bundled demo motion",
     .meaning = "operator motion CSV (`docs/motion-format.md`); with `xr` and the replay runtime also an episode"},
    {.name = "loop", .type = TP_CFG_BOOL, .offset = S(loop_motion),
     .meaning = "loop the motion when the session is longer (with the replay runtime, `false` ends the session "
                "when the motion ends)"},
    {.name = "rate_hz", .type = TP_CFG_DOUBLE, .offset = S(operator_hz), .min = 1, .max = 1000,
     .meaning = "`motion` source: operator frames per second (`xr`: the runtime paces)"},
};

static const char *const clutch_choices[] = {"either", "both", "left", "right", "always", NULL};

static int parse_binding(const char *text, void *field, char *msg, size_t msglen)
{
    return tp_control_binding_parse(text, field, msg, msglen);
}

static void format_binding(const void *field, char *buf, size_t len)
{
    tp_control_binding_format(field, buf, len);
}

#define BINDING(key, action, what)                                                                               \
    {.name = key, .type = TP_CFG_CUSTOM, .offset = S(controls.bindings[action]), .parse = parse_binding,          \
     .format = format_binding, .syntax = "binding", .meaning = what}

static const tp_config_key controls_keys[] = {
    {.name = "clutch", .type = TP_CFG_ENUM_INDEX, .offset = S(controls.clutch), .choices = clutch_choices,
     .meaning = "teleoperation while the grip is squeezed on `either` hand, `both`, `left`, `right`, or `always`"},
    {.name = "threshold", .type = TP_CFG_DOUBLE, .offset = S(controls.threshold), .min = 0.15, .max = 1,
     .meaning = "squeeze/trigger value that counts as pressed (released 0.1 below)"},
    {.name = "debounce", .type = TP_CFG_DOUBLE, .offset = S(controls.debounce_s), .min = 0, .max = 1,
     .meaning = "seconds a press must last to count; releases count at once"},
    BINDING("record_start", TP_ACTION_RECORD_START, "starts recording"),
    BINDING("record_stop_keep", TP_ACTION_RECORD_STOP_KEEP, "stops recording and keeps the episode"),
    BINDING("record_stop_discard", TP_ACTION_RECORD_STOP_DISCARD, "stops recording and discards the episode"),
    BINDING("emergency", TP_ACTION_EMERGENCY, "latches the emergency hold"),
    BINDING("emergency_release", TP_ACTION_EMERGENCY_RELEASE, "releases it"),
    BINDING("wrist_panels", TP_ACTION_WRIST_PANELS,
            "shows or hides the headset view's wrist panels (`[xr] wrist_cameras`; `operator_command` "
            "`wrist_panels_toggle`)"),
};

/* Applied first: a calibration file sets the whole calibration, and the
 * keys of calibration_keys beside it override single values. */
static const tp_config_key calibration_file_key[] = {
    {.name = "file", .type = TP_CFG_PATH, .offset = S(calibration_file), .default_text = "none",
     .meaning = "a calibration file from `teleop calibrate` (`calibration/README.md`); its id is recorded in "
                "each episode; the keys below override single values"},
};

#define CAL(key, field, lo, hi, what)                                                                            \
    {.name = key, .type = TP_CFG_DOUBLE, .offset = S(retarget.calibration.field), .min = lo, .max = hi,           \
     .meaning = what}
static const tp_config_key calibration_keys[] = {
    CAL("scale", scale, 0.1, 10, "robot distance per operator distance"),
    CAL("xr_anchor_x", xr_anchor.x, -10, 10, "operator's neutral head position, OpenXR stage x (m)"),
    CAL("xr_anchor_y", xr_anchor.y, -10, 10, "… y (up)"),
    CAL("xr_anchor_z", xr_anchor.z, -10, 10, "… z"),
    CAL("robot_anchor_x", robot_anchor.x, -10, 10, "robot head position in the torso frame, x (m)"),
    CAL("robot_anchor_y", robot_anchor.y, -10, 10, "… y"),
    CAL("robot_anchor_z", robot_anchor.z, -10, 10, "… z"),
};

static const char *const hand_method_choices[] = {"flexion", "vector", NULL};

static const char *const upsampling_choices[] = {"interpolate", "predict", "none", NULL};

static const tp_config_key retarget_keys[] = {
    {.name = "hand_method", .type = TP_CFG_ENUM, .offset = S(control.hand_method), .size = 16,
     .choices = hand_method_choices,
     .meaning = "hand retargeting: `flexion` (finger-curl mapping) or `vector` (keypoint-vector optimization "
                "through the hand's kinematics, `docs/hand-retargeting.md`); recorded in `meta.hand_method`"},
    {.name = "hand_urdf", .type = TP_CFG_PATH, .offset = S(control.hand_urdf), .size = 1024,
     .default_text = "bundled `devices/robot/models/g1_upper_body.urdf`",
     .meaning = "the hands' kinematic description for `vector`: Dex3-1 `<side>_hand_*` links; its hand joints "
                "must be the action layout's, in order"},
    {.name = "action_upsampling", .type = TP_CFG_ENUM_INDEX, .offset = S(control.upsampling),
     .choices = upsampling_choices,
     .meaning = "how the control-rate command follows the operator's frames (`docs/retargeting.md`, Upsampling): "
                "`interpolate` (the operator's pose `upsampling_latency` before each tick, interpolated between the "
                "frames around it), `predict` (extrapolated to the tick), or `none` (each frame held: stair-steps, "
                "for comparison); recorded in `meta.action_upsampling`"},
    {.name = "upsampling_latency", .type = TP_CFG_DOUBLE, .offset = S(control.upsampling_latency_s), .min = 0.001,
     .max = 0.09, .default_text = "one operator frame period, 1/`operator.rate_hz` (at most 0.09)",
     .meaning = "seconds, below `session.stale_input`: how far behind each tick `interpolate` samples the operator; "
                "recorded in `meta.action_upsampling_latency_ns` (0 for `predict` and `none`)"},
};

#define FLT(key, field, lo, hi, what)                                                                            \
    {.name = key, .type = TP_CFG_DOUBLE, .offset = S(control.field), .min = lo, .max = hi, .meaning = what}
static const tp_config_key filter_keys[] = {
    {.name = "wrists", .type = TP_CFG_BOOL, .offset = S(control.filter_wrists),
     .meaning = "One Euro filter on both wrist poses"},
    FLT("position_min_cutoff", wrist_position_filter.min_cutoff, 0.01, 100,
        "position filter cutoff at rest (Hz): lower removes more jitter"),
    FLT("position_beta", wrist_position_filter.beta, 0, 1000, "position filter speed coefficient: higher cuts lag "
                                                               "when moving"),
    FLT("rotation_min_cutoff", wrist_rotation_filter.min_cutoff, 0.01, 100, "orientation filter cutoff (Hz)"),
    FLT("rotation_beta", wrist_rotation_filter.beta, 0, 1000, "orientation filter speed coefficient"),
    FLT("derivative_cutoff", wrist_position_filter.d_cutoff, 0.01, 100,
        "smoothing of the speed estimate (Hz), position and orientation"),
    {.name = "hands", .type = TP_CFG_BOOL, .offset = S(control.filter_hands),
     .meaning = "One Euro filter on the 26 hand keypoints, each in its wrist's frame"},
    FLT("hand_min_cutoff", hand_filter.min_cutoff, 0.01, 100, "hand keypoint filter cutoff (Hz)"),
    FLT("hand_beta", hand_filter.beta, 0, 1000, "hand keypoint filter speed coefficient (s/m)"),
};

static const tp_config_key safety_keys[] = {
    FLT("limit_margin", limit_margin, 0, 0.5, "distance kept from every joint limit (rad)"),
    FLT("arm_velocity", arm_velocity_cap, 0.01, 50, "arm joint velocity cap (rad/s; the lower of this and the "
                                                    "motor ratings)"),
    FLT("hand_velocity", hand_velocity_cap, 0.01, 50, "hand joint velocity cap (rad/s)"),
    FLT("arm_acceleration", arm_acceleration, 0, 10000, "arm acceleration bound of commanded motion (rad/s², 0 = "
                                                        "none)"),
    FLT("hand_acceleration", hand_acceleration, 0, 10000, "hand acceleration bound (rad/s², 0 = none)"),
    FLT("workspace_min_x", workspace_min.x, -5, 5, "wrist box in the torso frame (m): an arm whose wrist would "
                                                   "leave it holds; each min below its max"),
    FLT("workspace_max_x", workspace_max.x, -5, 5, "…"),
    FLT("workspace_min_y", workspace_min.y, -5, 5, "…"),
    FLT("workspace_max_y", workspace_max.y, -5, 5, "…"),
    FLT("workspace_min_z", workspace_min.z, -5, 5, "…"),
    FLT("workspace_max_z", workspace_max.z, -5, 5, "…"),
};

static const char *const console_choices[] = {"auto", "on", "off", NULL}; /* TP_CONSOLE_AUTO, _ON, _OFF */

static const tp_config_key console_keys[] = {
    {.name = "enabled", .type = TP_CFG_ENUM_INDEX, .offset = S(console_mode), .choices = console_choices,
     .meaning = "`teleop run`'s operator console window (`docs/recording.md`, Operator console): `auto` opens it "
                "when a display is present (`DISPLAY` or `WAYLAND_DISPLAY` set and GLFW initializes), `on` always "
                "(no display is an error), `off` never; `--console` and `--no-console` override it"},
};

static const tp_config_key usb_keys[] = {
    {.name = "monitor", .type = TP_CFG_BOOL, .offset = S(usb_monitor),
     .meaning = "report USB plugs and unplugs during `teleop run` as episode events `usb_device_added` / "
                "`usb_device_removed` and on stderr (`docs/devices/usb.md`)"},
};

/* [xr] layout keys: two camera names "LEFT,RIGHT" (stereo_cameras,
 * wrist_cameras) into char[2][64]; whether they name configured cameras is
 * checked once the cameras are known (check_xr_layout). */
typedef char camera_pair[2][64];

static int parse_camera_pair(const char *text, camera_pair *pair, bool both, char *msg, size_t msglen)
{
    memset(pair, 0, sizeof *pair);
    const char *comma = strchr(text, ',');
    if (!text[0])
        return 0;
    if (!comma || strchr(comma + 1, ',')) {
        snprintf(msg, msglen, "'%s' is not LEFT,RIGHT (two camera names and one comma%s)", text,
                 both ? "" : "; a side may be empty");
        return -1;
    }
    const char *part[2] = {text, comma + 1};
    size_t len[2] = {(size_t)(comma - text), strlen(comma + 1)};
    for (int side = 0; side < 2; side++) {
        while (len[side] && part[side][0] == ' ')
            part[side]++, len[side]--;
        while (len[side] && part[side][len[side] - 1] == ' ')
            len[side]--;
        if (len[side] >= sizeof (*pair)[side]) {
            snprintf(msg, msglen, "'%.*s' is not a camera name: %zu bytes, the limit is %zu", (int)len[side],
                     part[side], len[side], sizeof (*pair)[side] - 1);
            return -1;
        }
        memcpy((*pair)[side], part[side], len[side]);
        (*pair)[side][len[side]] = '\0';
        char why[160];
        if ((*pair)[side][0] && tp_name_check((*pair)[side], TP_NAME_MAX_BYTES, why, sizeof why) != 0) {
            snprintf(msg, msglen, "'%s' is not a camera name: %s", (*pair)[side], why);
            return -1;
        }
        if (both && !(*pair)[side][0]) {
            snprintf(msg, msglen, "'%s': stereo needs two cameras, LEFT,RIGHT", text);
            return -1;
        }
    }
    if ((*pair)[0][0] && !strcmp((*pair)[0], (*pair)[1])) {
        snprintf(msg, msglen, "'%s' names the same camera twice", text);
        return -1;
    }
    return 0;
}

static int parse_stereo(const char *text, void *field, char *msg, size_t msglen)
{
    return parse_camera_pair(text, field, true, msg, msglen);
}

static int parse_wrists(const char *text, void *field, char *msg, size_t msglen)
{
    return parse_camera_pair(text, field, false, msg, msglen);
}

static void format_camera_pair(const void *field, char *buf, size_t len)
{
    const camera_pair *pair = field;
    if ((*pair)[0][0] || (*pair)[1][0])
        snprintf(buf, len, "%s,%s", (*pair)[0], (*pair)[1]);
    else
        snprintf(buf, len, "%s", "");
}

static int parse_panel_lock(const char *text, void *field, char *msg, size_t msglen)
{
    if (strcmp(text, "head") && strcmp(text, "world")) {
        snprintf(msg, msglen, "'%s' is not one of head, world", text);
        return -1;
    }
    *(bool *)field = !strcmp(text, "world");
    return 0;
}

static void format_panel_lock(const void *field, char *buf, size_t len)
{
    snprintf(buf, len, "%s", *(const bool *)field ? "world" : "head");
}

/* The operator's warnings and haptics near the robot's limits
 * (operator_feedback.h; docs/devices/xr.md, Warnings and haptics). */
/* [xr]: the headset view and, in it, the warnings and haptics. */
static const tp_config_key xr_keys[] = {
    {.name = "view", .type = TP_CFG_ENUM, .offset = S(xr_view), .choices = xr_view_choices,
     .meaning = "`xr` source: `off` runs the headless session (nothing shown); `headset` an OpenGL session "
                "(XR_KHR_opengl_enable, needs an X display; `docs/devices/xr.md`)"},
    {.name = "haptics", .type = TP_CFG_BOOL, .offset = S(feedback.haptics),
     .meaning = "pulse the controllers (OpenXR haptics) while an arm is near a limit or the workspace edge, clamped "
                "or held; false: the headset's visual warnings only"},
    {.name = "warn_joint_margin", .type = TP_CFG_DOUBLE, .offset = S(feedback.joint_margin), .min = 0.005, .max = 1,
     .meaning = "warn (amber) when an arm joint's command is within this many radians of its limit (the joint "
                "limit less `[safety]` margin)"},
    {.name = "warn_workspace_margin", .type = TP_CFG_DOUBLE, .offset = S(feedback.workspace_margin), .min = 0.005,
     .max = 1,
     .meaning = "warn (amber) when a wrist target is within this many metres of the workspace box's edge (red "
                "beyond it, or out of the arm's reach)"},
    {.name = "haptics_amplitude", .type = TP_CFG_DOUBLE, .offset = S(feedback.amplitude), .min = 0, .max = 1,
     .meaning = "amplitude of the strongest pulse (at a limit), 0..1; pulses nearer a limit are stronger, longer "
                "and higher"},
    {.name = "haptics_interval", .type = TP_CFG_DOUBLE, .offset = S(feedback.pulse_interval_s), .min = 0.05,
     .max = 10, .meaning = "seconds between pulses on one controller while a warning lasts (at most one per interval)"},
    {.name = "head_camera", .type = TP_CFG_NAME, .offset = S(xr_layout.head_camera), .size = 64,
     .default_text = "empty: the first camera",
     .meaning = "`view = headset`: the camera (a `[camera.NAME]` name) shown to both eyes on the head panel; not "
                "used with `stereo_cameras`"},
    {.name = "stereo_cameras", .type = TP_CFG_CUSTOM, .offset = S(xr_layout.stereo_cameras), .parse = parse_stereo,
     .format = format_camera_pair, .syntax = "`LEFT,RIGHT`: two camera names", .default_text = "empty: mono",
     .meaning = "a stereo head view: LEFT's frames to the left eye, RIGHT's to the right (two distinct configured "
                "cameras)"},
    {.name = "wrist_cameras", .type = TP_CFG_CUSTOM, .offset = S(xr_layout.wrist_cameras), .parse = parse_wrists,
     .format = format_camera_pair, .syntax = "`LEFT,RIGHT`: camera names, either may be empty",
     .default_text = "empty: none",
     .meaning = "the smaller panels by the left and right wrists (`left_wrist,`: the left only); a wrist camera is "
                "not also the head or a stereo camera"},
    {.name = "panel_lock", .type = TP_CFG_CUSTOM, .offset = S(xr_layout.world_locked), .parse = parse_panel_lock,
     .format = format_panel_lock, .syntax = "one of head, world",
     .meaning = "`head`: the camera panels follow the head (VIEW space); `world`: they stay where they were placed "
                "in the room (LOCAL space)"},
    {.name = "panel_distance", .type = TP_CFG_DOUBLE, .offset = S(xr_layout.distance_m), .min = 0.2, .max = 10,
     .meaning = "metres from the eyes to the head panel"},
    {.name = "panel_width", .type = TP_CFG_DOUBLE, .offset = S(xr_layout.width_m), .min = 0.1, .max = 5,
     .meaning = "the head panel's width in metres (its height follows the camera's aspect)"},
    {.name = "wrist_panels", .type = TP_CFG_BOOL, .offset = S(xr_layout.wrist_panels),
     .meaning = "show the wrist panels at the start; the `[controls] wrist_panels` binding toggles them"},
    {.name = "mirror", .type = TP_CFG_BOOL, .offset = S(xr_layout.mirror),
     .meaning = "`view = headset`: a desktop window mirroring what the operator sees, for an assistant; "
                "`teleop run --mirror` and `--no-mirror` override it"},
};

static const tp_config_key upload_keys[] = {
    {.name = "enabled", .type = TP_CFG_BOOL, .offset = S(upload.enabled),
     .meaning = "upload each kept episode in the background while the station records (`docs/upload.md`, Station "
                "sync)"},
    {.name = "url", .type = TP_CFG_TEXT, .offset = S(upload.url), .max = 1000, .default_text = "none",
     .meaning = "`s3://BUCKET/PREFIX`: episodes go to `PREFIX/STATION/NAME.db`, catalog entries under "
                "`PREFIX/_catalog/`"},
    {.name = "endpoint", .type = TP_CFG_TEXT, .offset = S(upload.endpoint), .max = 1000,
     .default_text = "AWS for the region (or `AWS_ENDPOINT_URL`)",
     .meaning = "S3 endpoint URL: `http://127.0.0.1:9000` (MinIO), `https://ACCOUNT.r2.cloudflarestorage.com` (R2)"},
    {.name = "region", .type = TP_CFG_TEXT, .offset = S(upload.region), .max = 63,
     .default_text = "`AWS_REGION`, the profile's, else `us-east-1`", .meaning = "signing region (R2: `auto`)"},
    {.name = "ca_bundle", .type = TP_CFG_PATH, .offset = S(upload.ca_bundle), .default_text = "the system's",
     .meaning = "PEM file of extra CAs to trust (a private CA); TLS verification is always on"},
    {.name = "station", .type = TP_CFG_TEXT, .offset = S(upload.station), .max = 64, .default_text = "the host name",
     .meaning = "this station's name in keys and catalog entries: letters, digits, `.`, `_`, `-`"},
    {.name = "bandwidth_limit", .type = TP_CFG_DOUBLE, .offset = S(upload.bandwidth_limit_mb_s), .min = 0,
     .max = 100000, .meaning = "upload speed cap, MB/s (10^6 bytes) for the whole station; 0 = none"},
    {.name = "delete_after_upload", .type = TP_CFG_BOOL, .offset = S(upload.delete_after_upload),
     .meaning = "delete the local episode once its upload is verified (HEAD size and ETag against the file) and "
                "its catalog entry written"},
    {.name = "part_size", .type = TP_CFG_DOUBLE, .offset = S(upload.part_size_mb), .min = 5, .max = 5120,
     .meaning = "multipart part size, MiB (files up to it go in one PUT)"},
    {.name = "parallel", .type = TP_CFG_INT, .offset = S(upload.parallel), .min = 1, .max = 16,
     .meaning = "multipart parts in flight (the bandwidth limit is shared between them)"},
    {.name = "wait_at_exit", .type = TP_CFG_BOOL, .offset = S(upload.wait_at_exit),
     .meaning = "at the session's end, wait for the queue to empty (Ctrl-C leaves it queued for the next run)"},
    {.name = "qa_wait", .type = TP_CFG_DOUBLE, .offset = S(upload.qa_wait_s), .min = 0, .max = 3600,
     .meaning = "seconds an episode waits for its QA flags before it is uploaded without them"},
};

/* A camera's keys, in [camera.NAME] or (shared, or the single camera) in
 * [camera]; camera_settings is what a section says, turned into the
 * device and encoder config by camera_from_settings. */
typedef struct camera_settings {
    const char *name; /* [camera] only, without [camera.NAME] sections */
    const char *driver, *mjcf_camera, *format, *codec, *preset;
    int width, height, crf, gop, threads, seed, mjpeg_quality;
    double fps, noise, stall_at, stall_for, vanish_at;
    const char *device, *uvc_format; /* uvc */
    double exposure;
    int gain, white_balance;
    const char *path; /* file driver */
    bool loop;
    double reappear_at;
} camera_settings;

#define C(field) offsetof(camera_settings, field)
static const char *const driver_choices[] = {"sim", "pattern", "uvc", "file", NULL};
static const char *const uvc_format_choices[] = {"auto", "mjpeg", "yuyv", NULL};
static const char *const format_choices[] = {"rgb", "mjpeg", NULL};
static const char *const codec_choices[] = {"h264", "ffv1", "mjpeg", NULL};
static const char *const preset_choices[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                             "medium",    "slow",      "slower",   "veryslow", "placebo", NULL};

static const tp_config_key camera_name_key[] = {
    {.name = "name", .type = TP_CFG_NAME, .offset = C(name),
     .meaning = "`[camera]` without `[camera.NAME]` sections: the single camera's stream name (and MJCF camera)"},
};

static const tp_config_key camera_keys[] = {
    {.name = "driver", .type = TP_CFG_ENUM, .offset = C(driver), .choices = driver_choices,
     .meaning = "`sim` (the simulated robot's MJCF camera, rendered offscreen), `pattern` (test pattern with "
                "motion and sensor noise), `uvc` (a USB camera through libuvc) or `file` (a video file played in real "
                "time); `docs/devices/cameras.md`"},
    {.name = "mjcf_camera", .type = TP_CFG_TEXT, .offset = C(mjcf_camera), .max = 63, .default_text = "`NAME`",
     .meaning = "sim: the camera's name in the MJCF (`head_camera`, `left_wrist_camera`, `right_wrist_camera` in "
                "the bundled humanoid)"},
    {.name = "width", .type = TP_CFG_INT, .offset = C(width), .min = 16, .max = 4096,
     .meaning = "frame width, even (the sim driver's limit is the model's offscreen buffer, 640×480 bundled)"},
    {.name = "height", .type = TP_CFG_INT, .offset = C(height), .min = 16, .max = 4096,
     .meaning = "frame height, even"},
    {.name = "fps", .type = TP_CFG_DOUBLE, .offset = C(fps), .min = 1, .max = 240, .meaning = "frames per second"},
    {.name = "format", .type = TP_CFG_ENUM, .offset = C(format), .choices = format_choices,
     .meaning = "what the driver delivers: `rgb`, or `mjpeg` (pattern driver, as a UVC camera would; uvc: the "
                "device's JPEGs passed on untouched, needs an MJPEG stream)"},
    {.name = "codec", .type = TP_CFG_ENUM, .offset = C(codec), .choices = codec_choices,
     .meaning = "`h264` (libx264), `ffv1` (lossless), or `mjpeg` (store an MJPEG camera's JPEGs as they come; "
                "needs `format = mjpeg`); an MJPEG camera with `h264`/`ffv1` is decoded and re-encoded"},
    {.name = "preset", .type = TP_CFG_ENUM, .offset = C(preset), .choices = preset_choices,
     .meaning = "x264 preset"},
    {.name = "crf", .type = TP_CFG_INT, .offset = C(crf), .min = 0, .max = 51,
     .meaning = "x264 constant rate factor"},
    {.name = "gop", .type = TP_CFG_INT, .offset = C(gop), .min = 1, .max = 1000, .default_text = "= fps",
     .meaning = "frames per keyframe (one a second by default, so review can seek)"},
    {.name = "threads", .type = TP_CFG_INT, .offset = C(threads), .min = 1, .max = 16,
     .meaning = "x264 threads per camera"},
    {.name = "seed", .type = TP_CFG_INT, .offset = C(seed), .min = 0, .max = 2147483647,
     .meaning = "pattern: noise seed (the same seed gives the same frames)"},
    {.name = "noise", .type = TP_CFG_DOUBLE, .offset = C(noise), .min = 0, .max = 64,
     .meaning = "pattern: sensor noise, standard deviation in 8-bit levels"},
    {.name = "mjpeg_quality", .type = TP_CFG_INT, .offset = C(mjpeg_quality), .min = 2, .max = 31,
     .meaning = "pattern with `format = mjpeg`: JPEG quantizer, 2 (best) to 31"},
    {.name = "stall_at", .type = TP_CFG_DOUBLE, .offset = C(stall_at), .min = 0, .max = 86400,
     .meaning = "pattern fault injection: no frames for `stall_for` seconds from this many seconds after the start"},
    {.name = "stall_for", .type = TP_CFG_DOUBLE, .offset = C(stall_for), .min = 0, .max = 86400,
     .meaning = "… for this long (0: never stalls)"},
    {.name = "vanish_at", .type = TP_CFG_DOUBLE, .offset = C(vanish_at), .min = 0, .max = 86400,
     .meaning = "pattern fault injection: the device disappears this many seconds after the start (0: never)"},
    {.name = "device", .type = TP_CFG_TEXT, .offset = C(device), .max = 127, .default_text = "the first UVC camera",
     .meaning = "uvc: which camera: a serial number, `usb:BUS-PORT[.PORT…]` (its port path, as `teleop devices` "
                "prints it) or `VVVV:PPPP` (vendor:product, hex); the same camera is found again after a replug"},
    {.name = "uvc_format", .type = TP_CFG_ENUM, .offset = C(uvc_format), .choices = uvc_format_choices,
     .meaning = "uvc: the stream asked of the device: `yuyv`, `mjpeg`, or `auto` (`format = mjpeg`: mjpeg; `rgb`: "
                "yuyv if offered at this size and rate, else mjpeg)"},
    {.name = "exposure", .type = TP_CFG_DOUBLE, .offset = C(exposure), .min = 0, .max = 10,
     .meaning = "uvc: manual exposure time, seconds (100 µs steps); 0 = the device's auto exposure"},
    {.name = "gain", .type = TP_CFG_INT, .offset = C(gain), .min = -1, .max = 65535,
     .meaning = "uvc: manual gain in the device's units; -1 = left as the device has it"},
    {.name = "white_balance", .type = TP_CFG_INT, .offset = C(white_balance), .min = 0, .max = 15000,
     .meaning = "uvc: white balance temperature, kelvin; 0 = auto (a control the camera lacks: a warning, not an "
                "error)"},
    {.name = "reappear_at", .type = TP_CFG_DOUBLE, .offset = C(reappear_at), .min = 0, .max = 86400,
     .meaning = "pattern fault injection: the vanished device can be opened again this many seconds after the start "
                "(a replug; 0: never)"},
    {.name = "path", .type = TP_CFG_PATH, .offset = C(path), .default_text = "none",
     .meaning = "file: the video file (anything libavformat reads), played on its own timestamps"},
    {.name = "loop", .type = TP_CFG_BOOL, .offset = C(loop),
     .meaning = "file: start over at the end (time and frame index go on); `false`: the camera ends after the "
                "last frame (`camera_ended`)"},
};

/* [glove.left] and [glove.right]: one table per side (the offsets differ). */
static const char *const glove_driver_choices[] = {"opengloves", NULL};
#define GLOVE_KEYS(g)                                                                                            \
    {.name = "driver", .type = TP_CFG_ENUM, .offset = S(gloves[g].driver), .choices = glove_driver_choices,      \
     .meaning = "glove driver: `opengloves` (the OpenGloves/LucidGloves alpha encoding over a serial tty)"},      \
    {.name = "port", .type = TP_CFG_TEXT, .offset = S(gloves[g].port), .max = 1000, .default_text = "none",    \
     .meaning = "the glove's tty (`/dev/ttyACM0`, `/dev/serial/by-id/…`); empty: no glove on this side"},     \
    {.name = "baud", .type = TP_CFG_INT, .offset = S(gloves[g].baud), .min = 1200, .max = 4000000,           \
     .meaning = "serial speed (a CDC-ACM glove ignores it)"},                                                   \
    {.name = "max_value", .type = TP_CFG_INT, .offset = S(gloves[g].max_value), .min = 0, .max = 4095,       \
     .meaning = "the glove's analog range: `1023`, `4095`, or `0` to learn it from the data"},                 \
    {.name = "timeout_ms", .type = TP_CFG_INT, .offset = S(gloves[g].timeout_ms), .min = 10, .max = 10000,    \
     .meaning = "no accepted line for this long: the glove is silent (`glove_lost`), that hand holds"},         \
    {.name = "calibration", .type = TP_CFG_PATH, .offset = S(gloves[g].calibration_file),                    \
     .default_text = "the full range", .meaning = "a glove calibration file (section `[glove]`, "               \
     "`calibration/README.md`); its id is recorded in meta `glove_calibration_SIDE`"}
static const tp_config_key glove_left_keys[] = {GLOVE_KEYS(0)};
static const tp_config_key glove_right_keys[] = {GLOVE_KEYS(1)};

/* The sections of a station file and their tables, in the order applied,
 * written and documented. */
typedef struct section_table {
    const char *section;
    const tp_config_key *keys;
    size_t count;
} section_table;

static const section_table session_tables[] = {
    {"session", session_keys, N(session_keys)},
    {"recording", recording_keys, N(recording_keys)},
    {"robot", robot_keys, N(robot_keys)},
    {"unitree", unitree_keys, N(unitree_keys)},
    {"operator", operator_keys, N(operator_keys)},
    {"controls", controls_keys, N(controls_keys)},
    {"calibration", calibration_file_key, N(calibration_file_key)},
    {"calibration", calibration_keys, N(calibration_keys)},
    {"retarget", retarget_keys, N(retarget_keys)},
    {"filter", filter_keys, N(filter_keys)},
    {"safety", safety_keys, N(safety_keys)},
    {"console", console_keys, N(console_keys)},
    {"xr", xr_keys, N(xr_keys)},
    {"upload", upload_keys, N(upload_keys)},
    {"usb", usb_keys, N(usb_keys)},
    {"glove.left", glove_left_keys, N(glove_left_keys)},
    {"glove.right", glove_right_keys, N(glove_right_keys)},
};

/* ------------------------------------------------------------ cameras */

static void settings_from_camera(camera_settings *s, const tp_session_camera *c)
{
    memset(s, 0, sizeof *s);
    const tp_camera_params *d = &c->device;
    const tp_video_encoder_config *v = &c->video;
    s->name = d->name;
    s->driver = d->driver;
    s->mjcf_camera = d->source ? d->source : "";
    s->format = d->format == TP_PIXEL_MJPEG ? "mjpeg" : "rgb";
    s->codec = v->codec;
    s->preset = v->preset;
    s->width = d->width;
    s->height = d->height;
    s->fps = d->fps;
    s->crf = v->crf;
    s->gop = v->gop;
    s->threads = v->threads;
    s->seed = (int)d->seed;
    s->noise = d->noise;
    s->mjpeg_quality = d->mjpeg_quality;
    s->stall_at = d->stall_at_s;
    s->stall_for = d->stall_for_s;
    s->vanish_at = d->vanish_at_s;
    s->device = d->device ? d->device : "";
    s->uvc_format = d->uvc_format ? d->uvc_format : "auto";
    s->exposure = d->exposure_s;
    s->gain = d->gain;
    s->white_balance = d->white_balance_k;
    s->reappear_at = d->reappear_at_s;
    s->path = d->path;
    s->loop = d->loop;
}

/* The section that gives a camera's key (for a message's line): its own,
 * else [camera]. */
static const char *key_section(tp_config *file, const char *own, const char *key)
{
    char full[256];
    snprintf(full, sizeof full, "%s.%s", own, key);
    return tp_config_has(file, full) ? own : "camera";
}

static int camera_from_settings(tp_session_camera *c, const camera_settings *s, const char *stream, tp_config *file,
                                const char *own, char *err, size_t errlen)
{
    camera_default_config(c, stream);
    tp_camera_params *d = &c->device;
    tp_video_encoder_config *v = &c->video;
    d->driver = s->driver;
    d->source = s->mjcf_camera && s->mjcf_camera[0] ? s->mjcf_camera : stream;
    d->format = !strcmp(s->format, "mjpeg") ? TP_PIXEL_MJPEG : TP_PIXEL_RGB24;
    if (!strcmp(d->driver, "sim") && d->format != TP_PIXEL_RGB24)
        return tp_config_error(file, key_section(file, own, "format"), "format", err, errlen,
                               "the sim driver delivers rgb only");
    if (!strcmp(d->driver, "uvc") && d->format == TP_PIXEL_MJPEG && !strcmp(s->uvc_format, "yuyv"))
        return tp_config_error(file, key_section(file, own, "format"), "format", err, errlen,
                               "mjpeg passes the device's JPEGs on; `uvc_format = yuyv` asks for a YUYV stream "
                               "(use format = rgb, or uvc_format = mjpeg or auto)");
    if (!strcmp(s->codec, "mjpeg") && d->format != TP_PIXEL_MJPEG)
        return tp_config_error(file, key_section(file, own, "codec"), "codec", err, errlen,
                               "mjpeg passes MJPEG frames through; this camera delivers %s",
                               tp_pixel_format_name(d->format));
    if (s->width % 2)
        return tp_config_error(file, key_section(file, own, "width"), "width", err, errlen, "%d is not even",
                               s->width);
    if (s->height % 2)
        return tp_config_error(file, key_section(file, own, "height"), "height", err, errlen, "%d is not even",
                               s->height);
    v->codec = s->codec;
    v->preset = s->preset;
    d->width = v->width = s->width;
    d->height = v->height = s->height;
    d->fps = v->fps = s->fps;
    d->seed = (uint64_t)s->seed;
    d->noise = s->noise;
    d->mjpeg_quality = s->mjpeg_quality;
    d->stall_at_s = s->stall_at;
    d->stall_for_s = s->stall_for;
    d->vanish_at_s = s->vanish_at;
    d->device = s->device && s->device[0] ? s->device : NULL;
    d->uvc_format = s->uvc_format;
    d->exposure_s = s->exposure;
    d->gain = s->gain;
    d->white_balance_k = s->white_balance;
    d->reappear_at_s = s->reappear_at;
    d->path = s->path;
    d->loop = s->loop;
    if (!strcmp(d->driver, "file") && (!d->path || !d->path[0]))
        return tp_config_error(file, key_section(file, own, "path"), "path", err, errlen,
                               "camera '%s': the file driver needs a video file", stream);
    v->crf = s->crf;
    /* A GOP that is not given follows the frame rate: one keyframe a second. */
    v->gop = s->gop > 0 ? s->gop : (int)lround(s->fps);
    v->threads = s->threads;
    return 0;
}

static const char *const reserved_streams[] = {"state", "state_velocity", "action", "operator"};

static int check_camera_name(tp_config *file, const char *section, const char *key, const char *name, char *err,
                             size_t errlen)
{
    char why[160];
    if (tp_name_check(name, TP_NAME_MAX_BYTES, why, sizeof why) != 0)
        return tp_config_error(file, section, key, err, errlen, "'%s' is not a camera name: %s", name, why);
    for (size_t r = 0; r < N(reserved_streams); r++)
        if (!strcmp(name, reserved_streams[r]))
            return tp_config_error(file, section, key, err, errlen, "'%s' is the name of another stream", name);
    return 0;
}

static int apply_cameras(tp_session_config *cfg, tp_config *file, char *err, size_t errlen)
{
    const char *names[TP_SESSION_MAX_CAMERAS];
    int n = tp_config_subsections(file, "camera", names, TP_SESSION_MAX_CAMERAS);
    if (n > TP_SESSION_MAX_CAMERAS)
        return tp_config_error(file, "camera", NULL, err, errlen, "%d [camera.NAME] sections; at most %d cameras",
                               n, TP_SESSION_MAX_CAMERAS);
    /* [camera]: the defaults every camera section starts from. */
    camera_settings shared;
    settings_from_camera(&shared, &cfg->cameras[0]);
    if (!tp_config_has(file, "camera.mjcf_camera"))
        shared.mjcf_camera = "";
    shared.gop = 0; /* follows fps unless given */
    if (tp_config_apply_keys(file, "camera", camera_keys, N(camera_keys), &shared, err, errlen) != 0)
        return -1;
    if (n == 0) {
        if (tp_config_apply_keys(file, "camera", camera_name_key, 1, &shared, err, errlen) != 0)
            return -1;
        if (check_camera_name(file, "camera", "name", shared.name, err, errlen) != 0)
            return -1;
        if (camera_from_settings(&cfg->cameras[0], &shared, shared.name, file, "camera", err, errlen) != 0)
            return -1;
        cfg->camera_count = 1;
        return 0;
    }
    if (tp_config_given(file, "camera", "name"))
        return tp_config_error(file, "camera", "name", err, errlen,
                               "[camera.NAME] sections name their cameras; 'name' is for a single [camera] only");
    for (int i = 0; i < n; i++) {
        char section[128];
        snprintf(section, sizeof section, "camera.%s", names[i]);
        if (check_camera_name(file, section, NULL, names[i], err, errlen) != 0)
            return -1;
        camera_settings s = shared;
        if (tp_config_apply_keys(file, section, camera_keys, N(camera_keys), &s, err, errlen) != 0 ||
            camera_from_settings(&cfg->cameras[i], &s, names[i], file, section, err, errlen) != 0)
            return -1;
    }
    cfg->camera_count = n;
    return 0;
}

/* ------------------------------------------------------------ apply */

static const char *const known_sections[] = {"session",     "recording", "robot",  "operator", "controls",
                                             "calibration", "retarget",  "filter", "safety",   "camera",
                                             "console",     "upload",    "unitree", "usb", "glove.left", "glove.right",
                                             "xr"};

static int check_sections(tp_config *file, char *err, size_t errlen)
{
    for (size_t i = 0; i < tp_config_section_count(file); i++) {
        const char *sec = tp_config_section_at(file, i, NULL);
        bool known = false;
        for (size_t k = 0; k < N(known_sections); k++)
            known |= !strcmp(sec, known_sections[k]);
        if (known)
            continue;
        if (!strncmp(sec, "camera.", 7)) {
            if (check_camera_name(file, sec, NULL, sec + 7, err, errlen) != 0)
                return -1;
            continue;
        }
        return tp_config_error(file, sec, NULL, err, errlen,
                               "unknown section (sections: session, recording, robot, unitree, operator, controls, "
                               "calibration, retarget, filter, safety, console, camera, camera.NAME, upload, usb, glove.left, "
                               "glove.right, xr)");
    }
    return 0;
}

static int check_bindings(const tp_controls_config *c, tp_config *file, char *err, size_t errlen)
{
    for (int a = 0; a < TP_ACTION_COUNT; a++)
        for (int b = a + 1; b < TP_ACTION_COUNT; b++) {
            const tp_control_binding *x = &c->bindings[a], *y = &c->bindings[b];
            if (x->count == 0 || x->count != y->count || x->hold_s != y->hold_s)
                continue;
            bool same = true;
            for (int i = 0; i < x->count; i++) {
                bool found = false;
                for (int j = 0; j < y->count; j++)
                    found |= x->keys[i].side == y->keys[j].side && x->keys[i].input == y->keys[j].input;
                same &= found;
            }
            if (same) {
                const char *ka = tp_control_action_key(a), *kb = tp_control_action_key(b);
                char full[64];
                snprintf(full, sizeof full, "controls.%s", kb);
                const char *key = tp_config_has(file, full) ? kb : ka;
                return tp_config_error(file, "controls", key, err, errlen,
                                       "controls.%s and controls.%s are bound to the same input", ka, kb);
            }
        }
    return 0;
}

static int check_workspace(const tp_controller_config *cc, tp_config *file, char *err, size_t errlen)
{
    const double mins[3] = {cc->workspace_min.x, cc->workspace_min.y, cc->workspace_min.z};
    const double maxs[3] = {cc->workspace_max.x, cc->workspace_max.y, cc->workspace_max.z};
    static const char *const axes[] = {"x", "y", "z"};
    for (int a = 0; a < 3; a++)
        if (!(mins[a] < maxs[a])) {
            char kmin[32], kmax[32], full[64];
            snprintf(kmin, sizeof kmin, "workspace_min_%s", axes[a]);
            snprintf(kmax, sizeof kmax, "workspace_max_%s", axes[a]);
            snprintf(full, sizeof full, "safety.%s", kmin);
            return tp_config_error(file, "safety", tp_config_has(file, full) ? kmin : kmax, err, errlen,
                                   "%s (%g) must be below %s (%g)", kmin, mins[a], kmax, maxs[a]);
        }
    return 0;
}

/* [upload]: the URL's form and the station name, where the file says them
 * (the bucket itself is opened when the session starts). */
static int check_upload(const tp_upload_config *u, tp_config *file, char *err, size_t errlen)
{
    const char *url = u->url ? u->url : "";
    if (url[0] && (strncmp(url, "s3://", 5) || !url[5] || url[5] == '/'))
        return tp_config_error(file, "upload", "url", err, errlen, "'%s' is not s3://BUCKET/PREFIX", url);
    if (u->enabled && !url[0])
        return tp_config_error(file, "upload", tp_config_has(file, "upload.enabled") ? "enabled" : NULL, err, errlen,
                               "enabled without url (s3://BUCKET/PREFIX)");
    const char *st = u->station ? u->station : "";
    bool ok = strlen(st) <= 64 && st[0] != '.' && st[0] != '-';
    for (const char *p = st; *p && ok; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
             *p == '_' || *p == '-';
    if (!ok)
        return tp_config_error(file, "upload", "station", err, errlen,
                               "'%s' is not a station name (letters, digits, '.', '_', '-'; at most 64)", st);
    return 0;
}

/* [xr] layout: every camera it names is a configured one, and a wrist
 * panel shows no camera the head view shows. */
static int check_xr_layout(const tp_session_config *cfg, tp_config *file, char *err, size_t errlen)
{
    const tp_xr_view_layout *l = &cfg->xr_layout;
    char known[512] = "";
    size_t used = 0;
    for (int i = 0; i < cfg->camera_count && used < sizeof known; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 cfg->cameras[i].device.name);
    const struct {
        const char *key, *name;
    } named[] = {{"head_camera", l->head_camera},
                 {"stereo_cameras", l->stereo_cameras[0]},
                 {"stereo_cameras", l->stereo_cameras[1]},
                 {"wrist_cameras", l->wrist_cameras[0]},
                 {"wrist_cameras", l->wrist_cameras[1]}};
    for (size_t k = 0; k < N(named); k++) {
        if (!named[k].name[0])
            continue;
        bool found = false;
        for (int i = 0; i < cfg->camera_count; i++)
            found |= !strcmp(cfg->cameras[i].device.name, named[k].name);
        if (!found)
            return tp_config_error(file, "xr", named[k].key, err, errlen,
                                   "'%s' is not a configured camera (cameras: %s)", named[k].name,
                                   used ? known : "none");
    }
    /* The head view: the stereo pair, else head_camera, else the first camera. */
    bool stereo = l->stereo_cameras[0][0];
    const char *head = l->head_camera[0] ? l->head_camera : cfg->camera_count > 0 ? cfg->cameras[0].device.name : "";
    for (int side = 0; side < 2; side++) {
        const char *w = l->wrist_cameras[side];
        if (!w[0])
            continue;
        if (stereo && (!strcmp(w, l->stereo_cameras[0]) || !strcmp(w, l->stereo_cameras[1])))
            return tp_config_error(file, "xr", "wrist_cameras", err, errlen,
                                   "'%s' is a stereo camera too (stereo_cameras); a wrist panel shows another camera",
                                   w);
        if (!stereo && !strcmp(w, head))
            return tp_config_error(file, "xr", "wrist_cameras", err, errlen,
                                   "'%s' is the head camera too (head_camera%s); a wrist panel shows another camera",
                                   w, l->head_camera[0] ? "" : " empty: the first camera");
    }
    return 0;
}

/* After a [glove.SIDE] table: the range is one the parser knows, and the
 * calibration file (else the default for that range) is loaded. */
static int check_glove(tp_session_config *cfg, const section_table *st, tp_config *file, char *err, size_t errlen)
{
    int g = st->keys == glove_left_keys ? 0 : st->keys == glove_right_keys ? 1 : -1;
    if (g < 0)
        return 0;
    struct tp_session_glove *gl = &cfg->gloves[g];
    if (gl->max_value != 0 && gl->max_value != 1023 && gl->max_value != 4095)
        return tp_config_error(file, st->section, "max_value", err, errlen, "%d is not 0 (learn), 1023 or 4095",
                               gl->max_value);
    tp_glove_default_calibration(&gl->calibration, gl->max_value ? gl->max_value : 1023);
    if (gl->calibration_file && gl->calibration_file[0]) {
        char cal_err[512];
        if (tp_glove_calibration_load(gl->calibration_file, &gl->calibration, cal_err, sizeof cal_err) != 0)
            return tp_config_error(file, st->section, "calibration", err, errlen, "%s", cal_err);
    }
    return 0;
}

int tp_session_apply_config(tp_session_config *cfg, tp_config *file, char *err, size_t errlen)
{
    if (check_sections(file, err, errlen) != 0)
        return -1;
    for (size_t t = 0; t < N(session_tables); t++) {
        const section_table *st = &session_tables[t];
        if (tp_config_apply_keys(file, st->section, st->keys, st->count, cfg, err, errlen) != 0)
            return -1;
        if (st->keys == calibration_file_key && cfg->calibration_file && cfg->calibration_file[0]) {
            tp_operator_calibration oc;
            tp_operator_calibration_default(&oc);
            char cal_err[512];
            if (tp_calibration_load(cfg->calibration_file, &oc, cal_err, sizeof cal_err) != 0)
                return tp_config_error(file, "calibration", "file", err, errlen, "%s", cal_err);
            cfg->retarget.calibration = oc.calibration;
            snprintf(cfg->calibration_id, sizeof cfg->calibration_id, "%s", oc.id);
        }
        if (check_glove(cfg, st, file, err, errlen) != 0)
            return -1;
    }
    if (!strcmp(cfg->operator_source, "replay")) /* the name before OpenXR came */
        cfg->operator_source = "motion";
    tp_controller_config *cc = &cfg->control;
    cc->wrist_rotation_filter.d_cutoff = cc->wrist_position_filter.d_cutoff;
    if (!tp_config_has(file, "retarget.upsampling_latency")) /* one operator frame period, within the key's range */
        cc->upsampling_latency_s = fmin(fmax(1.0 / cfg->operator_hz, 0.001), 0.09);
    if (check_bindings(&cfg->controls, file, err, errlen) != 0 || check_workspace(cc, file, err, errlen) != 0 ||
        check_upload(&cfg->upload, file, err, errlen) != 0 || apply_cameras(cfg, file, err, errlen) != 0 ||
        check_xr_layout(cfg, file, err, errlen) != 0)
        return -1;
    return tp_config_check_unused(file, err, errlen);
}

int tp_session_resolve_paths(tp_session_config *cfg, char *model_buf, char *motion_buf, size_t buflen, char *err,
                             size_t errlen)
{
    if (!cfg->model_path || !cfg->model_path[0]) {
        if (tp_find_data("devices/robot/models/humanoid.xml", model_buf, buflen, err, errlen) != 0)
            return -1;
        cfg->model_path = model_buf;
    }
    if (!cfg->motion_path || !cfg->motion_path[0]) {
        if (tp_find_data("motions/demo_motion.csv", motion_buf, buflen, err, errlen) != 0 &&
            tp_find_data("src/tools/demo_motion.csv", motion_buf, buflen, err, errlen) != 0)
            return -1;
        cfg->motion_path = motion_buf;
        /* The embedded default session plays the bundled demo motion: its
         * episodes say what that motion does and who "operated", rather than
         * leaving task and operator empty. A real operator (a headset, or a
         * motion file given) gets only what the config says. */
        bool replayed = !strcmp(cfg->operator_source, "motion") ||
                        (!strcmp(cfg->operator_source, "xr") && !strcmp(cfg->xr_runtime, "replay"));
        if (replayed && (!cfg->task || !cfg->task[0]))
            cfg->task = TP_DEMO_MOTION_TASK;
        if (replayed && (!cfg->operator_name || !cfg->operator_name[0]))
            cfg->operator_name = TP_DEMO_MOTION_OPERATOR;
    }
    return 0;
}

/* ------------------------------------------------------------ files */

/* The section holding a camera's key (for its line): its own, else [camera]. */
static const char *camera_key_section(tp_config *file, const char *name, const char *key, char *buf, size_t len)
{
    char shared[128];
    snprintf(shared, sizeof shared, "camera.%s", key);
    snprintf(buf, len, "camera.%s.%s", name, key);
    bool own = tp_config_has(file, buf);
    const char *names[1];
    if (!own && (tp_config_has(file, shared) || tp_config_subsections(file, "camera", names, 1) == 0))
        return "camera"; /* given in [camera], or the single camera of [camera] */
    snprintf(buf, len, "camera.%s", name);
    return buf;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

int tp_station_config_check_files(const tp_session_config *cfg, tp_config *file, char *err, size_t errlen)
{
    char msg[1024];
    tp_sim *sim = tp_sim_create(cfg->model_path, msg, sizeof msg);
    if (!sim)
        return tp_config_error(file, "robot", "model", err, errlen, "%s", msg);
    int rc = 0;
    static const char *const tip_keys[2] = {"left_arm_tip", "right_arm_tip"};
    for (int s = 0; s < 2 && rc == 0; s++) {
        tp_chain chain;
        if (tp_sim_chain(sim, cfg->control.arm_base, cfg->control.arm_tip[s], &chain, msg, sizeof msg) != 0)
            rc = tp_config_error(file, "robot", strstr(msg, "base body") ? "arm_base" : tip_keys[s], err, errlen, "%s",
                                 msg);
    }
    bool vector = !strcmp(cfg->control.hand_method, "vector");
    if (rc == 0 && vector) {
        char urdf[4096];
        if (cfg->control.hand_urdf[0])
            snprintf(urdf, sizeof urdf, "%s", cfg->control.hand_urdf);
        else if (tp_find_data("devices/robot/models/g1_upper_body.urdf", urdf, sizeof urdf, msg, sizeof msg) != 0)
            rc = tp_config_error(file, "retarget", "hand_urdf", err, errlen, "%s", msg);
        for (int s = 0; s < 2 && rc == 0; s++) {
            tp_hand_vector_desc desc;
            if (tp_hand_vector_desc_dex3(urdf, s, &desc, msg, sizeof msg) != 0)
                rc = tp_config_error(file, "retarget", "hand_urdf", err, errlen, "%s", msg);
        }
    }
    if (rc == 0) {
        tp_controller *ctl = tp_controller_create_for_sim(sim, &cfg->control, &cfg->retarget, msg, sizeof msg);
        if (!ctl) {
            const char *key = strstr(msg, "left arm") ? "left_arm_tip" : strstr(msg, "right arm") ? "right_arm_tip" : NULL;
            rc = key ? tp_config_error(file, "robot", key, err, errlen, "%s", msg)
                 : vector ? tp_config_error(file, "retarget", "hand_urdf", err, errlen, "%s", msg)
                          : tp_config_error(file, "robot", "model", err, errlen, "%s", msg);
        }
        tp_controller_destroy(ctl);
    }
    for (int i = 0; i < cfg->camera_count && rc == 0; i++) {
        const tp_camera_params *d = &cfg->cameras[i].device;
        if (strcmp(d->driver, "sim") != 0 || tp_sim_has_camera(sim, d->source))
            continue;
        char buf[256];
        const char *sec = camera_key_section(file, d->name, "mjcf_camera", buf, sizeof buf);
        rc = tp_config_error(file, sec, tp_config_has(file, "camera.name") && !strcmp(sec, "camera") ? "name"
                                                                                                        : "mjcf_camera",
                             err, errlen, "camera '%s' is not in %s", d->source, cfg->model_path);
    }
    tp_sim_destroy(sim);
    /* A motion file played directly, or by the replay runtime (which also
     * plays an episode database: it reads that itself). */
    bool plays_motion = !strcmp(cfg->operator_source, "motion") ||
                        (!strcmp(cfg->operator_source, "xr") && !strcmp(cfg->xr_runtime, "replay"));
    if (rc == 0 && plays_motion && cfg->motion_path && !ends_with(cfg->motion_path, ".db")) {
        tp_motion *m = tp_motion_load(cfg->motion_path, msg, sizeof msg);
        if (!m)
            rc = tp_config_error(file, "operator", "motion", err, errlen, "%s", msg);
        tp_motion_free(m);
    }
    return rc;
}

/* ------------------------------------------------------------ write back */

char *tp_station_config_resolved_ini(const tp_session_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return NULL;
    const char *last = NULL;
    for (size_t t = 0; t < N(session_tables); t++) {
        const section_table *st = &session_tables[t];
        if (last && !strcmp(last, st->section)) { /* a second table of the same section: keys only */
            for (size_t i = 0; i < st->count; i++) {
                char *buf = malloc(TP_TASK_MAX_BYTES + 64);
                if (!buf)
                    break;
                tp_config_format_value(&st->keys[i], cfg, buf, TP_TASK_MAX_BYTES + 64);
                fprintf(out, st->keys[i].type == TP_CFG_TEXT || st->keys[i].type == TP_CFG_PATH ? "%s = \"%s\"\n"
                                                                                                 : "%s = %s\n",
                        st->keys[i].name, buf);
                free(buf);
            }
            continue;
        }
        if (last)
            fputc('\n', out);
        tp_config_write_keys(out, st->section, st->keys, st->count, cfg);
        last = st->section;
    }
    for (int i = 0; i < cfg->camera_count; i++) {
        camera_settings s;
        settings_from_camera(&s, &cfg->cameras[i]);
        char section[128];
        snprintf(section, sizeof section, "camera.%s", cfg->cameras[i].device.name);
        fputc('\n', out);
        tp_config_write_keys(out, section, camera_keys, N(camera_keys), &s);
    }
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ------------------------------------------------------------ docs */

void tp_station_config_doc(FILE *out)
{
    tp_session_config def;
    tp_session_default_config(&def);
    for (size_t t = 0; t < N(session_tables); t++) {
        const section_table *st = &session_tables[t];
        if (t > 0 && !strcmp(session_tables[t - 1].section, st->section))
            continue; /* written with the first table of its section */
        fprintf(out, "### [%s]\n\n", st->section);
        /* All tables of the section in one markdown table. */
        size_t total = 0;
        for (size_t u = t; u < N(session_tables) && !strcmp(session_tables[u].section, st->section); u++)
            total += session_tables[u].count;
        tp_config_key *keys = calloc(total, sizeof *keys);
        if (!keys)
            return;
        size_t k = 0;
        for (size_t u = t; u < N(session_tables) && !strcmp(session_tables[u].section, st->section); u++)
            for (size_t i = 0; i < session_tables[u].count; i++)
                keys[k++] = session_tables[u].keys[i];
        tp_config_doc_keys(out, keys, total, &def);
        free(keys);
        fputc('\n', out);
    }
    camera_settings cam;
    settings_from_camera(&cam, &def.cameras[0]);
    cam.mjcf_camera = "";
    fprintf(out, "### [camera.NAME] and [camera]\n\n");
    tp_config_key keys[N(camera_keys) + 1];
    memcpy(keys, camera_keys, sizeof camera_keys);
    keys[N(camera_keys)] = camera_name_key[0];
    tp_config_doc_keys(out, keys, N(keys), &cam);
}
