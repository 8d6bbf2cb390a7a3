/* lerobot-fixture DIR 2.1|3.0: writes the valid test dataset of
 * lerobot_fixture.h into DIR (for trying `teleop export --check` by hand
 * and for the CLI test). */
#include <stdio.h>
#include <string.h>

#include "lerobot_fixture.h"

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "2.1") && strcmp(argv[2], "3.0"))) {
        fprintf(stderr, "usage: lerobot-fixture DIR 2.1|3.0\n");
        return 2;
    }
    lerobot_fixture o = {.version = strcmp(argv[2], "2.1") ? 30 : 21};
    char err[512];
    if (lerobot_fixture_write(argv[1], &o, err, sizeof err) != 0) {
        fprintf(stderr, "lerobot-fixture: %s\n", err);
        return 1;
    }
    return 0;
}
