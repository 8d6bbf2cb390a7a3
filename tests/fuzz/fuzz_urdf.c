/* libFuzzer target: the URDF loading path (XML parsing, joint and link
 * records, chain extraction between every pair of links). Any input must be
 * either refused with a message or loaded into finite chains; no crash, no
 * leak, no undefined behaviour. Run with scripts/fuzz.sh. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/urdf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    tp_urdf *u = tp_urdf_parse((const char *)data, size, "fuzz.urdf", err, sizeof err);
    if (!u) {
        if (!err[0] || strchr(err, '\n'))
            abort(); /* every refusal is one non-empty line */
        return 0;
    }
    /* Links are only reachable through the public API by name: try chains
     * between well-known names and whatever the input declared. */
    static const char *const names[] = {"base", "a", "b", "c", "torso_link", "tip", "l0", "l1", "l2"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
            tp_chain c;
            if (tp_urdf_chain(u, names[i], names[j], &c, err, sizeof err) == 0) {
                double q[TP_CHAIN_MAX_JOINTS];
                for (int k = 0; k < c.n; k++)
                    q[k] = 0.5 * (c.lower[k] + c.upper[k]);
                tp_pose p = tp_chain_fk(&c, q);
                if (!tp_v3_isfinite(p.p))
                    abort();
            }
        }
    tp_urdf_free(u);
    return 0;
}
