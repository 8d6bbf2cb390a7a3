/* The station config's key tables: every key applied, written back and read
 * again into the same configuration; every error one line naming file,
 * line, section and key (issue 10, items 15 and 17). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "teleop/camera.h"
#include "teleop/operator_device.h"
#include "teleop/session.h"
#include "teleop/station_config.h"

static const char *source_dir;

/* Applies text; the caller frees *file after the last look at cfg. */
static int apply(const char *text, const char *name, tp_session_config *cfg, tp_config **file, char *err,
                 size_t errlen)
{
    tp_session_default_config(cfg);
    *file = tp_config_parse(text, name, err, errlen);
    if (!*file)
        return -1;
    return tp_session_apply_config(cfg, *file, err, errlen);
}

/* text → config → INI → config → INI: both INI texts are the same. */
static void round_trip(const char *text)
{
    tp_session_config a, b;
    tp_config *fa, *fb;
    char err[1024];
    if (apply(text, "a.ini", &a, &fa, err, sizeof err) != 0)
        fail_msg("%s", err);
    char *ini_a = tp_station_config_resolved_ini(&a);
    assert_non_null(ini_a);
    if (apply(ini_a, "resolved.ini", &b, &fb, err, sizeof err) != 0)
        fail_msg("resolved config does not read back: %s\n%s", err, ini_a);
    char *ini_b = tp_station_config_resolved_ini(&b);
    assert_non_null(ini_b);
    if (strcmp(ini_a, ini_b) != 0)
        fail_msg("round trip differs:\n%s\n---\n%s", ini_a, ini_b);
    /* And the values themselves, beyond their text. */
    assert_true(a.duration_s == b.duration_s && a.control_hz == b.control_hz);
    assert_string_equal(a.task, b.task);
    assert_int_equal(a.camera_count, b.camera_count);
    for (int i = 0; i < a.camera_count; i++) {
        assert_string_equal(a.cameras[i].device.name, b.cameras[i].device.name);
        assert_int_equal(a.cameras[i].video.gop, b.cameras[i].video.gop);
        assert_int_equal(a.cameras[i].device.format, b.cameras[i].device.format);
    }
    assert_memory_equal(&a.control, &b.control, sizeof a.control);
    assert_memory_equal(&a.controls, &b.controls, sizeof a.controls);
    assert_memory_equal(&a.retarget.calibration, &b.retarget.calibration, sizeof a.retarget.calibration);
    assert_memory_equal(&a.workflow, &b.workflow, sizeof a.workflow);
    assert_string_equal(a.calibration_id, b.calibration_id);
    free(ini_a);
    free(ini_b);
    tp_config_free(fa);
    tp_config_free(fb);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_round_trip(void **state)
{
    (void)state;
    round_trip("");
    char path[4096];
    snprintf(path, sizeof path, "%s/config/station.ini", source_dir);
    round_trip(read_text(path));
    snprintf(path, sizeof path, "%s/config/three_cameras.ini", source_dir);
    round_trip(read_text(path));
    /* Text with every awkward byte a value may hold: quotes, '#', ';', edge
     * blanks, CJK; bindings, enums, the legacy single camera. */
    round_trip("[session]\ntask = \"  \"pick\" # the \xE7\xBA\xA2 cube; ok  \"\nduration = 0.1234567890123\n"
               "operator = alice-2\n[controls]\nclutch = always\nrecord_start = left.trigger+right.trigger hold 0.5\n"
               "emergency = none\n[operator]\nsource = replay\nrate_hz = 33.3\n[camera]\nname = front\nfps = 29.97\n"
               "driver = pattern\nformat = mjpeg\ncodec = mjpeg\n[safety]\nworkspace_min_x = -0.25\n"
               "[recording]\nepisodes = 0\nauto_start = false\n[retarget]\nhand_method = vector\n");
    /* A calibration file, and keys beside it. */
    char cal[] = "/tmp/teleop-cal-XXXXXX";
    int fd = mkstemp(cal);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("[calibration]\nid = \"bob-1\"\noperator = \"bob\"\nscale = 0.8\nxr_anchor_y = 1.7\n", f);
    fclose(f);
    char text[512];
    snprintf(text, sizeof text, "[calibration]\nfile = %s\nrobot_anchor_z = 0.5\n", cal);
    round_trip(text);
    tp_session_config c;
    tp_config *file;
    char err[512];
    assert_int_equal(apply(text, "c.ini", &c, &file, err, sizeof err), 0);
    assert_string_equal(c.calibration_id, "bob-1");
    assert_true(c.retarget.calibration.scale == 0.8 && c.retarget.calibration.robot_anchor.z == 0.5);
    tp_config_free(file);
    unlink(cal);
}

static void expect_error(const char *text, const char *want)
{
    tp_session_config cfg;
    tp_config *file = NULL;
    char err[1024] = "";
    assert_int_equal(apply(text, "st.ini", &cfg, &file, err, sizeof err), -1);
    tp_config_free(file);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    if (strchr(err, '\n'))
        fail_msg("error is not one line: '%s'", err);
}

/* Item 17: every key's error names file, line, section and key on one line. */
static void test_errors(void **state)
{
    (void)state;
    char cwd[2048], want[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    expect_error("[sesion]\nduration = 1\n", "st.ini:1: [sesion]: unknown section");
    expect_error("[session]\n\nduration = 86401\n", "st.ini:3: [session] duration: 86401 is out of range [0.001, 86400]");
    expect_error("[session]\nduration = nan\n", "st.ini:2: [session] duration: expected a number, got 'nan'");
    expect_error("[session]\nduration = 1e400\n", "st.ini:2: [session] duration: expected a number");
    expect_error("[robot]\nmodel = nope.xml\n", "st.ini:2: [robot] model: ");
    snprintf(want, sizeof want, "st.ini:2: [robot] model: %s/nope.xml: No such file or directory", cwd);
    expect_error("[robot]\nmodel = nope.xml\n", want);
    expect_error("[robot]\nmodel = /tmp\n", "st.ini:2: [robot] model: /tmp: not a regular file");
    expect_error("[operator]\nmotion = /no/motion.csv\n",
                 "st.ini:2: [operator] motion: /no/motion.csv: No such file or directory");
    expect_error("[operator]\nxr_replay_script = /no/script.txt\n",
                 "st.ini:2: [operator] xr_replay_script: /no/script.txt: No such file or directory");
    expect_error("[retarget]\nhand_urdf = /no/hand.urdf\n",
                 "st.ini:2: [retarget] hand_urdf: /no/hand.urdf: No such file or directory");
    expect_error("[operator]\nsource = glove\n", "st.ini:2: [operator] source: 'glove' is not one of xr, motion");
    expect_error("[operator]\nxr_runtime = steam\n", "st.ini:2: [operator] xr_runtime: 'steam' is not one of");
    char long_link[200] = "[robot]\nleft_arm_tip = ";
    memset(long_link + strlen(long_link), 'l', 64);
    strcat(long_link, "\n");
    expect_error(long_link, "st.ini:2: [robot] left_arm_tip: 64 bytes, the limit is 63");
    char long_cam[200] = "[camera.a]\nmjcf_camera = ";
    memset(long_cam + strlen(long_cam), 'c', 64);
    strcat(long_cam, "\n");
    expect_error(long_cam, "st.ini:2: [camera.a] mjcf_camera: 64 bytes, the limit is 63");
    expect_error("[camera]\npreset = turbo\n", "st.ini:2: [camera] preset: 'turbo' is not one of ultrafast");
    expect_error("[controls]\nemergency = left.q\n", "st.ini:2: [controls] emergency: ");
    expect_error("[controls]\nemergency = right.a\n",
                 "st.ini:2: [controls] emergency: controls.record_start and controls.emergency are bound");
    expect_error("[safety]\nworkspace_max_y = -0.7\n",
                 "st.ini:2: [safety] workspace_max_y: workspace_min_y (-0.6) must be below workspace_max_y (-0.7)");
    expect_error("[safety]\nworkspace_min_z = 2\n", "st.ini:2: [safety] workspace_min_z: workspace_min_z (2) must");
    expect_error("[session]\noperator = a\xC3\xA9\n", "st.ini:2: [session] operator: 'a\xC3\xA9' is not a name");
    expect_error("[session]\noperator = -rf\n", "st.ini:2: [session] operator: '-rf' is not a name: starts with '-'");
    expect_error("[session]\noperator = a#b\n", "st.ini:2: [session] operator: 'a#b' is not a name");
    expect_error("[session]\nrecord = 2\n", "st.ini:2: [session] record: expected true or false, got '2'");
    expect_error("[recording]\nepisodes = -1\n", "st.ini:2: [recording] episodes: -1 is out of range [0, 1000000]");
    expect_error("[session]\ntask = a\x01" "b\n", "st.ini:2: control character (byte 0x01)");
    expect_error("[calibration]\nscale = 0\n", "st.ini:2: [calibration] scale: 0 is out of range [0.1, 10]");
    char bad_cal[] = "/tmp/teleop-badcal-XXXXXX";
    int fd = mkstemp(bad_cal);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "[calibration]\nscale = x\n", 24), 24);
    close(fd);
    char text[256];
    snprintf(text, sizeof text, "[calibration]\nfile = %s\n", bad_cal);
    snprintf(want, sizeof want, "st.ini:2: [calibration] file: %s:2: [calibration] scale: expected a number", bad_cal);
    expect_error(text, want);
    unlink(bad_cal);
    /* Task text beyond the limit (item 1). */
    char *big = malloc(5000);
    strcpy(big, "[session]\ntask = ");
    memset(big + strlen(big), 'x', 4097);
    big[17 + 4097] = '\0';
    expect_error(big, "st.ini:2: [session] task: 4097 bytes, the limit is 4096");
    free(big);
}

