/* teleop xr-probe — what the OpenXR runtime offers and what it tracks. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "teleop/clock.h"
#include "teleop/paths.h"
#include "teleop/xr.h"

static const char usage[] =
    "usage: teleop xr-probe [--runtime system|replay] [--source FILE] [--seconds S]\n"
    "\n"
    "Lists the OpenXR runtime (name, version), the system (name, vendor, tracking\n"
    "properties), the instance extensions, the reference spaces, the interaction\n"
    "profiles and what is tracked (head, hands, controllers) over a few seconds of a\n"
    "headless session, then ends the session cleanly.\n"
    "\n"
    "  --runtime system   the runtime the OpenXR loader selects (default: the active\n"
    "                     runtime, or XR_RUNTIME_JSON)\n"
    "  --runtime replay   teleop's bundled replay runtime\n"
    "  --source FILE      what the replay runtime plays (default: the bundled demo motion)\n"
    "  --seconds S        how long to watch the devices (default 3)\n"
    "\n"
    "Exit status: 0 when a session ran, 1 when no runtime, no headset or a failure, 2 usage.\n";

typedef struct part_stats {
    long frames, tracked;
} part_stats;

static void print_pose(const char *label, tp_pose p)
{
    printf("    %-18s p = (%+.3f, %+.3f, %+.3f) m, q = (%+.3f, %+.3f, %+.3f, %+.3f)\n", label, p.p.x, p.p.y, p.p.z,
           p.q.x, p.q.y, p.q.z, p.q.w);
}

static void print_events(const tp_xr_event *ev, int n, int64_t t0)
{
    for (int i = 0; i < n; i++)
        printf("  %7.3f s  %s %s\n", (double)(ev[i].t_ns - t0) / 1e9, ev[i].kind, ev[i].detail);
}

int cmd_xr_probe(int argc, char **argv)
{
    const char *sub = "xr-probe";
    const char *runtime = "system", *source = NULL;
    double seconds = 3;
    static const struct option opts[] = {{"runtime", required_argument, NULL, 'r'},
                                         {"source", required_argument, NULL, 's'},
                                         {"seconds", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': runtime = optarg; break;
        case 's': source = optarg; break;
        case 't': {
            char *end;
            seconds = strtod(optarg, &end);
            if (*end || !(seconds > 0 && seconds <= 3600))
                return cli_usage_error(sub, "--seconds: '%s' is not a time between 0 and 3600 s", optarg);
            break;
        }
        case 'h': fputs(usage, stdout); return 0;
        default: return cli_usage_error(sub, "see 'teleop xr-probe --help'");
        }
    }
    if (optind < argc)
        return cli_usage_error(sub, "unexpected argument '%s'", argv[optind]);
    char err[1024];
    if (strcmp(runtime, "replay") == 0) {
        char motion[4096];
        if (!source) {
            if (tp_find_data("motions/demo_motion.csv", motion, sizeof motion, err, sizeof err) != 0 &&
                tp_find_data("src/tools/demo_motion.csv", motion, sizeof motion, err, sizeof err) != 0) {
                fprintf(stderr, "teleop %s: %s\n", sub, err);
                return 1;
            }
            source = motion;
        }
        if (tp_xr_use_replay_runtime(source, true, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "teleop %s: %s\n", sub, err);
            return 1;
        }
    } else if (strcmp(runtime, "system") != 0) {
        return cli_usage_error(sub, "--runtime: '%s' is neither 'system' nor 'replay'", runtime);
    } else if (source) {
        return cli_usage_error(sub, "--source applies to --runtime replay only");
    }

    tp_xr_config xc;
    tp_xr_default_config(&xc);
    tp_xr *xr = tp_xr_create(&xc, err, sizeof err);
    if (!xr) {
        fprintf(stderr, "teleop %s: %s\n", sub, err);
        return 1;
    }
    const tp_xr_info *in = tp_xr_get_info(xr);
    printf("runtime: %s %s\n", in->runtime_name, in->runtime_version);
    printf("system: %s (vendor 0x%04x); orientation tracking %s, position tracking %s; max layers %u\n",
           in->system_name, in->vendor_id, in->orientation_tracking ? "yes" : "no",
           in->position_tracking ? "yes" : "no", in->max_layers);
    printf("hand tracking: %s\n", in->hand_tracking_supported ? "supported (XR_EXT_hand_tracking)" : "not available");
    printf("time conversion: %s\n",
           in->timespec_conversion ? "XR_KHR_convert_timespec_time (frames stamped at their display time)"
                                   : "not available (frames stamped when received)");
    printf("instance extensions (%d; * = enabled by teleop):\n", in->extension_count);
    for (int i = 0; i < in->extension_count; i++)
        printf("  %c %s v%u\n", in->extensions[i].enabled ? '*' : ' ', in->extensions[i].name,
               in->extensions[i].version);
    printf("reference spaces:");
    for (int i = 0; i < in->space_count; i++)
        printf(" %s", in->spaces[i]);
    printf(" (operator frame in %s)\n", in->base_space);

    printf("session events:\n");
    tp_xr_event ev[32];
    tp_operator_frame f, last;
    memset(&last, 0, sizeof last);
    part_stats head = {0, 0}, hands[2] = {{0, 0}, {0, 0}}, ctrl[2] = {{0, 0}, {0, 0}};
    long joints_valid[2] = {0, 0};
    long frames = 0;
    int64_t t0 = tp_now_ns(), first_frame = 0, last_frame = 0;
    const int64_t watch_end = t0 + (int64_t)llround(seconds * 1e9);
    /* Up to 5 s for the runtime to start the session, then the watch. */
    const int64_t start_deadline = t0 + 5000000000LL;
    int rc = 0, n;
    bool ended = false;
    for (;;) {
        int64_t now = tp_now_ns();
        if ((frames > 0 && now >= watch_end + (first_frame - t0)) || (frames == 0 && now > start_deadline))
            break;
        int st = tp_xr_poll(xr, &f, ev, 32, &n, err, sizeof err);
        print_events(ev, n, t0);
        if (st == TP_XR_ERROR) {
            fprintf(stderr, "teleop %s: %s\n", sub, err);
            rc = 1;
            break;
        }
        if (st == TP_XR_ENDED) {
            ended = true;
            break;
        }
        if (st != TP_XR_FRAME)
            continue;
        if (!frames)
            first_frame = f.t_ns;
        last_frame = f.t_ns;
        frames++;
        head.frames++;
        head.tracked += f.head_valid;
        for (int s = 0; s < 2; s++) {
            hands[s].frames++;
            hands[s].tracked += f.hand[s].active;
            for (int j = 0; j < TP_HAND_JOINT_COUNT; j++)
                joints_valid[s] += f.hand[s].active && f.hand[s].joints[j].valid;
            ctrl[s].frames++;
            ctrl[s].tracked += f.ctrl[s].active && f.ctrl[s].grip_valid;
        }
        last = f;
    }
    if (rc == 0 && frames == 0 && !ended) {
        fprintf(stderr, "teleop %s: the session did not start within 5 s (state %s)\n", sub,
                tp_xr_session_state(xr));
        rc = 1;
    }
    if (frames > 0) {
        printf("interaction profiles: left %s, right %s\n",
               tp_xr_interaction_profile(xr, TP_LEFT)[0] ? tp_xr_interaction_profile(xr, TP_LEFT) : "none",
               tp_xr_interaction_profile(xr, TP_RIGHT)[0] ? tp_xr_interaction_profile(xr, TP_RIGHT) : "none");
        double span = (double)(last_frame - first_frame) / 1e9;
        printf("tracked devices over %.2f s (%ld frames, %.1f Hz):\n", span, frames,
               span > 0 ? (double)(frames - 1) / span : 0.0);
        printf("  head              tracked %5.1f %%\n", 100.0 * (double)head.tracked / (double)head.frames);
        for (int s = 0; s < 2; s++)
            printf("  %-17s active  %5.1f %%, joints valid %5.1f %%\n", s ? "right_hand" : "left_hand",
                   100.0 * (double)hands[s].tracked / (double)hands[s].frames,
                   100.0 * (double)joints_valid[s] / (double)(hands[s].frames * TP_HAND_JOINT_COUNT));
        for (int s = 0; s < 2; s++)
            printf("  %-17s tracked %5.1f %%; last: trigger %.2f, squeeze %.2f, stick (%+.2f, %+.2f), buttons%s%s%s%s\n",
                   s ? "right_controller" : "left_controller", 100.0 * (double)ctrl[s].tracked / (double)ctrl[s].frames,
                   last.ctrl[s].trigger, last.ctrl[s].squeeze, last.ctrl[s].stick[0], last.ctrl[s].stick[1],
                   last.ctrl[s].buttons & TP_BTN_A ? " A/X" : "", last.ctrl[s].buttons & TP_BTN_B ? " B/Y" : "",
                   last.ctrl[s].buttons & TP_BTN_MENU ? " menu" : "", last.ctrl[s].buttons ? "" : " none");
        printf("  last frame:\n");
        if (last.head_valid)
            print_pose("head", last.head);
        for (int s = 0; s < 2; s++) {
            if (last.hand[s].active)
                print_pose(s ? "right wrist" : "left wrist", last.hand[s].joints[TP_HJ_WRIST].pose);
            if (last.ctrl[s].grip_valid)
                print_pose(s ? "right grip" : "left grip", last.ctrl[s].grip);
        }
    }
    if (!ended) {
        /* End the session the way a runtime expects: request, follow
         * STOPPING → xrEndSession → EXITING (at most 2 s). */
        tp_xr_request_exit(xr);
        int64_t deadline = tp_now_ns() + 2000000000LL;
        while (tp_now_ns() < deadline) {
            int st = tp_xr_poll(xr, &f, ev, 32, &n, err, sizeof err);
            print_events(ev, n, t0);
            if (st == TP_XR_ENDED || st == TP_XR_ERROR)
                break;
        }
    }
    printf("session: %s\n", tp_xr_session_state(xr));
    tp_xr_destroy(xr);
    return rc;
}
