/* teleop — the recording workflow state machine and its terminal keys. */
#include "teleop/workflow.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void tp_workflow_default_config(tp_workflow_config *cfg)
{
    cfg->episodes = 1;
    cfg->episode_time_s = 0;
    cfg->reset_time_s = 0;
    cfg->auto_start = true;
}

static int64_t seconds_ns(double s) { return (int64_t)llround(s * 1e9); }

static void enter(tp_workflow *wf, tp_wf_state state, int64_t t)
{
    wf->state = state;
    wf->state_since_ns = t;
}

static int open_episode(tp_workflow *wf, int64_t t, tp_wf_action *out)
{
    wf->attempts++;
    enter(wf, TP_WF_RECORDING, t);
    out[0] = (tp_wf_action){TP_WF_OPEN, t};
    return 1;
}

/* After an episode: end the session when enough are kept, else pause or go on. */
static int after_episode(tp_workflow *wf, int64_t t, tp_wf_action *out)
{
    if (wf->cfg.episodes > 0 && wf->kept >= wf->cfg.episodes) {
        enter(wf, TP_WF_FINISHED, t);
        out[0] = (tp_wf_action){TP_WF_END_SESSION, t};
        return 1;
    }
    if (wf->cfg.reset_time_s > 0) {
        enter(wf, TP_WF_RESETTING, t);
        return 0;
    }
    if (wf->cfg.auto_start)
        return open_episode(wf, t, out);
    enter(wf, TP_WF_IDLE, t);
    return 0;
}

static int close_episode(tp_workflow *wf, bool keep, int64_t t, tp_wf_action *out)
{
    out[0] = (tp_wf_action){keep ? TP_WF_CLOSE_KEEP : TP_WF_CLOSE_DISCARD, t};
    if (keep)
        wf->kept++;
    else
        wf->discarded++;
    wf->last_closed_kept = keep;
    return 1 + after_episode(wf, t, out + 1);
}

static int delete_last(tp_workflow *wf, int64_t t, tp_wf_action *out)
{
    if (!wf->last_closed_kept)
        return 0;
    wf->last_closed_kept = false;
    wf->kept--;
    wf->discarded++;
    out[0] = (tp_wf_action){TP_WF_DELETE_LAST_KEPT, t};
    return 1;
}

static int finish(tp_workflow *wf, int64_t t, tp_wf_action *out)
{
    int n = 0;
    if (wf->state == TP_WF_FINISHED)
        return 0;
    if (wf->state == TP_WF_RECORDING) {
        out[n++] = (tp_wf_action){TP_WF_CLOSE_KEEP, t};
        wf->kept++;
        wf->last_closed_kept = true;
    }
    enter(wf, TP_WF_FINISHED, t);
    out[n++] = (tp_wf_action){TP_WF_END_SESSION, t};
    return n;
}

int tp_workflow_begin(tp_workflow *wf, const tp_workflow_config *cfg, int64_t t_ns, tp_wf_action *out)
{
    memset(wf, 0, sizeof *wf);
    wf->cfg = *cfg;
    enter(wf, TP_WF_IDLE, t_ns);
    return cfg->auto_start ? open_episode(wf, t_ns, out) : 0;
}

int tp_workflow_input(tp_workflow *wf, tp_wf_input in, int64_t t_ns, tp_wf_action *out)
{
    switch (wf->state) {
    case TP_WF_RECORDING:
        switch (in) {
        case TP_WF_IN_STOP_KEEP:
        case TP_WF_IN_TOGGLE: return close_episode(wf, true, t_ns, out);
        case TP_WF_IN_STOP_DISCARD:
        case TP_WF_IN_RERECORD: return close_episode(wf, false, t_ns, out);
        case TP_WF_IN_QUIT: return finish(wf, t_ns, out);
        default: return 0;
        }
    case TP_WF_IDLE:
    case TP_WF_RESETTING:
        switch (in) {
        case TP_WF_IN_START:
        case TP_WF_IN_TOGGLE: return open_episode(wf, t_ns, out);
        case TP_WF_IN_RERECORD: return delete_last(wf, t_ns, out);
        case TP_WF_IN_QUIT: return finish(wf, t_ns, out);
        default: return 0;
        }
    case TP_WF_FINISHED: return 0;
    }
    return 0;
}

int tp_workflow_tick(tp_workflow *wf, int64_t t_ns, tp_wf_action *out)
{
    if (wf->state == TP_WF_RECORDING && wf->cfg.episode_time_s > 0) {
        int64_t limit = wf->state_since_ns + seconds_ns(wf->cfg.episode_time_s);
        if (t_ns >= limit)
            return close_episode(wf, true, limit, out);
    }
    if (wf->state == TP_WF_RESETTING) {
        int64_t limit = wf->state_since_ns + seconds_ns(wf->cfg.reset_time_s);
        if (t_ns >= limit) {
            if (wf->cfg.auto_start)
                return open_episode(wf, limit, out);
            enter(wf, TP_WF_IDLE, limit);
        }
    }
    return 0;
}

int tp_workflow_end(tp_workflow *wf, int64_t t_ns, tp_wf_action *out) { return finish(wf, t_ns, out); }

const char *tp_wf_state_name(tp_wf_state s)
{
    static const char *const names[] = {"idle", "recording", "resetting", "finished"};
    return (unsigned)s < 4 ? names[s] : "?";
}

const char *tp_wf_input_name(tp_wf_input in)
{
    static const char *const names[] = {"start", "stop_keep", "stop_discard", "toggle", "rerecord", "quit"};
    return (unsigned)in < TP_WF_IN_COUNT ? names[in] : "?";
}

