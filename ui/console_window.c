/* teleop — the console window: layout, the frame loop, the screenshot. */
#include <GLFW/glfw3.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "console_internal.h"
#include "teleop/clock.h"
#include "teleop/log.h"

/* A display's pace is enough for people watching; more would only take CPU
 * from the session on a small machine (software GL draws on the CPU). */
#define CONSOLE_FPS 30.0
/* The drawing thread's nice value: below every session thread (they run at
 * 0 or higher priority), so on a busy machine drawing is what waits. Keys
 * are read on the main thread at normal priority, so they still reach the
 * session at once. */
#define CONSOLE_NICE 10

#define TOP_H 64.0f
#define BOTTOM_H 34.0f
#define SIDE_W 360.0f
#define PAD 10.0f

static const uint32_t BG = 0x16191d, PANEL = 0x22262c, TEXT = 0xe8eaed, DIM = 0x9aa0a6, ACCENT = 0x8ab4f8;

struct console {
    uk_window *w;
    tp_console_tap *tap;
    const tp_session_config *cfg;
    tp_console_options opt;
    int camera_count;
    const char *camera_names[TP_SESSION_MAX_CAMERAS];
    console_camera_view views[TP_SESSION_MAX_CAMERAS];
    /* Where things were drawn, for the screenshot's notes. */
    uk_rect view_rects[TP_SESSION_MAX_CAMERAS];
    uk_rect badge_rect, figures_rect;
    uint32_t badge_rgb;
    /* Keys are handled on the main thread, shown by the drawing thread. */
    console_keys keys;
    pthread_mutex_t keys_lock;
    pthread_t render_thread;
    atomic_int render_stop; /* the window was closed: stop drawing */
    console_rates rates;
    console_robot *robot;
    /* The task of the episode being recorded: the status carries the task
     * for the episodes to come (a task typed during an episode is the next
     * one's), so it is taken when an episode is first seen recording. */
    int task_episode;
    char episode_task[TP_TASK_MAX_BYTES + 1];
    double started_s;
    bool shot_taken;
    double disk_free_gb, disk_checked_s;
    int frames_drawn;
};

static void draw(console *c, bool shoot);

console *console_open(const tp_session_config *cfg, tp_console_tap *tap, const tp_console_options *opt, char *err,
                      size_t errlen)
{
    console *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->w = uk_window_open("teleop console", 1280, 760, err, errlen);
    if (!c->w) {
        free(c);
        return NULL;
    }
    c->tap = tap;
    c->cfg = cfg;
    c->opt = *opt;
    c->camera_count = tp_console_tap_camera_count(tap);
    for (int i = 0; i < c->camera_count; i++) {
        c->camera_names[i] = tp_console_tap_camera_name(tap, i);
        c->views[i].shown_index = -1;
    }
    console_keys_init(&c->keys);
    pthread_mutex_init(&c->keys_lock, NULL);
    char rerr[512];
    c->robot = console_robot_open(cfg->model_path, rerr, sizeof rerr);
    if (!c->robot)
        tp_log_warn("console: no robot view: %s", rerr);
    c->disk_free_gb = -1;
    c->started_s = uk_time();
    /* A first frame before the session starts: a software GL compiles its
     * shaders on first use, which takes a while the session should not be
     * shown lagging by. */
    draw(c, false);
    return c;
}

void console_close(console *c)
{
    if (!c)
        return;
    double secs = uk_time() - c->started_s;
    tp_log_info("console: %d frames drawn in %.1f s (%.1f per second)", c->frames_drawn, secs,
                secs > 0 ? c->frames_drawn / secs : 0);
    for (int i = 0; i < c->camera_count; i++)
        tp_log_info("console: camera %s: %lld frames shown", c->camera_names[i], (long long)c->views[i].frames_shown);
    console_cameras_free(c->views, c->camera_count);
    console_robot_close(c->robot);
    uk_window_close(c->w);
    pthread_mutex_destroy(&c->keys_lock);
    free(c);
}

