/* teleop-motion-gen — writes the bundled demo operator motion as CSV
 * (docs/motion-format.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "teleop/motion.h"
#include "teleop/motion_demo.h"

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rate", required_argument, NULL, 'r'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    double rate = 60;
    const char *out = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': {
            char *end;
            rate = strtod(optarg, &end);
            if (end == optarg || *end || !(rate >= 1 && rate <= 2000)) {
                fprintf(stderr, "teleop-motion-gen: --rate: expected a number of Hz in [1, 2000], got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: teleop-motion-gen [--rate HZ] -o FILE\n\n"
                   "Writes the demo operator motion (20 s: the right hand reaches, grasps, lifts, places and\n"
                   "releases a cube; the left hand makes a small reach) as a motion CSV sampled at HZ\n"
                   "(default 60, range 1-2000). Deterministic: the same command writes the same file.\n\n"
                   "Exit status: 0 written, 1 the file could not be written, 2 usage error.\n");
            return 0;
        case ':': fprintf(stderr, "teleop-motion-gen: %s needs a value\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "teleop-motion-gen: unknown option '%s'\n", argv[optind - 1]); return 2;
        }
    }
    if (!out || optind < argc) {
        fprintf(stderr, "teleop-motion-gen: usage: teleop-motion-gen [--rate HZ] -o FILE\n");
        return 2;
    }
    char err[512];
    if (tp_motion_write_demo(out, rate, err, sizeof err) != 0) {
        fprintf(stderr, "teleop-motion-gen: %s\n", err);
        return 1;
    }
    return 0;
}
