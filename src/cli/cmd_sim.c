/* teleop sim --dds — the simulated humanoid as a Unitree G1 + Dex3-1 robot on
 * DDS, for the Unitree link to drive (devices/robot/unitree/unitree_sim_robot.h). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "teleop/paths.h"
#include "unitree_dds.h"
#include "unitree_sim_robot.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void print_help(void)
{
    printf("usage: teleop sim --dds [--domain N] [--interface IF] [--model MJCF] [--state-hz HZ]\n"
           "                  [--hand-state-hz HZ] [--mode-machine M] [--command-timeout S]\n"
           "                  [--duration S] [--trace FILE] [-v]\n\n"
           "Runs the MuJoCo humanoid in real time as a Unitree G1 (29 DoF) with Dex3-1 hands on DDS, as\n"
           "unitree_sdk2 speaks it: publishes rt/lowstate and rt/dex3/{left,right}/state, applies\n"
           "rt/arm_sdk (blend weight in motor_cmd[29].q; bad CRCs dropped) and rt/dex3/{left,right}/cmd.\n"
           "Stops on SIGINT/SIGTERM or after --duration and prints a one-line summary.\n\n"
           "  --dds                the DDS robot (the only mode)\n"
           "  --domain N           DDS domain id (1, as Unitree's simulators; the robot is 0)\n"
           "  --interface IF       network interface name or address (lo)\n"
           "  --model MJCF         the humanoid (the bundled devices/robot/models/humanoid.xml)\n"
           "  --state-hz HZ        rt/lowstate rate (500)\n"
           "  --hand-state-hz HZ   rt/dex3/{left,right}/state rate, each (500)\n"
           "  --mode-machine M     LowState.mode_machine, the G1 variant (2 = 29 DoF)\n"
           "  --command-timeout S  no arm_sdk for longer: the blend weight decays to 0 at 1/s (0.1)\n"
           "  --duration S         stop after S seconds (default: run until interrupted)\n"
           "  --trace FILE         CSV of t_ns,weight,arm_sdk_commands,crc_errors: a line whenever the\n"
           "                       weight changes and at least every 10 ms\n"
           "  -v                   print the DDS configuration used\n"
           "docs/devices/unitree.md, \"The simulated robot\", says what is and is not modelled.\n");
}

static int parse_number(const char *opt, const char *arg, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < lo || v > hi)
        return cli_usage_error("sim", "%s '%s' is not a number in [%g, %g]", opt, arg, lo, hi);
    *out = v;
    return 0;
}

enum { OPT_DDS = 300, OPT_DOMAIN, OPT_INTERFACE, OPT_MODEL, OPT_STATE_HZ, OPT_HAND_HZ, OPT_MODE_MACHINE,
       OPT_TIMEOUT, OPT_DURATION, OPT_TRACE };

int cmd_sim(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dds", no_argument, NULL, OPT_DDS},
        {"domain", required_argument, NULL, OPT_DOMAIN},
        {"interface", required_argument, NULL, OPT_INTERFACE},
        {"model", required_argument, NULL, OPT_MODEL},
        {"state-hz", required_argument, NULL, OPT_STATE_HZ},
        {"hand-state-hz", required_argument, NULL, OPT_HAND_HZ},
        {"mode-machine", required_argument, NULL, OPT_MODE_MACHINE},
        {"command-timeout", required_argument, NULL, OPT_TIMEOUT},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tp_unitree_sim_robot_config cfg;
    tp_unitree_sim_robot_config_default(&cfg);
    bool dds = false, verbose = false;
    double duration = 0, v = 0;
    int c, rc = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DDS: dds = true; break;
        case OPT_DOMAIN:
            if ((rc = parse_number("--domain", optarg, 0, 232, &v)) != 0)
                return rc;
            if (v != floor(v))
                return cli_usage_error("sim", "--domain '%s' is not a whole number", optarg);
            cfg.domain_id = (uint32_t)v;
            break;
        case OPT_INTERFACE: cfg.interface = optarg; break;
        case OPT_MODEL: cfg.model_path = optarg; break;
        case OPT_STATE_HZ:
            if ((rc = parse_number("--state-hz", optarg, 1, 10000, &cfg.state_hz)) != 0)
                return rc;
            break;
        case OPT_HAND_HZ:
            if ((rc = parse_number("--hand-state-hz", optarg, 1, 10000, &cfg.hand_state_hz)) != 0)
                return rc;
            break;
        case OPT_MODE_MACHINE:
            if ((rc = parse_number("--mode-machine", optarg, 0, 255, &v)) != 0)
                return rc;
            if (v != floor(v))
                return cli_usage_error("sim", "--mode-machine '%s' is not a whole number", optarg);
            cfg.mode_machine = (uint8_t)v;
            break;
        case OPT_TIMEOUT:
            if ((rc = parse_number("--command-timeout", optarg, 0.001, 60, &cfg.command_timeout_s)) != 0)
                return rc;
            break;
        case OPT_DURATION:
            if ((rc = parse_number("--duration", optarg, 0.001, 1e7, &duration)) != 0)
                return rc;
            break;
        case OPT_TRACE: cfg.trace_path = optarg; break;
        case 'v': verbose = true; break;
        case 'h': print_help(); return 0;
        case ':': return cli_usage_error("sim", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("sim", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim", "unexpected argument '%s'", argv[optind]);
    if (!dds)
        return cli_usage_error("sim", "--dds is required (the simulated robot on DDS is the only mode)");

    char err[1024];
    static char model[4096];
    if (!cfg.model_path) {
        if (tp_find_data("devices/robot/models/humanoid.xml", model, sizeof model, err, sizeof err) != 0) {
            fprintf(stderr, "teleop sim: %s\n", err);
            return 1;
        }
        cfg.model_path = model;
    }
    if (verbose) {
        char xml[512];
        tp_unitree_dds_config_xml(cfg.interface, xml, sizeof xml);
        fprintf(stderr, "teleop sim: CycloneDDS configuration: %s\n", xml);
    }
    struct tp_unitree_sim_robot *robot = tp_unitree_sim_robot_open(&cfg, err, sizeof err);
    if (!robot) {
        fprintf(stderr, "teleop sim: %s\n", err);
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (tp_unitree_sim_robot_start(robot, err, sizeof err) != 0) {
        fprintf(stderr, "teleop sim: %s\n", err);
        tp_unitree_sim_robot_close(robot);
        return 1;
    }
    char desc[512];
    tp_unitree_sim_robot_describe(robot, desc, sizeof desc);
    fprintf(stderr, "teleop sim: simulated G1 + Dex3-1 running: %s\n", desc);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!stop_requested) {
        struct timespec nap = {0, 5000000};
        nanosleep(&nap, NULL); /* a signal ends it early */
        tp_unitree_sim_robot_service(robot);
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed = (double)(now.tv_sec - start.tv_sec) + 1e-9 * (double)(now.tv_nsec - start.tv_nsec);
        if (duration > 0 && elapsed >= duration)
            break;
    }
    tp_unitree_sim_robot_stop(robot);
    struct tp_unitree_sim_robot_stats st;
    tp_unitree_sim_robot_stats(robot, &st);
    fprintf(stderr,
            "teleop sim: stopped after %.2f s: %llu lowstate and %llu hand states published, %llu arm_sdk and "
            "%llu hand commands applied, %llu CRC errors, %llu bad hand commands, %llu physics steps (%llu late, "
            "%llu skipped, worst wake %.2f ms late)%s\n",
            st.seconds, (unsigned long long)st.states, (unsigned long long)st.hand_states,
            (unsigned long long)st.commands, (unsigned long long)st.hand_commands,
            (unsigned long long)st.crc_errors, (unsigned long long)st.bad_hand_commands,
            (unsigned long long)st.steps, (unsigned long long)st.late_steps, (unsigned long long)st.skipped_steps,
            st.max_lateness_ms, st.trace_dropped ? ", trace lines dropped" : "");
    tp_unitree_sim_robot_close(robot);
    return 0;
}