static void check_disk(console *c, double now_s)
{
    if (now_s - c->disk_checked_s < 1.0)
        return;
    c->disk_checked_s = now_s;
    /* The recordings folder, or before its first episode made it, the
     * folder it will be made in. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", c->cfg->out_dir);
    struct statvfs vfs;
    int rc;
    while ((rc = statvfs(dir, &vfs)) != 0 && strrchr(dir, '/') && strrchr(dir, '/') != dir)
        *strrchr(dir, '/') = '\0';
    if (rc != 0)
        rc = statvfs(dir[0] == '/' ? "/" : ".", &vfs);
    c->disk_free_gb = rc == 0 ? (double)vfs.f_bavail * (double)vfs.f_frsize / 1e9 : -1;
}

/* ------------------------------------------------------------ drawing */

static void draw_top(console *c, const tp_console_status *st, int64_t now_ns)
{
    uk_window *w = c->w;
    float W = uk_width(w);
    uk_fill_rect(w, (uk_rect){0, 0, W, TOP_H}, uk_rgb(PANEL));
    if (!st) {
        uk_text(w, PAD, 18, 20, uk_rgb(DIM), "waiting for the session…", 0);
        return;
    }
    uint32_t badge_rgb;
    const char *label = console_state_label(st, &badge_rgb);
    float bw = uk_text_width(w, 24, label) + 28;
    c->badge_rect = (uk_rect){PAD, 10, bw, TOP_H - 20};
    c->badge_rgb = badge_rgb;
    uk_fill_rect(w, c->badge_rect, uk_rgb(badge_rgb));
    uk_text(w, PAD + 14, 10 + (TOP_H - 20 - uk_text_line_height(w, 24)) / 2, 24, uk_rgb(0xffffff), label, 0);
    float x = PAD + bw + 18;
    char buf[160];
    console_episode_text(st, buf, sizeof buf);
    uk_text(w, x, 8, 20, uk_rgb(TEXT), buf, 0);
    console_time_text(st, now_ns, buf, sizeof buf);
    if (buf[0])
        uk_text(w, x, 34, 18, uk_rgb(ACCENT), buf, 0);
    float tx = x + 360;
    bool recording = st->state == TP_WF_RECORDING;
    if (recording && st->episode != c->task_episode) {
        c->task_episode = st->episode;
        snprintf(c->episode_task, sizeof c->episode_task, "%s", st->task);
    }
    const char *task = recording ? c->episode_task : st->task;
    if (recording && strcmp(st->task, c->episode_task) != 0) {
        char next[TP_TASK_MAX_BYTES + 32];
        snprintf(next, sizeof next, "next episodes: %s", st->task[0] ? st->task : "(none)");
        uk_text(w, tx, 4, 14, uk_rgb(ACCENT), next, W - tx - PAD);
    } else {
        uk_text(w, tx, 4, 14, uk_rgb(DIM), recording ? "task" : "task (next episode)", 0);
    }
    uk_text(w, tx, 26, 20, uk_rgb(TEXT), task[0] ? task : "(none)", W - tx - PAD);
}

static void draw_cameras(console *c, uk_rect area)
{
    uk_window *w = c->w;
    int n = c->camera_count;
    if (n == 0) {
        uk_text(w, area.x + PAD, area.y + PAD, 18, uk_rgb(DIM), "no cameras", 0);
        return;
    }
    int cols = (int)ceil(sqrt((double)n)), rows = (n + cols - 1) / cols;
    float cw = area.w / (float)cols, ch = area.h / (float)rows;
    for (int i = 0; i < n; i++) {
        uk_rect cell = {area.x + (float)(i % cols) * cw, area.y + (float)(i / cols) * ch, cw, ch};
        console_camera_view *v = &c->views[i];
        char title[160];
        if (v->shown_index >= 0)
            snprintf(title, sizeof title, "%s  ·  frame %lld", c->camera_names[i], (long long)v->shown_index);
        else
            snprintf(title, sizeof title, "%s  ·  no frame yet", c->camera_names[i]);
        uk_text(w, cell.x + PAD, cell.y + 4, 16, uk_rgb(DIM), title, cell.w - 2 * PAD);
        uk_rect box = {cell.x + PAD, cell.y + 26, cell.w - 2 * PAD, cell.h - 26 - PAD};
        c->view_rects[i] = (uk_rect){0, 0, 0, 0};
        if (!v->image || box.w <= 0 || box.h <= 0) {
            uk_stroke_rect(w, box, 1, uk_rgb(PANEL));
            continue;
        }
        /* Whole frame, aspect kept, centred. */
        float s = fminf(box.w / (float)v->width, box.h / (float)v->height);
        float iw = floorf((float)v->width * s), ih = floorf((float)v->height * s);
        uk_rect r = {floorf(box.x + (box.w - iw) / 2), floorf(box.y + (box.h - ih) / 2), iw, ih};
        uk_image_draw(w, v->image, r);
        c->view_rects[i] = r;
    }
}

static void draw_side(console *c, uk_rect area, const tp_console_status *st, const tp_console_pose *pose)
{
    uk_window *w = c->w;
    uk_fill_rect(w, area, uk_rgb(PANEL));
    float y = area.y + PAD;
    uk_text(w, area.x + PAD, y, 16, uk_rgb(DIM), "robot", 0);
    y += 22;
    uk_rect view = {area.x + PAD, y, area.w - 2 * PAD, 260};
    if (c->robot)
        console_robot_draw(c->robot, w, view, pose ? pose->qpos : NULL, pose ? pose->nq : 0);
    else
        uk_text(w, view.x, view.y + 4, 16, uk_rgb(DIM), "no 3D view (see the log)", 0);
    y += view.h + 8;
    /* The controller's state as chips. */
    if (pose) {
        const char *words[12];
        int nw = console_flag_words(pose->control_flags, words, 12);
        float x = area.x + PAD;
        for (int i = 0; i < nw; i++) {
            float tw = uk_text_width(w, 14, words[i]) + 12;
            if (x + tw > area.x + area.w - PAD) {
                x = area.x + PAD;
                y += 24;
            }
            bool alarm = words[i][0] >= 'A' && words[i][0] <= 'Z';
            uk_fill_rect(w, (uk_rect){x, y, tw, 20}, uk_rgb(alarm ? 0xc03030 : 0x34404c));
            uk_text(w, x + 6, y + 1, 14, uk_rgb(TEXT), words[i], 0);
            x += tw + 6;
        }
        y += 30;
    }
    if (!st)
        return;
    char lines[TP_SESSION_MAX_CAMERAS + 8][96];
    int n = console_figure_lines(st, &c->rates, c->camera_names, c->disk_free_gb, lines,
                                 TP_SESSION_MAX_CAMERAS + 8);
    c->figures_rect = (uk_rect){area.x + PAD, y, area.w - 2 * PAD, (float)n * 24};
    for (int i = 0; i < n; i++) {
        char *tab = strchr(lines[i], '\t');
        if (tab)
            *tab = '\0';
        uk_text(w, area.x + PAD, y, 17, uk_rgb(DIM), lines[i], 170);
        if (tab)
            uk_text(w, area.x + PAD + 180, y, 17, uk_rgb(TEXT), tab + 1, area.w - 190 - PAD);
        y += 24;
    }
    if (st->emergency) {
        uk_fill_rect(w, (uk_rect){area.x + PAD, y + 4, area.w - 2 * PAD, 30}, uk_rgb(0xc03030));
        uk_text(w, area.x + 2 * PAD, y + 8, 18, uk_rgb(0xffffff), "EMERGENCY HOLD (e releases)", 0);
        y += 40;
    }
    if (st->episode_path[0]) {
        const char *base = strrchr(st->episode_path, '/');
        uk_text(w, area.x + PAD, y + 6, 14, uk_rgb(DIM), base ? base + 1 : st->episode_path, area.w - 2 * PAD);
    }
}

static void draw_bottom(console *c)
{
    uk_window *w = c->w;
    float W = uk_width(w), H = uk_height(w);
    uk_rect bar = {0, H - BOTTOM_H, W, BOTTOM_H};
    uk_fill_rect(w, bar, uk_rgb(PANEL));
    float ty = bar.y + (BOTTOM_H - uk_text_line_height(w, 16)) / 2;
    char line[TP_TASK_MAX_BYTES + 64] = "", message[256] = "";
    pthread_mutex_lock(&c->keys_lock);
    const char *typing = console_keys_typing(&c->keys);
    if (typing)
        snprintf(line, sizeof line, "new task: %s▏   (Enter sets it, Esc cancels)", typing);
    else if (c->keys.message[0] && uk_time() < c->keys.message_until_s)
        snprintf(message, sizeof message, "%s", c->keys.message);
    pthread_mutex_unlock(&c->keys_lock);
    if (line[0]) {
        uk_text(w, PAD, ty, 16, uk_rgb(ACCENT), line, W - 2 * PAD);
    } else if (message[0]) {
        uk_text(w, PAD, ty, 16, uk_rgb(0xf28b82), message, W - 2 * PAD);
    } else {
        uk_text(w, PAD, ty, 16, uk_rgb(DIM),
                "space start/stop   → keep   ← or r re-record   d discard   e emergency   t task   q quit", W - 2 * PAD);
    }
}

/* The screenshot and, beside it (PATH.txt), where each camera's image is
 * and which frame it shows, so a test can hold the pixels against the
 * episode's own frame. */
static void take_screenshot(console *c, const tp_console_status *st)
{
    char err[512];
    if (uk_screenshot_png(c->w, c->opt.screenshot_path, err, sizeof err) != 0) {
        tp_log_error("console: %s", err);
        return;
    }
    char notes[4200];
    snprintf(notes, sizeof notes, "%s.txt", c->opt.screenshot_path);
    FILE *f = fopen(notes, "w");
    if (!f) {
        tp_log_error("console: %s: %s", notes, strerror(errno));
        return;
    }
    float s = uk_scale(c->w);
    fprintf(f, "state %s\n", st ? tp_wf_state_name(st->state) : "none");
    fprintf(f, "episode %d\n", st ? st->episode : 0);
    uk_rect b = c->badge_rect, g = c->figures_rect;
    fprintf(f, "badge %d %d %d %d %06x\n", (int)lroundf(b.x * s), (int)lroundf(b.y * s), (int)lroundf(b.w * s),
            (int)lroundf(b.h * s), (unsigned)c->badge_rgb);
    fprintf(f, "figures %d %d %d %d\n", (int)lroundf(g.x * s), (int)lroundf(g.y * s), (int)lroundf(g.w * s),
            (int)lroundf(g.h * s));
    for (int i = 0; i < c->camera_count; i++) {
        uk_rect r = c->view_rects[i];
        fprintf(f, "camera %s %d %d %d %d %lld %lld\n", c->camera_names[i], (int)lroundf(r.x * s),
                (int)lroundf(r.y * s), (int)lroundf(r.w * s), (int)lroundf(r.h * s),
                (long long)c->views[i].shown_index, (long long)c->views[i].shown_t_ns);
    }
    fclose(f);
}

static void draw(console *c, bool shoot)
{
    uk_window *w = c->w;
    const tp_console_status *st = tp_console_tap_status(c->tap, NULL);
    const tp_console_pose *pose = tp_console_tap_pose(c->tap, NULL);
    if (st)
        console_rates_update(&c->rates, st);
    console_cameras_update(c->views, c->camera_count, c->tap);
    uk_frame_begin(w, uk_rgb(BG));
    float W = uk_width(w), H = uk_height(w);
    draw_top(c, st, tp_now_ns());
    uk_rect main = {0, TOP_H, W - SIDE_W, H - TOP_H - BOTTOM_H};
    uk_rect side = {W - SIDE_W, TOP_H, SIDE_W, H - TOP_H - BOTTOM_H};
    draw_cameras(c, main);
    draw_side(c, side, st, pose);
    draw_bottom(c);
    if (shoot)
        take_screenshot(c, st);
    uk_frame_end(w);
    c->frames_drawn++;
}

/* The drawing thread: the window's GL context is current here. */
static void *render_main(void *arg)
{
    console *c = arg;
    pthread_setname_np(pthread_self(), "tp-console");
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), CONSOLE_NICE) != 0)
        tp_log_debug("console: cannot lower its priority");
    glfwMakeContextCurrent(uk_glfw_window(c->w));
    double next = uk_time();
    while (!atomic_load(&c->render_stop)) {
        if (tp_console_tap_ended(c->tap)) {
            if (c->opt.screenshot_path && !c->shot_taken) {
                tp_log_warn("console: the session ended before the screenshot's %.1f s; taken now",
                            c->opt.screenshot_after_s);
                draw(c, true);
                c->shot_taken = true;
            }
            break;
        }
        double now = uk_time();
        if (now < next) {
            double wait = next - now;
            struct timespec ts = {(time_t)wait, (long)((wait - floor(wait)) * 1e9)};
            nanosleep(&ts, NULL);
            continue;
        }
        next += 1.0 / CONSOLE_FPS;
        if (next < now)
            next = now + 1.0 / CONSOLE_FPS;
        check_disk(c, now);
        /* The screenshot's time counts from the session's start (its clock). */
        const tp_console_status *st = tp_console_tap_status(c->tap, NULL);
        bool shoot = c->opt.screenshot_path && !c->shot_taken && st &&
                     (double)(tp_now_ns() - st->start_ns) / 1e9 >= c->opt.screenshot_after_s;
        draw(c, shoot);
        if (shoot)
            c->shot_taken = true;
    }
    glfwMakeContextCurrent(NULL);
    return NULL;
}