/* [unitree] maps onto tp_session_config.unitree and writes back the same. */
static void test_unitree_section(void **state)
{
    (void)state;
    const char *text = "[robot]\nlink = unitree\n[unitree]\ndomain = 7\ninterface = enp3s0\nstate_timeout_ms = 12.5\n"
                       "weight_ramp_s = 2\nhand_rate_hz = 0\narm_kp = 20\narm_kd = 1\nwrist_kp = 10\nwrist_kd = 0.5\n"
                       "hand_kp = 0.75\nhand_kd = 0.1\ngravity_feed_forward = false\n";
    round_trip(text);
    tp_session_config c;
    tp_config *file;
    char err[512];
    assert_int_equal(apply(text, "u.ini", &c, &file, err, sizeof err), 0);
    const tp_unitree_link_config *u = &c.unitree;
    assert_string_equal(c.robot_link, "unitree");
    assert_int_equal(u->domain_id, 7);
    assert_string_equal(u->interface, "enp3s0");
    assert_true(u->state_timeout_ms == 12.5 && u->weight_ramp_s == 2 && u->hand_rate_hz == 0);
    assert_true(u->arm_kp == 20 && u->arm_kd == 1 && u->wrist_kp == 10 && u->wrist_kd == 0.5);
    assert_true(u->hand_kp == 0.75 && u->hand_kd == 0.1 && !u->gravity_feed_forward);
    tp_config_free(file);
    expect_error("[unitree]\nstate_timeout_ms = 0\n", "st.ini:2: [unitree] state_timeout_ms: 0 is out of range");
    expect_error("[unitree]\n\ndomain = 233\n", "st.ini:3: [unitree] domain: ");
    expect_error("[unitree]\ngravity_feed_forward = maybe\n", "st.ini:2: [unitree] gravity_feed_forward: ");
}

