/* The station's description of an episode (src/station/episode_setup.c):
 * the MJCF and every file it includes or references embedded under robot/,
 * named as MuJoCo finds them from the model's folder (include relative to
 * the model, meshes under meshdir, textures under texturedir, hfields under
 * assetdir), with matching hashes; a referenced file that is missing fails
 * with a message naming it; operator units from dimension names.
 * argv[1]: the humanoid MJCF (the simulated robot for joint limits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "station/episode_setup.h"
#include "teleop/episode.h"
#include "teleop/sim.h"

static char dir[] = "/tmp/teleop-setup-XXXXXX";
static const char *humanoid;

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_model_files_attached(void **state)
{
    (void)state;
    char sub[600];
    snprintf(sub, sizeof sub, "%s/meshes", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof sub, "%s/textures", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_file("model.xml", "<mujoco><compiler meshdir=\"meshes\" texturedir=\"textures\"/>"
                            "<include file=\"part.xml\"/><asset><mesh file=\"a.stl\"/>"
                            "<texture name=\"t\" type=\"2d\" file=\"t.png\"/><hfield name=\"h\" file=\"h.png\""
                            " size=\"1 1 1 1\"/></asset></mujoco>");
    write_file("part.xml", "<mujoco><asset><mesh file=\"b.stl\"/></asset></mujoco>");
    write_file("meshes/a.stl", "solid a\nendsolid a\n");
    write_file("meshes/b.stl", "solid b\nendsolid b\n");
    write_file("textures/t.png", "not really a png");
    write_file("h.png", "height field");
    write_file("station.ini", "[session]\n");

    char err[512], model[600], ep_path[600], ini[600];
    snprintf(model, sizeof model, "%s/model.xml", dir);
    snprintf(ep_path, sizeof ep_path, "%s/ep.db", dir);
    snprintf(ini, sizeof ini, "%s/station.ini", dir);
    tp_sim *sim = tp_sim_create(humanoid, err, sizeof err);
    assert_non_null(sim);
    tp_episode_writer *w = tp_episode_writer_create(ep_path, err, sizeof err);
    assert_non_null(w);
    const char *names[64];
    for (int i = 0; i < tp_sim_joint_count(sim) && i < 64; i++)
        names[i] = tp_sim_joint_name(sim, i);
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = tp_sim_joint_count(sim),
                         .dim_names = names, .units = "rad"};
    assert_true(tp_episode_writer_add_stream(w, &st) > 0);
    tp_station_files files = {.model_path = model, .hand_method = "flexion", .config_path = ini,
                              .limit_margin = 0.02};
    if (tp_episode_describe_station(w, sim, &files, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(tp_episode_writer_finish(w, "completed"), 0);
    tp_episode_writer_close(w);

    tp_episode *ep = tp_episode_open(ep_path, err, sizeof err);
    assert_non_null(ep);
    static const struct {
        const char *name, *text;
    } want[] = {
        {"robot/model.xml", NULL},
        {"robot/part.xml", "<mujoco><asset><mesh file=\"b.stl\"/></asset></mujoco>"},
        {"robot/meshes/a.stl", "solid a\nendsolid a\n"},
        {"robot/meshes/b.stl", "solid b\nendsolid b\n"},
        {"robot/textures/t.png", "not really a png"},
        {"robot/h.png", "height field"},
        {"config/station.ini", "[session]\n"},
    };
    assert_int_equal(tp_episode_attachment_count(ep), 7);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t size = 0;
        const uint8_t *data = tp_episode_attachment(ep, want[i].name, &size);
        if (!data)
            fail_msg("no attachment %s", want[i].name);
        if (want[i].text) {
            assert_int_equal(size, strlen(want[i].text));
            assert_memory_equal(data, want[i].text, size);
        }
    }
    assert_string_equal(tp_episode_meta(ep, "robot_description"), "robot/model.xml");
    assert_string_equal(tp_episode_meta(ep, "safety_position_margin_rad"), "0.02");
    assert_string_equal(tp_episode_attachment_at(ep, 0)->media_type, "text/plain"); /* config/station.ini */
    int n = 0;
    assert_non_null(tp_episode_joint_limits(ep, &n));
    assert_int_equal(n, tp_sim_joint_count(sim));
    tp_episode_close(ep);
    char report[4096] = "";
    FILE *f = fmemopen(report, sizeof report - 1, "w");
    int rc = tp_episode_check(ep_path, f);
    fclose(f);
    if (rc != 0)
        fail_msg("%s", report);

    /* A referenced file that is not there: the episode cannot be described. */
    write_file("part.xml", "<mujoco><asset><mesh file=\"gone.stl\"/></asset></mujoco>");
    snprintf(ep_path, sizeof ep_path, "%s/ep2.db", dir);
    w = tp_episode_writer_create(ep_path, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(tp_episode_describe_station(w, sim, &files, err, sizeof err), -1);
    if (!strstr(err, "model.xml: referenced file:") || !strstr(err, "meshes/gone.stl"))
        fail_msg("message '%s' does not name the model and the missing file", err);
    tp_episode_writer_close(w);
    tp_sim_destroy(sim);
}

static void test_operator_units(void **state)
{
    (void)state;
    assert_string_equal(tp_operator_dim_unit("head.px"), "m");
    assert_string_equal(tp_operator_dim_unit("left.index_tip.radius"), "m");
    assert_string_equal(tp_operator_dim_unit("head.qw"), "1");
    assert_string_equal(tp_operator_dim_unit("right.controller.trigger"), "1");
    assert_string_equal(tp_operator_dim_unit("engaged"), "1");
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    humanoid = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_files_attached),
        cmocka_unit_test(test_operator_units),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
