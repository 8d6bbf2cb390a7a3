/* teleop — the session's gloves: a reader thread per configured glove, the
 * newest calibrated values for the operator thread's fusion, the raw
 * values and the glove's reports for the recorder (docs/devices/gloves.md,
 * In the station). */
#include "station/session_internal.h"

/* The newest calibrated reading, reader → operator thread. */
typedef struct glove_newest {
    int64_t t_ns;
    tp_glove_hand hand;
} glove_newest;

/* A gone glove is looked for again this often (as a lost camera is). */
#define GLOVE_RETRY_NS 500000000LL
/* The reader's poll deadline: how late a stop or a silence is noticed. */
#define GLOVE_POLL_NS 20000000LL

static const char *const finger_names[TP_GLOVE_FINGERS] = {"thumb", "index", "middle", "ring", "little"};
/* Per finger: curl, joint0..3, splay; then the hand's values. */
#define GLOVE_FINGER_DIMS (2 + TP_GLOVE_FINGER_JOINTS)
#define GLOVE_DIMS (TP_GLOVE_FINGERS * GLOVE_FINGER_DIMS + 6)

static void glove_report(struct session_glove *g, int64_t t_ns, const char *kind, const char *fmt, ...)
{
    tp_device_event ev = {.t_ns = t_ns, .kind = kind};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev.detail, sizeof ev.detail, fmt, ap);
    va_end(ap);
    (void)tp_ring_push(&g->events, &ev); /* a full ring loses the report, never blocks */
}

static void add_totals(tp_glove_stats *total, const tp_glove_stats *part)
{
    total->bytes += part->bytes;
    total->lines_accepted += part->lines_accepted;
    for (int r = 0; r < TP_GLOVE_REJECT_COUNT; r++)
        total->lines_rejected[r] += part->lines_rejected[r];
    if (part->last_t_ns > total->last_t_ns)
        total->last_t_ns = part->last_t_ns;
}

static void close_device(struct session_glove *g)
{
    tp_glove_stats st;
    g->dev->ops->stats(g->dev, &st);
    add_totals(&g->totals, &st);
    tp_glove_close(g->dev);
    g->dev = NULL;
}

static void *glove_thread(void *arg)
{
    struct session_glove *g = arg;
    session *s = g->s;
    char name[16];
    snprintf(name, sizeof name, "tp-glove-%s", g->cfg.name);
    session_set_thread_name(name);
    char err[256];
    bool lost = false;
    int64_t last_ok = tp_now_ns(); /* a glove that never speaks is silent one timeout after the start */
    int64_t retry_at = 0;
    while (!atomic_load(&s->glove_stop)) {
        int64_t now = tp_now_ns();
        if (!g->dev) {
            if (now < retry_at) {
                tp_sleep_until_ns(retry_at < now + GLOVE_POLL_NS ? retry_at : now + GLOVE_POLL_NS);
                continue;
            }
            g->dev = tp_glove_open(&g->cfg, err, sizeof err);
            if (!g->dev) {
                retry_at = now + GLOVE_RETRY_NS;
                continue;
            }
            last_ok = tp_now_ns(); /* back: silent again only one timeout from now */
        }
        tp_glove_sample smp;
        int rc = g->dev->ops->poll(g->dev, now + GLOVE_POLL_NS, &smp, err, sizeof err);
        if (rc == 1) {
            glove_newest *b = tp_triple_back(&g->newest);
            b->t_ns = smp.t_ns;
            tp_glove_apply_calibration(g->cal, &smp, &b->hand);
            tp_triple_publish(&g->newest);
            if (!tp_ring_push(&g->samples, &smp))
                atomic_fetch_add(&g->samples_dropped, 1);
            if (lost)
                glove_report(g, smp.t_ns, "glove_found", "glove %s (%s): speaking again after %.0f ms", g->cfg.name,
                             g->cfg.port, (double)(smp.t_ns - last_ok) / 1e6);
            lost = false;
            last_ok = smp.t_ns;
        } else if (rc == 0) {
            if (!lost && tp_now_ns() - last_ok > g->timeout_ns) {
                glove_report(g, last_ok + g->timeout_ns, "glove_lost", "glove %s (%s): silent for %.0f ms",
                             g->cfg.name, g->cfg.port, (double)g->timeout_ns / 1e6);
                lost = true;
            }
        } else {
            close_device(g);
            retry_at = tp_now_ns() + GLOVE_RETRY_NS;
            if (!lost)
                glove_report(g, tp_now_ns(), "glove_lost", "%s", err);
            lost = true;
        }
    }
    if (g->dev)
        close_device(g);
    return NULL;
}

int session_gloves_open(session *s, char *err, size_t errlen)
{
    const tp_session_config *cfg = s->cfg;
    for (int side = 0; side < 2; side++) {
        struct session_glove *g = &s->gloves[side];
        const struct tp_session_glove *c = &cfg->gloves[side];
        g->s = s;
        if (!c->port || !c->port[0])
            continue;
        tp_glove_default_config(&g->cfg, side);
        g->cfg.driver = c->driver;
        g->cfg.port = c->port;
        g->cfg.baud = c->baud;
        g->cfg.max_value = c->max_value;
        g->cfg.timeout_s = c->timeout_ms / 1e3;
        g->cal = &c->calibration;
        g->timeout_ns = (int64_t)c->timeout_ms * 1000000LL;
        if (tp_triple_init(&g->newest, sizeof(glove_newest)) != 0 ||
            tp_ring_init(&g->samples, sizeof(tp_glove_sample), 4096) != 0 ||
            tp_ring_init(&g->events, sizeof(tp_device_event), 64) != 0) {
            snprintf(err, errlen, "glove %s: out of memory", g->cfg.name);
            return -1;
        }
        g->enabled = true;
        /* Present at the start, or the session does not start: a station
         * that records without the glove it was set up with records the
         * wrong thing. */
        g->dev = tp_glove_open(&g->cfg, err, errlen);
        if (!g->dev)
            return -1;
    }
    return 0;
}