/* [glove.left] / [glove.right]: values, the calibration file loaded (its id
 * kept for the episode's meta), the default calibration without one, and
 * errors naming file, line and key. */
static void test_glove_sections(void **state)
{
    (void)state;
    char cal_path[] = "/tmp/teleop-glovecal-XXXXXX";
    int fd = mkstemp(cal_path);
    assert_true(fd >= 0);
    close(fd);
    tp_glove_calibration cal;
    tp_glove_default_calibration(&cal, 4095);
    snprintf(cal.id, sizeof cal.id, "op7-right");
    cal.curl_open[1] = 300;
    cal.curl_closed[1] = 3800;
    char err[512];
    if (tp_glove_calibration_save(cal_path, &cal, err, sizeof err) != 0)
        fail_msg("%s", err);
    char text[512];
    snprintf(text, sizeof text,
             "[glove.right]\nport = /dev/ttyACM1\nbaud = 230400\nmax_value = 4095\ntimeout_ms = 250\n"
             "calibration = %s\n[glove.left]\nport = /dev/pts/4\n", cal_path);
    round_trip(text);
    tp_session_config c;
    tp_config *file;
    assert_int_equal(apply(text, "g.ini", &c, &file, err, sizeof err), 0);
    assert_string_equal(c.gloves[1].driver, "opengloves");
    assert_string_equal(c.gloves[1].port, "/dev/ttyACM1");
    assert_int_equal(c.gloves[1].baud, 230400);
    assert_int_equal(c.gloves[1].max_value, 4095);
    assert_int_equal(c.gloves[1].timeout_ms, 250);
    assert_string_equal(c.gloves[1].calibration.id, "op7-right");
    assert_int_equal(c.gloves[1].calibration.curl_open[1], 300);
    assert_int_equal(c.gloves[1].calibration.curl_closed[1], 3800);
    assert_string_equal(c.gloves[0].port, "/dev/pts/4");
    assert_int_equal(c.gloves[0].baud, 115200);
    assert_int_equal(c.gloves[0].timeout_ms, 100);
    assert_string_equal(c.gloves[0].calibration.id, "default");
    tp_config_free(file);
    tp_session_default_config(&c); /* no sections: no gloves */
    assert_string_equal(c.gloves[0].port, "");
    assert_string_equal(c.gloves[1].port, "");
    expect_error("[glove.right]\nport = /dev/ttyACM0\nmax_value = 1000\n",
                 "st.ini:3: [glove.right] max_value: 1000 is not 0 (learn), 1023 or 4095");
    expect_error("[glove.left]\ndriver = steamvr\n", "st.ini:2: [glove.left] driver: 'steamvr' is not one of opengloves");
    expect_error("[glove.left]\ntimeout_ms = 5\n", "st.ini:2: [glove.left] timeout_ms: 5 is out of range");
    expect_error("[glove.left]\ncalibration = /no/glove.ini\n",
                 "st.ini:2: [glove.left] calibration: /no/glove.ini: No such file or directory");
    expect_error("[glove.middle]\nport = x\n", "st.ini:1: [glove.middle]: unknown section");
    fd = open(cal_path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "[glove]\nbogus = 1\n", 19), 19);
    close(fd);
    snprintf(text, sizeof text, "[glove.right]\ncalibration = %s\n", cal_path);
    char want[600];
    snprintf(want, sizeof want, "st.ini:2: [glove.right] calibration: %s", cal_path);
    expect_error(text, want);
    unlink(cal_path);
}

