/* USB plugs and unplugs during a real session (simulated humanoid, bundled
 * motion, episode recorded): the session's test hook makes the report the
 * USB monitor's callback makes (the hardware boundary: a real plug is not
 * exercised in CI) for a CP2102N bridge plugged 0.5 s after the start and
 * unplugged at 1.0 s. The episode holds usb_device_added then
 * usb_device_removed, stamped at those times, with the device's ids, port
 * path and product in the detail; the episode passes teleop check's
 * checks (tp_episode_check).
 * Usage: test_usb_session MODEL.xml MOTION.csv */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/episode.h"
#include "teleop/session.h"
#include "teleop/usb.h"

static const char *model_path, *motion_path;

#define PLUG_AT_S 0.5
#define UNPLUG_AT_S 1.0

typedef struct seen {
    int added, removed;
    int64_t added_t, removed_t;
    char added_detail[128], removed_detail[128];
} seen;

static int on_event(const tp_episode_event *ev, void *user)
{
    seen *s = user;
    if (strcmp(ev->kind, "usb_device_added") == 0) {
        s->added++;
        s->added_t = ev->t_ns;
        snprintf(s->added_detail, sizeof s->added_detail, "%s", ev->detail ? ev->detail : "");
    } else if (strcmp(ev->kind, "usb_device_removed") == 0) {
        s->removed++;
        s->removed_t = ev->t_ns;
        snprintf(s->removed_detail, sizeof s->removed_detail, "%s", ev->detail ? ev->detail : "");
    }
    return 0;
}

static void test_plug_unplug_events(void **state)
{
    (void)state;
    char dir[] = "/tmp/teleop-usbsession-XXXXXX";
    assert_non_null(mkdtemp(dir));
    tp_usb_device bridge;
    memset(&bridge, 0, sizeof bridge);
    bridge.vid = 0x10c4;
    bridge.pid = 0xea60;
    bridge.bus = 1;
    bridge.address = 7;
    snprintf(bridge.port_path, sizeof bridge.port_path, "usb:1-4.2");
    snprintf(bridge.product, sizeof bridge.product, "CP2102N USB to UART Bridge Controller");
    tp_usb_classify(&bridge);

    tp_session_config cfg;
    tp_session_default_config(&cfg);
    assert_true(cfg.usb_monitor); /* on by default */
    cfg.duration_s = 1.5;
    cfg.model_path = model_path;
    cfg.motion_path = motion_path;
    cfg.operator_source = "motion";
    cfg.out_dir = dir;
    cfg.cameras[0].device.width = cfg.cameras[0].video.width = 160;
    cfg.cameras[0].device.height = cfg.cameras[0].video.height = 120;
    cfg.cameras[0].device.fps = cfg.cameras[0].video.fps = 10;
    cfg.cameras[0].video.gop = 10;
    cfg.test_usb_device = &bridge;
    cfg.test_usb_plug_at_s = PLUG_AT_S;
    cfg.test_usb_unplug_at_s = UNPLUG_AT_S;
    tp_session_stats st;
    char err[1024];
    if (tp_session_run(&cfg, NULL, &st, err, sizeof err) != 0)
        fail_msg("%s", err);

    assert_int_equal(tp_episode_check(st.episode_path, stderr), 0);
    tp_episode *ep = tp_episode_open(st.episode_path, err, sizeof err);
    if (!ep)
        fail_msg("%s", err);
    const int64_t t0 = atoll(tp_episode_meta(ep, "start_t_ns"));
    seen s = {0};
    assert_int_equal(tp_episode_events(ep, on_event, &s), 0);
    tp_episode_close(ep);
    printf("added at %.3f s: %s\nremoved at %.3f s: %s\n", (double)(s.added_t - t0) / 1e9, s.added_detail,
           (double)(s.removed_t - t0) / 1e9, s.removed_detail);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.removed, 1);
    assert_string_equal(s.added_detail, "10c4:ea60 usb:1-4.2 CP2102N USB to UART Bridge Controller");
    assert_string_equal(s.removed_detail, s.added_detail);
    /* Stamped when reported: not before the hook's time, and (a busy
     * machine's scheduling aside) well before the next one. */
    assert_true(s.added_t >= t0 + (int64_t)(PLUG_AT_S * 1e9));
    assert_true(s.added_t < t0 + (int64_t)(UNPLUG_AT_S * 1e9));
    assert_true(s.removed_t >= t0 + (int64_t)(UNPLUG_AT_S * 1e9));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The real monitor (libusb; or off with one info line where USB is not
 * accessible) starts and stops with the session and, with nothing plugged
 * or unplugged meanwhile, adds no event: the devices present at the start
 * are the baseline, not plugs. */
static void test_real_monitor_quiet(void **state)
{
    (void)state;
    char dir[] = "/tmp/teleop-usbsession-XXXXXX";
    assert_non_null(mkdtemp(dir));
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    cfg.duration_s = 1.0;
    cfg.model_path = model_path;
    cfg.motion_path = motion_path;
    cfg.operator_source = "motion";
    cfg.out_dir = dir;
    cfg.cameras[0].device.width = cfg.cameras[0].video.width = 160;
    cfg.cameras[0].device.height = cfg.cameras[0].video.height = 120;
    cfg.cameras[0].device.fps = cfg.cameras[0].video.fps = 10;
    cfg.cameras[0].video.gop = 10;
    tp_session_stats st;
    char err[1024];
    if (tp_session_run(&cfg, NULL, &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    tp_episode *ep = tp_episode_open(st.episode_path, err, sizeof err);
    if (!ep)
        fail_msg("%s", err);
    seen s = {0};
    assert_int_equal(tp_episode_events(ep, on_event, &s), 0);
    tp_episode_close(ep);
    assert_int_equal(s.added, 0);
    assert_int_equal(s.removed, 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.xml MOTION.csv\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    motion_path = argv[2];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_plug_unplug_events),
                                       cmocka_unit_test(test_real_monitor_quiet)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