double tp_workflow_time_left(const tp_workflow *wf, int64_t t_ns)
{
    double limit = wf->state == TP_WF_RECORDING   ? wf->cfg.episode_time_s
                   : wf->state == TP_WF_RESETTING ? wf->cfg.reset_time_s
                                                  : 0;
    if (!(limit > 0))
        return -1;
    return fmax(0.0, limit - (double)(t_ns - wf->state_since_ns) / 1e9);
}

/* ------------------------------------------------------------------ keys */

void tp_keys_init(tp_keys *k) { memset(k, 0, sizeof *k); }

static tp_key_result input(tp_wf_input in, tp_wf_input *out)
{
    *out = in;
    return TP_KEY_INPUT;
}

tp_key_result tp_keys_feed(tp_keys *k, unsigned char c, tp_wf_input *out)
{
    if (k->typing) {
        if (c == '\r' || c == '\n') {
            k->typing = false;
            k->text[k->text_len] = '\0';
            return TP_KEY_TASK;
        }
        if (c == 27) { /* Esc cancels the new text */
            k->typing = false;
            k->text_len = 0;
            k->text_overflow = 0;
            return TP_KEY_NONE;
        }
        if (c == 127 || c == 8) { /* one character back, all its UTF-8 bytes */
            if (k->text_overflow > 0) {
                k->text_overflow--;
            } else if (k->text_len > 0) {
                while (k->text_len > 1 && ((unsigned char)k->text[k->text_len - 1] & 0xC0) == 0x80)
                    k->text_len--;
                k->text_len--;
            }
            return TP_KEY_NONE;
        }
        if (c >= 32 && c != 127) {
            if (k->text_len < TP_TASK_MAX_BYTES && !k->text_overflow)
                k->text[k->text_len++] = (char)c;
            else
                k->text_overflow++; /* never cut: counted, and the text refused at Enter */
        }
        return TP_KEY_NONE;
    }
    if (k->esc == 1) {
        if (c == '[' || c == 'O') {
            k->esc = 2;
            return TP_KEY_NONE;
        }
        k->esc = 0; /* the ESC stood alone: quit, and this byte is lost to it */
        return input(TP_WF_IN_QUIT, out);
    }
    if (k->esc == 2) {
        if ((c >= '0' && c <= '9') || c == ';') /* parameters of a longer sequence */
            return TP_KEY_NONE;
        k->esc = 0;
        if (c == 'C')
            return input(TP_WF_IN_STOP_KEEP, out);
        if (c == 'D')
            return input(TP_WF_IN_RERECORD, out);
        return TP_KEY_NONE; /* other keys (up, down, F-keys) mean nothing */
    }
    switch (c) {
    case 27: k->esc = 1; return TP_KEY_NONE;
    case ' ':
    case '\r':
    case '\n': return input(TP_WF_IN_TOGGLE, out);
    case 'd':
    case 'D':
    case 127:
    case 8: return input(TP_WF_IN_STOP_DISCARD, out);
    case 'r':
    case 'R': return input(TP_WF_IN_RERECORD, out);
    case 'q':
    case 'Q': return input(TP_WF_IN_QUIT, out);
    case 'e':
    case 'E': return TP_KEY_EMERGENCY;
    case 't':
    case 'T':
        k->typing = true;
        k->text_len = 0;
        k->text_overflow = 0;
        return TP_KEY_NONE;
    default: return TP_KEY_NONE;
    }
}

tp_key_result tp_keys_flush(tp_keys *k, tp_wf_input *out)
{
    if (k->esc == 1) {
        k->esc = 0;
        return input(TP_WF_IN_QUIT, out);
    }
    k->esc = 0;
    return TP_KEY_NONE;
}

int tp_keys_line(const char *line, tp_wf_input *out, char *task, size_t task_len, size_t *task_bytes)
{
    const char *s = line;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0 || s[0] == '#')
        return TP_KEY_NONE;
    if (n >= 4 && !strncmp(s, "task", 4) && (n == 4 || isspace((unsigned char)s[4]))) {
        /* The text is kept whole, '#' included: a task may say "cube #2". */
        const char *text = s + 4;
        while (text < s + n && isspace((unsigned char)*text))
            text++;
        size_t tl = (size_t)(s + n - text);
        *task_bytes = tl;
        if (tl >= task_len) {
            if (task_len)
                task[0] = '\0';
        } else {
            memcpy(task, text, tl);
            task[tl] = '\0';
        }
        return TP_KEY_TASK;
    }
    char word[32];
    size_t wl = 0;
    for (size_t i = 0; i < n && s[i] != '#'; i++) {
        if (wl + 1 >= sizeof word)
            return -1;
        word[wl++] = s[i];
    }
    while (wl > 0 && isspace((unsigned char)word[wl - 1]))
        wl--;
    word[wl] = '\0';
    static const struct {
        const char *word;
        tp_wf_input in;
    } words[] = {{"start", TP_WF_IN_START},           {"stop", TP_WF_IN_STOP_KEEP},
                 {"keep", TP_WF_IN_STOP_KEEP},        {"discard", TP_WF_IN_STOP_DISCARD},
                 {"rerecord", TP_WF_IN_RERECORD},     {"quit", TP_WF_IN_QUIT},
                 {"toggle", TP_WF_IN_TOGGLE}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(word, words[i].word))
            return input(words[i].in, out);
    if (!strcmp(word, "emergency"))
        return TP_KEY_EMERGENCY;
    return -1;
}

int tp_keys_task_check(const char *text, size_t len, char *why, size_t whylen)
{
    if (len > TP_TASK_MAX_BYTES || strlen(text) != len) {
        snprintf(why, whylen, "%zu bytes, the limit is %d", len, TP_TASK_MAX_BYTES);
        return -1;
    }
    return tp_text_check(text, TP_TASK_MAX_BYTES, why, whylen);
}