/* The tables' choices are the registries' names. */
static void test_registries(void **state)
{
    (void)state;
    tp_session_config cfg;
    tp_config *file;
    char err[1024], text[256];
    assert_int_equal(apply("[camera.a]\ndriver = zzz\n", "r.ini", &cfg, &file, err, sizeof err), -1);
    tp_config_free(file);
    snprintf(text, sizeof text, "is not one of %s", tp_camera_driver_names());
    if (!strstr(err, text))
        fail_msg("'%s' lacks '%s'", err, text);
    /* Every registered operator device is a choice, and every choice but the
     * old name 'replay' is registered. */
    char names[256];
    /* Every registered robot link is a [robot] link choice. */
    snprintf(names, sizeof names, "%s", tp_robot_link_names());
    for (char *save = NULL, *n = strtok_r(names, ", ", &save); n; n = strtok_r(NULL, ", ", &save)) {
        snprintf(text, sizeof text, "[robot]\nlink = %s\n", n);
        if (apply(text, "r.ini", &cfg, &file, err, sizeof err) != 0)
            fail_msg("%s", err);
        tp_config_free(file);
    }
    snprintf(names, sizeof names, "%s", tp_operator_device_names());
    for (char *save = NULL, *n = strtok_r(names, ", ", &save); n; n = strtok_r(NULL, ", ", &save)) {
        snprintf(text, sizeof text, "[operator]\nsource = %s\n", n);
        if (apply(text, "r.ini", &cfg, &file, err, sizeof err) != 0)
            fail_msg("%s", err);
        tp_config_free(file);
    }
    assert_int_equal(apply("[operator]\nsource = zzz\n", "r.ini", &cfg, &file, err, sizeof err), -1);
    tp_config_free(file);
    char *list = strstr(err, "is not one of ") + strlen("is not one of ");
    for (char *save = NULL, *n = strtok_r(list, ", ", &save); n; n = strtok_r(NULL, ", ", &save))
        if (strcmp(n, "replay") != 0 && !tp_operator_device_find(n))
            fail_msg("operator.source choice '%s' is not a registered device", n);
}

