/* teleop — LeRobot feature statistics: per episode from the rows, global by
 * LeRobot's aggregation of the per-episode ones (lerobot.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lerobot.h"

const double tp_lr_quantiles[TP_LR_NQ] = {0.01, 0.10, 0.50, 0.90, 0.99};
const char *const tp_lr_quantile_names[TP_LR_NQ] = {"q01", "q10", "q50", "q90", "q99"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void tp_lr_stats_compute(const double *values, int64_t n, int dims, tp_lr_stats *out)
{
    memset(out, 0, sizeof *out);
    out->dims = dims;
    out->count = n;
    double *col = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int d = 0; d < dims && col; d++) {
        double sum = 0;
        for (int64_t i = 0; i < n; i++) {
            col[i] = values[(size_t)i * (size_t)dims + (size_t)d];
            sum += col[i];
        }
        double mean = n ? sum / (double)n : 0, var = 0;
        for (int64_t i = 0; i < n; i++)
            var += (col[i] - mean) * (col[i] - mean);
        out->mean[d] = mean;
        out->std[d] = n ? sqrt(var / (double)n) : 0;
        qsort(col, (size_t)n, sizeof *col, cmp_double);
        out->min[d] = n ? col[0] : 0;
        out->max[d] = n ? col[n - 1] : 0;
        /* numpy.quantile's default (linear): position q (n - 1) */
        for (int k = 0; k < TP_LR_NQ; k++) {
            if (!n)
                continue;
            double pos = tp_lr_quantiles[k] * (double)(n - 1);
            int64_t lo = (int64_t)floor(pos);
            int64_t hi = lo + 1 < n ? lo + 1 : lo;
            double f = pos - (double)lo;
            out->q[k][d] = col[lo] + (col[hi] - col[lo]) * f;
        }
    }
    free(col);
}

void tp_lr_stats_aggregate(const tp_lr_stats *const *parts, int n, tp_lr_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n <= 0)
        return;
    int dims = parts[0]->dims;
    out->dims = dims;
    for (int i = 0; i < n; i++)
        out->count += parts[i]->count;
    double total = (double)out->count;
    for (int d = 0; d < dims; d++) {
        double mean = 0, var = 0;
        out->min[d] = parts[0]->min[d];
        out->max[d] = parts[0]->max[d];
        for (int i = 0; i < n; i++) {
            mean += parts[i]->mean[d] * (double)parts[i]->count;
            if (parts[i]->min[d] < out->min[d])
                out->min[d] = parts[i]->min[d];
            if (parts[i]->max[d] > out->max[d])
                out->max[d] = parts[i]->max[d];
        }
        mean = total > 0 ? mean / total : 0;
        for (int i = 0; i < n; i++) {
            double dm = parts[i]->mean[d] - mean;
            var += (parts[i]->std[d] * parts[i]->std[d] + dm * dm) * (double)parts[i]->count;
        }
        out->mean[d] = mean;
        out->std[d] = total > 0 ? sqrt(var / total) : 0;
        for (int k = 0; k < TP_LR_NQ; k++) {
            double q = 0;
            for (int i = 0; i < n; i++)
                q += parts[i]->q[k][d] * (double)parts[i]->count;
            out->q[k][d] = total > 0 ? q / total : 0;
        }
    }
}
