/* Runs the URDF fuzz target on the seed corpus and on deterministic
 * mutations of it (every prefix, single-byte changes), so the regular test
 * build (gcc, ASan+UBSan in CI) exercises the same path the fuzzer does.
 * Usage: fuzz_replay FILE... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    static const uint8_t bytes[] = {'<', '>', '"', '/', '=', ' ', 0, 0xff, 'e', '9', '-', '.'};
    long runs = 0;
    for (int a = 1; a < argc; a++) {
        char err[512];
        size_t len;
        char *buf = tp_read_file(argv[a], &len, err, sizeof err);
        if (!buf) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        uint8_t *work = malloc(len + 1);
        for (size_t cut = 0; cut <= len; cut += (len > 4000 ? 7 : 1)) { /* every prefix */
            memcpy(work, buf, cut);
            LLVMFuzzerTestOneInput(work, cut);
            runs++;
        }
        for (size_t pos = 0; pos < len; pos += (len > 4000 ? 5 : 1)) /* single-byte changes */
            for (size_t b = 0; b < sizeof bytes; b++) {
                memcpy(work, buf, len);
                work[pos] = bytes[b];
                LLVMFuzzerTestOneInput(work, len);
                runs++;
            }
        free(work);
        free(buf);
    }
    printf("%ld inputs, no crash\n", runs);
    return 0;
}
