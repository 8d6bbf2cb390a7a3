/* teleop — command-line entry point with git-style subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"run", cmd_run, "run a session (default: simulated humanoid, replayed operator) and record an episode"},
    {"info", cmd_info, "summarize an episode: duration, size, streams"},
    {"check", cmd_check, "verify an episode file"},
    {"recover", cmd_recover, "finalize episodes whose recording was cut off (crash, kill, power loss)"},
    {"retarget", cmd_retarget, "re-run retargeting on a recorded episode into a new episode"},
    {"calibrate", cmd_calibrate, "measure an operator's calibration from a capture"},
    {"devices", cmd_devices, "list the USB cameras (formats, sizes, rates), gloves and other known devices, with the config lines to use them"},
    {"xr-probe", cmd_xr_probe, "list the OpenXR runtime, system, extensions, spaces and tracked devices"},
    {"export", cmd_export, "write recorded episodes as a training dataset (LeRobot v3.0 or v2.1, HDF5 ALOHA or robomimic); --check DATASET validates a LeRobot or HDF5 dataset"},
    {"review", cmd_review, "the review window: browse, play, plot, tag and curate episodes (keyboard first)"},
    {"catalog", cmd_catalog, "list episodes from the catalog index: sort, filter, search, tags"},
    {"qa", cmd_qa, "compute and store episodes' automatic QA flags (dropped frames, holds, jerk, length outliers, ...)"},
    {"upload", cmd_upload, "upload episodes or a dataset folder to S3-compatible object storage (MinIO, AWS S3, R2), verified and resumable"},
    {"config", cmd_config, "print the resolved station configuration (every key, defaults applied)"},
    {"sim", cmd_sim, "run the simulated humanoid as a Unitree G1 + Dex3-1 robot on DDS (--dds), for the unitree link"},
    {"bench", cmd_bench, "retargeting benchmarks: arm IK on a URDF chain, control step over the bundled motion"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: teleop <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'teleop <command> --help' describes a command. 'teleop --version' prints the version.\n");
}

int cli_usage_error(const char *sub, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "teleop %s: %s (see 'teleop %s --help')\n", sub, msg, sub);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("teleop %s\n", TELEOP_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "teleop: '%s' is not a teleop command (see 'teleop --help')\n", argv[1]);
    return 2;
}
