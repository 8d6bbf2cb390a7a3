/* teleop recover — finalize episodes whose recording was cut off. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "teleop/episode.h"

int cmd_recover(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            printf("usage: teleop recover DIR|EPISODE...\n\n"
                   "Finalizes episodes whose recording was cut off (crash, kill, power loss): keeps every\n"
                   "committed row, writes the sync report, outcome 'interrupted' and the end time, folds the\n"
                   "WAL into the file. A folder is scanned for *.db files; episodes still being recorded are\n"
                   "left alone. 'teleop run' does this for its recordings folder at start.\n"
                   "Only files proven to be teleop episodes (SQLite header, application_id) are touched;\n"
                   "other files are left alone with one line. A finished episode needs no write access.\n"
                   "Prints one line per episode acted on; exits 0, or 1 when one could not be recovered\n"
                   "(or a named EPISODE is not one).\n");
            return 0;
        default: return cli_usage_error("recover", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("recover", "missing DIR or EPISODE");
    int failed = 0;
    for (int i = optind; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            int recovered;
            if (tp_episode_recover_dir(argv[i], stdout, &recovered) != 0)
                failed++;
            else if (recovered == 0)
                printf("%s: nothing to recover\n", argv[i]);
            continue;
        }
        char msg[1024];
        tp_recover_result r = tp_episode_recover(argv[i], msg, sizeof msg);
        bool refused = r == TP_RECOVER_ERROR || r == TP_RECOVER_READONLY || r == TP_RECOVER_FOREIGN;
        fprintf(refused ? stderr : stdout, "%s\n", msg);
        failed += refused;
    }
    return failed ? 1 : 0;
}
