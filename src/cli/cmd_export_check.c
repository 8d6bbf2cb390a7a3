/* teleop export --check DATASET — validate a LeRobot or HDF5 dataset. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "teleop/export_check.h"

static int print_help(void);

bool cmd_export_is_check(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--check") || !strncmp(argv[i], "--check=", 8))
            return true;
    return false;
}

int cmd_export_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"check", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *dataset = NULL;
    int c;
    /* "--check --help": getopt would take --help as the DATASET */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return print_help();
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': dataset = optarg; break;
        case 'h': return print_help();
        case ':': return cli_usage_error("export", "--check needs a DATASET folder");
        default: return cli_usage_error("export", "unknown option '%s' with --check", argv[optind - 1]);
        }
    }
    if (!dataset)
        return cli_usage_error("export", "--check needs a DATASET folder");
    if (optind < argc)
        return cli_usage_error("export", "--check takes one DATASET (extra argument '%s')", argv[optind]);
    int rc = tp_export_check(dataset, stdout);
    fflush(stdout);
    return rc;
}

static int print_help(void)
{
    printf("usage: teleop export --check DATASET\n\n"
           "Validates a LeRobot dataset (v2.1 or v3.0, from teleop or anywhere else): meta/info.json\n"
           "fields and feature types against the parquet columns, episode/frame/task counts, index\n"
           "contiguity, frame_index and episode_index, timestamps on the fps grid within LeRobot's\n"
           "tolerance (1e-4 s), every video (present, decodable, frame count and frame times, duration,\n"
           "codec, size, pix_fmt) and the stats.\n\n"
           "Also validates HDF5 datasets: an ALOHA folder of episode_N.hdf5 (or one such file) and\n"
           "robomimic files: datasets present with consistent row counts, dtypes and shapes, the\n"
           "attributes, no NaN/inf in the low-dimensional data, JPEG frames against compress_len,\n"
           "data total = sum of num_samples, env_args JSON, masks naming demos, dones ending with 1.\n\n"
           "Prints one line per problem, then a summary.\n"
           "Exits 0 when valid, 1 when not, 2 on usage errors. docs/export.md lists every check.\n");
    return 0;
}