/* [xr] layout of the headset view: each key's default, values read into
 * tp_session_config.xr_layout and written back the same, and each error one
 * line naming file, line and key. */
static void test_xr_layout(void **state)
{
    (void)state;
    tp_session_config c;
    tp_session_default_config(&c); /* the defaults, where the session config's are set */
    const tp_xr_view_layout *l = &c.xr_layout;
    assert_string_equal(l->head_camera, "");
    assert_string_equal(l->stereo_cameras[0], "");
    assert_string_equal(l->stereo_cameras[1], "");
    assert_string_equal(l->wrist_cameras[0], "");
    assert_string_equal(l->wrist_cameras[1], "");
    assert_false(l->world_locked);
    assert_true(l->distance_m == 1.0 && l->width_m == 1.2);
    assert_true(l->wrist_panels);
    assert_false(l->mirror);
    round_trip("");
    char *ini = tp_station_config_resolved_ini(&c);
    assert_non_null(ini);
    assert_non_null(strstr(ini, "\npanel_lock = head\n"));
    assert_non_null(strstr(ini, "\nwrist_panels = true\n"));
    assert_non_null(strstr(ini, "\nmirror = false\n"));
    free(ini);

    const char *cams = "[camera.head]\ndriver = pattern\n[camera.eye_l]\ndriver = pattern\n[camera.eye_r]\n"
                       "driver = pattern\n[camera.left_wrist]\ndriver = pattern\n[camera.right_wrist]\n"
                       "driver = pattern\n";
    char text[1024];
    snprintf(text, sizeof text,
             "%s[xr]\nview = headset\nhead_camera = head\nstereo_cameras = eye_l, eye_r\n"
             "wrist_cameras = left_wrist,right_wrist\npanel_lock = world\npanel_distance = 0.75\n"
             "panel_width = 2.5\nwrist_panels = false\nmirror = true\n",
             cams);
    round_trip(text);
    tp_config *file;
    char err[1024];
    if (apply(text, "x.ini", &c, &file, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.xr_view, "headset");
    assert_string_equal(l->head_camera, "head");
    assert_string_equal(l->stereo_cameras[0], "eye_l");
    assert_string_equal(l->stereo_cameras[1], "eye_r");
    assert_string_equal(l->wrist_cameras[0], "left_wrist");
    assert_string_equal(l->wrist_cameras[1], "right_wrist");
    assert_true(l->world_locked);
    assert_true(l->distance_m == 0.75 && l->width_m == 2.5);
    assert_false(l->wrist_panels);
    assert_true(l->mirror);
    ini = tp_station_config_resolved_ini(&c);
    assert_non_null(strstr(ini, "\nstereo_cameras = eye_l,eye_r\n"));
    assert_non_null(strstr(ini, "\npanel_lock = world\n"));
    free(ini);
    tp_config_free(file);

    /* One wrist only, either side; the mono head view on the default (first) camera. */
    snprintf(text, sizeof text, "%s[xr]\nwrist_cameras = ,right_wrist\n", cams);
    round_trip(text);
    if (apply(text, "x.ini", &c, &file, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(l->wrist_cameras[0], "");
    assert_string_equal(l->wrist_cameras[1], "right_wrist");
    ini = tp_station_config_resolved_ini(&c);
    assert_non_null(strstr(ini, "\nwrist_cameras = ,right_wrist\n"));
    free(ini);
    tp_config_free(file);
    snprintf(text, sizeof text, "%s[xr]\nwrist_cameras = left_wrist,\n", cams);
    round_trip(text);
    if (apply(text, "x.ini", &c, &file, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(l->wrist_cameras[0], "left_wrist");
    assert_string_equal(l->wrist_cameras[1], "");
    tp_config_free(file);
    /* Without [camera.NAME] sections the single camera is the default head_camera. */
    if (apply("[xr]\nhead_camera = head_camera\n", "x.ini", &c, &file, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(l->head_camera, "head_camera");
    tp_config_free(file);

    /* Errors: ranges and choices. */
    expect_error("[xr]\npanel_lock = hand\n", "st.ini:2: [xr] panel_lock: 'hand' is not one of head, world");
    expect_error("[xr]\npanel_distance = 0.1\n", "st.ini:2: [xr] panel_distance: 0.1 is out of range [0.2, 10]");
    expect_error("[xr]\npanel_distance = 11\n", "st.ini:2: [xr] panel_distance: 11 is out of range [0.2, 10]");
    expect_error("[xr]\npanel_width = 0.05\n", "st.ini:2: [xr] panel_width: 0.05 is out of range [0.1, 5]");
    expect_error("[xr]\npanel_width = 6\n", "st.ini:2: [xr] panel_width: 6 is out of range [0.1, 5]");
    expect_error("[xr]\nwrist_panels = some\n", "st.ini:2: [xr] wrist_panels: expected true or false, got 'some'");
    expect_error("[xr]\nmirror = 2\n", "st.ini:2: [xr] mirror: expected true or false, got '2'");
    expect_error("[xr]\nhead_camera = a b\n", "st.ini:2: [xr] head_camera: 'a b' is not a name");
    /* Names that are no configured camera. */
    expect_error("[xr]\nhead_camera = front\n",
                 "st.ini:2: [xr] head_camera: 'front' is not a configured camera (cameras: head_camera)");
    snprintf(text, sizeof text, "%s[xr]\n\nstereo_cameras = eye_l,eye_x\n", cams);
    expect_error(text, "st.ini:13: [xr] stereo_cameras: 'eye_x' is not a configured camera (cameras: head, eye_l, "
                       "eye_r, left_wrist, right_wrist)");
    snprintf(text, sizeof text, "%s[xr]\nwrist_cameras = ,hand\n", cams);
    expect_error(text, "st.ini:12: [xr] wrist_cameras: 'hand' is not a configured camera");
    /* Stereo: exactly two distinct names. */
    expect_error("[xr]\nstereo_cameras = eye_l\n",
                 "st.ini:2: [xr] stereo_cameras: 'eye_l' is not LEFT,RIGHT (two camera names and one comma)");
    expect_error("[xr]\nstereo_cameras = a,b,c\n", "st.ini:2: [xr] stereo_cameras: 'a,b,c' is not LEFT,RIGHT");
    expect_error("[xr]\nstereo_cameras = eye_l,\n",
                 "st.ini:2: [xr] stereo_cameras: 'eye_l,': stereo needs two cameras, LEFT,RIGHT");
    expect_error("[xr]\nstereo_cameras = eye_l,eye_l\n",
                 "st.ini:2: [xr] stereo_cameras: 'eye_l,eye_l' names the same camera twice");
    expect_error("[xr]\nstereo_cameras = eye_l,-x\n", "st.ini:2: [xr] stereo_cameras: '-x' is not a camera name");
    expect_error("[xr]\nwrist_cameras = a;b\n", "st.ini:2: [xr] wrist_cameras: 'a;b' is not LEFT,RIGHT (two camera names and one comma; a side may be empty)");
    expect_error("[xr]\nwrist_cameras = w,w\n", "st.ini:2: [xr] wrist_cameras: 'w,w' names the same camera twice");
    /* A camera on a wrist panel and in the head view. */
    snprintf(text, sizeof text, "%s[xr]\nstereo_cameras = eye_l,eye_r\nwrist_cameras = eye_r,\n", cams);
    expect_error(text, "st.ini:13: [xr] wrist_cameras: 'eye_r' is a stereo camera too (stereo_cameras)");
    snprintf(text, sizeof text, "%s[xr]\nhead_camera = left_wrist\nwrist_cameras = left_wrist,\n", cams);
    expect_error(text, "st.ini:13: [xr] wrist_cameras: 'left_wrist' is the head camera too (head_camera)");
    snprintf(text, sizeof text, "%s[xr]\nwrist_cameras = ,head\n", cams);
    expect_error(text,
                 "st.ini:12: [xr] wrist_cameras: 'head' is the head camera too (head_camera empty: the first camera)");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOURCE_DIR\n", argv[0]);
        return 2;
    }
    source_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_registries),
        cmocka_unit_test(test_unitree_section),
        cmocka_unit_test(test_glove_sections),
        cmocka_unit_test(test_xr_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