int session_gloves_start(session *s)
{
    for (int side = 0; side < 2; side++) {
        struct session_glove *g = &s->gloves[side];
        if (!g->enabled)
            continue;
        if (pthread_create(&g->thread, NULL, glove_thread, g) != 0)
            return -1;
        g->started = true;
    }
    return 0;
}

void session_gloves_stop(session *s)
{
    atomic_store(&s->glove_stop, 1);
    for (int side = 0; side < 2; side++)
        if (s->gloves[side].started) {
            pthread_join(s->gloves[side].thread, NULL);
            s->gloves[side].started = false;
        }
}

void session_gloves_close(session *s)
{
    session_gloves_stop(s);
    for (int side = 0; side < 2; side++) {
        struct session_glove *g = &s->gloves[side];
        if (!g->enabled)
            continue;
        if (g->dev)
            close_device(g);
        tp_triple_free(&g->newest);
        tp_ring_free(&g->samples);
        tp_ring_free(&g->events);
        g->enabled = false;
    }
}

void session_gloves_fuse(session *s, tp_operator_frame *f, int64_t now_ns)
{
    for (int side = 0; side < 2; side++) {
        struct session_glove *g = &s->gloves[side];
        if (!g->enabled)
            continue;
        const glove_newest *n = tp_triple_read(&g->newest, NULL);
        bool fresh = n && n->t_ns > 0 && now_ns - n->t_ns <= g->timeout_ns;
        tp_glove_fuse(side, fresh ? &n->hand : NULL, &f->hand[side]);
        g->silent = !fresh;
    }
}

tp_ring *session_glove_events(session *s, int side) { return s->gloves[side].enabled ? &s->gloves[side].events : NULL; }

int session_gloves_add_streams(session *s, recorder *rec)
{
    rec->id_glove[0] = rec->id_glove[1] = 0;
    static char names[GLOVE_DIMS][32];
    static const char *name_ptrs[GLOVE_DIMS];
    static const char *units[GLOVE_DIMS];
    int k = 0;
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        snprintf(names[k++], sizeof names[0], "%s.curl", finger_names[f]);
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            snprintf(names[k++], sizeof names[0], "%s.joint%d", finger_names[f], j);
        snprintf(names[k++], sizeof names[0], "%s.splay", finger_names[f]);
    }
    static const char *const hand_dims[] = {"joystick_x", "joystick_y", "trigger", "buttons", "battery", "max_value"};
    for (size_t i = 0; i < sizeof hand_dims / sizeof hand_dims[0]; i++)
        snprintf(names[k++], sizeof names[0], "%s", hand_dims[i]);
    for (int i = 0; i < GLOVE_DIMS; i++) {
        name_ptrs[i] = names[i];
        /* raw sensor counts; buttons a bit mask; battery percent */
        units[i] = i == GLOVE_DIMS - 2 ? "%" : "1";
    }
    for (int side = 0; side < 2; side++) {
        struct session_glove *g = &s->gloves[side];
        if (!g->enabled)
            continue;
        char sname[32];
        snprintf(sname, sizeof sname, "glove_%s", g->cfg.name);
        /* rate_hz 0 (NULL): a glove sends as fast as its link allows, no nominal rate */
        tp_stream_desc d = {.name = sname, .kind = TP_STREAM_OPERATOR, .dims = GLOVE_DIMS, .dim_names = name_ptrs,
                            .dim_units = units, .t_meaning = TP_TIME_CAPTURE, .rate_hz = 0};
        rec->id_glove[side] = tp_episode_writer_add_stream(rec->w, &d);
        if (rec->id_glove[side] < 0)
            return -1;
        char key[40];
        snprintf(key, sizeof key, "glove_calibration_%s", g->cfg.name);
        if (tp_episode_writer_set_meta(rec->w, key, g->cal->id) != 0)
            return -1;
        snprintf(key, sizeof key, "glove_%s_port", g->cfg.name);
        if (tp_episode_writer_set_meta(rec->w, key, g->cfg.port) != 0)
            return -1;
    }
    return 0;
}

static void pack(const tp_glove_sample *smp, float *out)
{
    int k = 0;
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        out[k++] = (float)smp->curl[f];
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            out[k++] = (float)smp->joint_curl[f][j];
        out[k++] = (float)smp->splay[f];
    }
    out[k++] = (float)smp->joystick[0];
    out[k++] = (float)smp->joystick[1];
    out[k++] = (float)smp->trigger;
    out[k++] = (float)smp->buttons;
    out[k++] = (float)smp->battery_percent;
    out[k++] = (float)smp->max_value;
}

int session_gloves_drain(recorder *rec, int64_t until)
{
    session *s = rec->s;
    for (int side = 0; side < 2; side++) {
        struct session_glove *g = &s->gloves[side];
        if (!g->enabled)
            continue;
        const tp_glove_sample *smp;
        float row[GLOVE_DIMS];
        while ((smp = tp_ring_front(&g->samples))) {
            if (smp->t_ns >= until)
                break;
            if (rec->w && rec->id_glove[side] > 0 && smp->t_ns >= rec->ep_start_ns) {
                pack(smp, row);
                if (tp_episode_writer_sample(rec->w, rec->id_glove[side], rec->seq_glove[side]++, smp->t_ns, row,
                                             GLOVE_DIMS) != 0)
                    return -1;
            }
            tp_ring_release(&g->samples);
        }
    }
    return 0;
}
