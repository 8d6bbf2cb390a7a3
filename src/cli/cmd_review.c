/* teleop review — the lab lead's review app (ui/review_*.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "review_ui.h"

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (*end != 'x' && *end != 'X')
        return -1;
    long b = strtol(end + 1, &end, 10);
    if (*end || a < 320 || b < 240 || a > 16384 || b > 16384)
        return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

int cmd_review(int argc, char **argv)
{
    static const struct option opts[] = {{"size", required_argument, NULL, 's'},
                                         {"screenshot-dir", required_argument, NULL, 'S'},
                                         {"control", required_argument, NULL, 'c'},
                                         {"reviewer", required_argument, NULL, 'r'},
                                         {"trash", required_argument, NULL, 't'},
                                         {"keys", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    tp_review_ui_options o = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_size(optarg, &o.width, &o.height))
                return cli_usage_error("review", "--size: '%s' is not WIDTHxHEIGHT (320x240 or more)", optarg);
            break;
        case 'S': o.screenshot_dir = optarg; break;
        case 'c': o.control_path = optarg; break;
        case 'r': o.reviewer = optarg; break;
        case 't': o.trash_dir = optarg; break;
        case 'k': tp_review_ui_print_keys(stdout); return 0;
        case 'h':
            printf("usage: teleop review [DIR|EPISODE...] [--size WxH] [--screenshot-dir DIR] [--control FIFO]\n"
                   "                     [--reviewer NAME] [--trash DIR] [--keys]\n\n"
                   "Opens the review window: the episodes of the folders (default: recordings) and\n"
                   "files given, listed from the catalog (refreshed every second, so episodes being\n"
                   "recorded appear); the player (every camera in sync, timeline with events, joint\n"
                   "plots, the robot in 3D); tagging (s success, f failure, 1-5 rating, t tag, n note,\n"
                   "e task, i/o trim, d delete mark, ctrl+z undo), written into each episode at once.\n"
                   "One EPISODE file opens straight in the player. h or ? in the window lists every key.\n\n"
                   "  --size WxH            window size (default 1280x800)\n"
                   "  --screenshot-dir DIR  F12 writes DIR/review-NNN.png\n"
                   "  --control FIFO        read commands from a FIFO (tests): sync, screenshot PATH,\n"
                   "                        where, quit (docs/review.md)\n"
                   "  --reviewer NAME       stored as the episode's reviewer (default: $USER)\n"
                   "  --trash DIR           where Delete moves marked episodes (default: .trash beside them)\n"
                   "  --keys                print the key map as a Markdown table and exit\n");
            return 0;
        case ':': return cli_usage_error("review", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("review", "unknown option '%s'", argv[optind - 1]);
        }
    }
    o.paths = (const char *const *)(argv + optind);
    o.npaths = argc - optind;
    return tp_review_ui_run(&o);
}
