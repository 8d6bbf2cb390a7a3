/* teleop info / teleop check — episode inspection. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "teleop/episode.h"

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'h':
            printf("usage: teleop info EPISODE [--json]\n\n"
                   "Prints the episode's duration, file size, metadata and, per stream, its name, kind,\n"
                   "dims, sample count and measured rate; per camera also width, height, codec, frame\n"
                   "count and fps. --json prints one JSON object (keys in docs/episode-format.md).\n");
            return 0;
        default: return cli_usage_error("info", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("info", argc - optind < 1 ? "missing EPISODE" : "expected one EPISODE");
    return tp_episode_info(argv[optind], json, stdout, stderr) == 0 ? 0 : 1;
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            printf("usage: teleop check EPISODE\n\n"
                   "Verifies an episode (docs/episode-format.md, What check verifies): format version and\n"
                   "exact layout, row checksums, monotonic timestamps inside the episode, every video packet\n"
                   "decodable, counts against durations, meta formats and UTF-8 text, the sync report, the\n"
                   "embedded robot description, joint limits and camera parameters. Reads one snapshot, so\n"
                   "an episode being recorded can be checked ('ok (live: being recorded)').\n"
                   "Exits 0 when valid; 1 with one line per problem on stderr when not.\n");
            return 0;
        default: return cli_usage_error("check", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("check", argc - optind < 1 ? "missing EPISODE" : "expected one EPISODE");
    bool live = false;
    int rc = tp_episode_check_status(argv[optind], stderr, &live);
    if (rc == 0)
        printf("%s: ok%s\n", argv[optind], live ? " (live: being recorded)" : "");
    return rc == 0 ? 0 : 1;
}
