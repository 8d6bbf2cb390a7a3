/* teleop — the console's status figures as text: the terminal's status line
 * (recording state, episode, time, fps per camera, drops, disk) plus the
 * control loop's rate and deadline misses, and the controller's flags. */
#include <stdio.h>
#include <string.h>

#include "console_internal.h"
#include "teleop/controller.h"

/* Rates are measured over at least this long, so a 50 ms batch rhythm does
 * not show as jitter in them. */
#define RATE_WINDOW_NS 1000000000LL

void console_rates_update(console_rates *r, const tp_console_status *st)
{
    if (r->t_ns == 0 || st->t_ns < r->t_ns) {
        r->t_ns = st->t_ns;
        r->cycles = st->control_cycles;
        for (int i = 0; i < st->camera_count; i++)
            r->captured[i] = st->cameras[i].captured;
        return;
    }
    if (st->t_ns - r->t_ns < RATE_WINDOW_NS)
        return;
    double dt = (double)(st->t_ns - r->t_ns) / 1e9;
    r->control_hz = (double)(st->control_cycles - r->cycles) / dt;
    r->cycles = st->control_cycles;
    for (int i = 0; i < st->camera_count; i++) {
        r->fps[i] = (double)(st->cameras[i].captured - r->captured[i]) / dt;
        r->captured[i] = st->cameras[i].captured;
    }
    r->t_ns = st->t_ns;
    r->have = true;
}

const char *console_state_label(const tp_console_status *st, uint32_t *rgb)
{
    if (st->recording_stopped) {
        *rgb = 0xd03030;
        return "RECORDING STOPPED (disk)";
    }
    if (!st->record) {
        *rgb = 0x707070;
        return "NOT RECORDING";
    }
    switch (st->state) {
    case TP_WF_RECORDING: *rgb = 0xd83a3a; return "● REC";
    case TP_WF_RESETTING: *rgb = 0xd09020; return "RESET";
    case TP_WF_IDLE: *rgb = 0x607080; return "IDLE";
    case TP_WF_FINISHED: *rgb = 0x308040; return "FINISHED";
    }
    *rgb = 0x707070;
    return "?";
}

void console_episode_text(const tp_console_status *st, char *buf, size_t len)
{
    snprintf(buf, len, "episode %d  (%d kept, %d discarded)", st->episode, st->kept, st->discarded);
}

void console_time_text(const tp_console_status *st, int64_t now_ns, char *buf, size_t len)
{
    buf[0] = '\0';
    if (st->state != TP_WF_RECORDING && st->state != TP_WF_RESETTING)
        return;
    double in_state = (double)(now_ns - st->state_since_ns) / 1e9;
    if (in_state < 0)
        in_state = 0;
    /* The time left as the recorder saw it, carried on to now. */
    double left = st->time_left_s;
    if (left >= 0) {
        left -= (double)(now_ns - st->t_ns) / 1e9;
        snprintf(buf, len, "%.1f s  (%.1f s left)", in_state, left > 0 ? left : 0);
    } else {
        snprintf(buf, len, "%.1f s", in_state);
    }
}

int console_figure_lines(const tp_console_status *st, const console_rates *r, const char *const *camera_names,
                         double disk_free_gb, char lines[][96], int max)
{
    int n = 0;
    long long drops = 0, missed = 0;
    for (int i = 0; i < st->camera_count && n < max; i++) {
        const tp_console_camera_counts *c = &st->cameras[i];
        drops += c->dropped;
        missed += c->missed;
        if (c->lost)
            snprintf(lines[n++], 96, "%.40s\tLOST", camera_names[i]);
        else if (r->have)
            snprintf(lines[n++], 96, "%.40s fps\t%.1f", camera_names[i], r->fps[i]);
        else
            snprintf(lines[n++], 96, "%.40s fps\t…", camera_names[i]);
    }
    if (n < max)
        snprintf(lines[n++], 96, "drops\t%lld", drops);
    if (n < max && missed)
        snprintf(lines[n++], 96, "frames missed\t%lld", missed);
    if (n < max) {
        if (disk_free_gb >= 0)
            snprintf(lines[n++], 96, "disk free\t%.1f GB", disk_free_gb);
        else
            snprintf(lines[n++], 96, "disk free\t?");
    }
    if (n < max) {
        if (r->have)
            snprintf(lines[n++], 96, "control rate\t%.0f Hz", r->control_hz);
        else
            snprintf(lines[n++], 96, "control rate\t…");
    }
    if (n < max)
        snprintf(lines[n++], 96, "deadline misses\t%lld", st->deadline_misses);
    return n;
}

int console_flag_words(unsigned flags, const char **words, int max)
{
    static const struct {
        unsigned bit;
        const char *word;
    } names[] = {
        {TP_CONTROL_EMERGENCY, "EMERGENCY HOLD"}, {TP_CONTROL_ENGAGED, "engaged"},
        {TP_CONTROL_INPUT_STALE, "input stale"},  {TP_CONTROL_CLUTCH_OPEN, "clutch open"},
        {TP_CONTROL_TRACKING_LOST, "tracking lost"}, {TP_CONTROL_POSITION, "limit clamp"},
        {TP_CONTROL_VELOCITY, "velocity clamp"},  {TP_CONTROL_WORKSPACE, "workspace hold"},
        {TP_CONTROL_NONFINITE, "bad input"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && n < max; i++)
        if (flags & names[i].bit)
            words[n++] = names[i].word;
    return n;
}