/* The main thread reads the window's input (GLFW wants it there) and sends
 * the keys' commands at once; a thread of its own draws at low priority. */
void console_loop(console *c)
{
    glfwMakeContextCurrent(NULL);
    bool drawing = pthread_create(&c->render_thread, NULL, render_main, c) == 0;
    if (!drawing)
        tp_log_warn("console: cannot start its drawing thread; the window takes keys only");
    bool open = true;
    while (!tp_console_tap_ended(c->tap)) {
        if (!open) { /* closed by the window manager: the session goes on without it */
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
            continue;
        }
        uk_window_poll(c->w, 0.05);
        uk_event ev;
        while (uk_next_event(c->w, &ev)) {
            if (ev.kind == UK_EVENT_CLOSE) {
                open = false;
                continue;
            }
            pthread_mutex_lock(&c->keys_lock);
            console_keys_event(&c->keys, &ev, c->tap);
            pthread_mutex_unlock(&c->keys_lock);
        }
        if (!open) {
            atomic_store(&c->render_stop, 1);
            uk_window_set_should_close(c->w, false);
            glfwHideWindow(uk_glfw_window(c->w));
        }
    }
    if (drawing)
        pthread_join(c->render_thread, NULL);
    glfwMakeContextCurrent(uk_glfw_window(c->w));
}
