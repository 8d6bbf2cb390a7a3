/* The S3 client against a local S3-compatible server (s3rver 3.7.1 on
 * loopback), directly and through a proxy that cuts, refuses and throttles:
 * single and multipart round trips byte-identical, an interrupted multipart
 * upload resumed into an identical object with nothing listed under its key
 * meanwhile, retries on 503 SlowDown and refused connections, wrong
 * credentials named in one line, credentials files by mode, listing pages,
 * a dataset's meta/ last.
 * usage: test_s3_roundtrip NODE SERVER_MJS */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "s3_fixture.h"
#include "upload/s3_internal.h"

#define MIB (1 << 20)

static const char *node_path, *server_script;
static s3_server server;
static s3_proxy proxy;
static char workdir[256];

static tp_s3 *client_at(int port, const char *key_id, int max_attempts)
{
    tp_s3_credentials cred = {.source = "test"};
    snprintf(cred.access_key_id, sizeof cred.access_key_id, "%s", key_id);
    snprintf(cred.secret_access_key, sizeof cred.secret_access_key, "S3RVER");
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    tp_s3_config cfg = {.endpoint = endpoint, .credentials = &cred, .max_attempts = max_attempts,
                        .backoff_base_ms = 20, .backoff_max_ms = 100};
    tp_s3_error e = {0};
    tp_s3 *s3 = tp_s3_open(&cfg, &e);
    if (!s3)
        print_error("%s\n", e.message);
    assert_non_null(s3);
    return s3;
}

static tp_s3 *direct(void) { return client_at(server.port, "S3RVER", 3); }

static void write_random(const char *path, size_t size, unsigned seed)
{
    unsigned char *buf = malloc(size);
    assert_non_null(buf);
    for (size_t i = 0; i < size; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (unsigned char)(seed >> 16);
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
    free(buf);
}

static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* GET the object back (to memory and to a file) and compare with the source. */
static void assert_object_equals_file(tp_s3 *s3, const char *key, const char *path)
{
    size_t want_len, got_len;
    void *want = read_file(path, &want_len), *got = NULL;
    tp_s3_error e = {0};
    tp_s3_object o;
    if (tp_s3_get(s3, "bucket", key, 0, &got, &got_len, &o, &e))
        print_error("%s\n", e.message);
    assert_non_null(got);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    char back[512];
    snprintf(back, sizeof back, "%s/back.bin", workdir);
    assert_int_equal(tp_s3_get_file(s3, "bucket", key, back, &o, &e), 0);
    got = read_file(back, &got_len);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    assert_int_equal(o.size, (int64_t)want_len);
    free(got);
    free(want);
    unlink(back);
}

static int listed_under(tp_s3 *s3, const char *key)
{
    tp_s3_listing l;
    tp_s3_error e = {0};
    assert_int_equal(tp_s3_list(s3, "bucket", key, NULL, &l, &e), 0);
    int n = 0;
    for (size_t i = 0; i < l.count; i++)
        n += !strcmp(l.objects[i].key, key);
    tp_s3_listing_free(&l);
    return n;
}

static void single_round_trip(void **state)
{
    (void)state;
    tp_s3 *s3 = direct();
    char path[512];
    snprintf(path, sizeof path, "%s/small.bin", workdir);
    write_random(path, 3 * MIB + 17, 1);
    tp_s3_upload_result r;
    tp_s3_error e = {0};
    assert_int_equal(tp_s3_upload_file(s3, path, "bucket", "runs/small.bin", NULL, &r, &e), 0);
    assert_false(r.multipart);
    assert_int_equal(r.bytes, 3 * MIB + 17);
    assert_int_equal(r.object.size, 3 * MIB + 17);
    assert_int_equal(strlen(r.object.etag), 32);
    assert_false(r.unchanged);
    assert_object_equals_file(s3, "runs/small.bin", path);
    assert_int_equal(tp_s3_verify_file(s3, path, "bucket", "runs/small.bin", 0, &e), 0);
    /* a rerun finds it there, identical: nothing sent */
    assert_int_equal(tp_s3_upload_file(s3, path, "bucket", "runs/small.bin", NULL, &r, &e), 0);
    assert_true(r.unchanged);
    assert_int_equal(r.bytes_sent, 0);
    /* a different file does not verify */
    char other[512];
    snprintf(other, sizeof other, "%s/other.bin", workdir);
    write_random(other, 3 * MIB + 17, 2);
    assert_int_equal(tp_s3_verify_file(s3, other, "bucket", "runs/small.bin", 0, &e), 1);
    assert_non_null(strstr(e.message, "MD5"));
    /* HEAD, DELETE, HEAD again */
    tp_s3_object o;
    assert_int_equal(tp_s3_head(s3, "bucket", "runs/small.bin", &o, &e), 0);
    assert_int_equal(o.size, 3 * MIB + 17);
    assert_int_equal(tp_s3_delete(s3, "bucket", "runs/small.bin", &e), 0);
    assert_int_equal(tp_s3_head(s3, "bucket", "runs/small.bin", &o, &e), 1);
    assert_string_equal(e.code, "NoSuchKey");
    void *data;
    size_t len;
    assert_int_equal(tp_s3_get(s3, "bucket", "runs/small.bin", 0, &data, &len, NULL, &e), 1);
    assert_int_equal(e.http_status, 404);
    /* keys that need encoding round-trip */
    static const char body[] = "episode index";
    assert_int_equal(tp_s3_put(s3, "bucket", "runs/a b/ep=1+ü.json", body, sizeof body - 1, NULL, &o, &e), 0);
    assert_int_equal(tp_s3_get(s3, "bucket", "runs/a b/ep=1+ü.json", 0, &data, &len, NULL, &e), 0);
    assert_int_equal(len, sizeof body - 1);
    assert_memory_equal(data, body, len);
    free(data);
    unlink(path);
    unlink(other);
    tp_s3_close(s3);
}

static void multipart_round_trip(void **state)
{
    (void)state;
    tp_s3 *s3 = direct();
    char path[512], state_path[600];
    snprintf(path, sizeof path, "%s/big.bin", workdir);
    snprintf(state_path, sizeof state_path, "%s.upload-state", path);
    write_random(path, 16 * MIB + 5, 3);
    tp_s3_upload_options opt = {.part_size = 5 * MIB, .parallel = 3};
    tp_s3_upload_result r;
    tp_s3_error e = {0};
    if (tp_s3_upload_file(s3, path, "bucket", "runs/big.bin", &opt, &r, &e))
        print_error("%s\n", e.message);
    assert_true(r.multipart);
    assert_int_equal(r.parts, 4);
    assert_int_equal(r.parts_resumed, 0);
    assert_int_equal(r.bytes_sent, 16 * MIB + 5);
    assert_int_equal(r.object.size, 16 * MIB + 5);
    assert_int_equal(access(state_path, F_OK), -1); /* removed once verified */
    assert_object_equals_file(s3, "runs/big.bin", path);
    assert_int_equal(tp_s3_verify_file(s3, path, "bucket", "runs/big.bin", 5 * MIB, &e), 0);
    /* the same size with other bytes is sent again */
    write_random(path, 16 * MIB + 5, 33);
    assert_int_equal(tp_s3_upload_file(s3, path, "bucket", "runs/big.bin", &opt, &r, &e), 0);
    assert_false(r.unchanged);
    assert_int_equal(r.bytes_sent, 16 * MIB + 5);
    assert_object_equals_file(s3, "runs/big.bin", path);
    /* a part size under 5 MiB is refused */
    opt.part_size = 4 * MIB;
    assert_int_equal(tp_s3_upload_file(s3, path, "bucket", "runs/big2.bin", &opt, &r, &e), -1);
    assert_string_equal(e.code, "InvalidArgument");
    unlink(path);
    tp_s3_close(s3);
}

static void cut_then_resume(void **state)
{
    (void)state;
    char path[512], state_path[600];
    snprintf(path, sizeof path, "%s/cut.bin", workdir);
    snprintf(state_path, sizeof state_path, "%s.upload-state", path);
    write_random(path, 21 * MIB + 3, 4); /* 5 parts of 5 MiB */
    tp_s3_upload_options opt = {.part_size = 5 * MIB, .parallel = 2};
    tp_s3_upload_result r;
    tp_s3_error e = {0};

    /* the network goes down 12 MiB into the upload: two parts are through */
    s3_proxy_heal(&proxy);
    atomic_store(&proxy.budget, 12LL * MIB);
    tp_s3 *via = client_at(proxy.port, "S3RVER", 2);
    assert_int_equal(tp_s3_upload_file(via, path, "bucket", "runs/cut.bin", &opt, &r, &e), -1);
    tp_s3_close(via);
    assert_true(atomic_load(&proxy.down));
    assert_int_equal(e.http_status, 0);
    assert_null(strchr(e.message, '\n'));
    assert_int_equal(access(state_path, F_OK), 0);

    /* meanwhile nothing is listed under the final key, nor readable */
    tp_s3 *s3 = direct();
    assert_int_equal(listed_under(s3, "runs/cut.bin"), 0);
    assert_int_equal(tp_s3_head(s3, "bucket", "runs/cut.bin", NULL, &e), 1);

    /* the network is back: the upload resumes from the state file */
    s3_proxy_heal(&proxy);
    via = client_at(proxy.port, "S3RVER", 3);
    if (tp_s3_upload_file(via, path, "bucket", "runs/cut.bin", &opt, &r, &e))
        print_error("%s\n", e.message);
    tp_s3_close(via);
    assert_int_equal(r.parts, 5);
    assert_true(r.parts_resumed >= 1);
    assert_true(r.bytes_sent < 21 * MIB + 3);
    assert_int_equal(r.bytes_sent + (int64_t)r.parts_resumed * 5 * MIB, 21 * MIB + 3);
    assert_int_equal(access(state_path, F_OK), -1);
    assert_int_equal(listed_under(s3, "runs/cut.bin"), 1);
    assert_object_equals_file(s3, "runs/cut.bin", path);
    unlink(path);
    tp_s3_close(s3);
}

/* --abort-stale: an interrupted upload older than the restart age is not
 * resumed but started anew (its old upload aborted where the server can). */
static void stale_state_restarts(void **state)
{
    (void)state;
    char path[512], state_path[600];
    snprintf(path, sizeof path, "%s/stale.bin", workdir);
    snprintf(state_path, sizeof state_path, "%s.upload-state", path);
    write_random(path, 11 * MIB, 7); /* 3 parts */
    tp_s3_upload_options opt = {.part_size = 5 * MIB, .parallel = 1};
    tp_s3_upload_result r;
    tp_s3_error e = {0};
    s3_proxy_heal(&proxy);
    atomic_store(&proxy.budget, 7LL * MIB);
    tp_s3 *via = client_at(proxy.port, "S3RVER", 1);
    assert_int_equal(tp_s3_upload_file(via, path, "bucket", "runs/stale.bin", &opt, &r, &e), -1);
    tp_s3_close(via);
    s3_proxy_heal(&proxy);
    assert_int_equal(access(state_path, F_OK), 0);
    sleep(2);
    tp_s3 *s3 = direct();
    opt.restart_older_than_s = 1;
    if (tp_s3_upload_file(s3, path, "bucket", "runs/stale.bin", &opt, &r, &e))
        print_error("%s\n", e.message);
    assert_int_equal(r.parts_resumed, 0);
    assert_int_equal(r.bytes_sent, 11 * MIB);
    assert_int_equal(access(state_path, F_OK), -1);
    assert_object_equals_file(s3, "runs/stale.bin", path);
    tp_s3_close(s3);
    unlink(path);
}

typedef struct canceller {
    atomic_bool *flag;
    int64_t at;
} canceller;

static void cancel_past(void *user, const tp_s3_progress *p)
{
    canceller *c = user;
    if (p->bytes_done >= c->at)
        atomic_store(c->flag, true);
}

/* Station shutdown: the cancel flag stops a multipart upload mid-way (state
 * kept, nothing under the key); the next run resumes it. */
static void cancel_then_resume(void **state)
{
    (void)state;
    char path[512], state_path[600];
    snprintf(path, sizeof path, "%s/cancel.bin", workdir);
    snprintf(state_path, sizeof state_path, "%s.upload-state", path);
    write_random(path, 15 * MIB + 1, 6);
    atomic_bool cancel = false;
    tp_s3_credentials cred = {.access_key_id = "S3RVER", .secret_access_key = "S3RVER", .source = "test"};
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", server.port);
    tp_s3_config cfg = {.endpoint = endpoint, .credentials = &cred, .cancel = &cancel};
    tp_s3_error e = {0};
    tp_s3 *s3 = tp_s3_open(&cfg, &e);
    assert_non_null(s3);
    canceller c = {&cancel, 6 * MIB};
    tp_s3_upload_options opt = {.part_size = 5 * MIB, .parallel = 1, .progress = cancel_past, .progress_user = &c};
    tp_s3_upload_result r;
    assert_int_equal(tp_s3_upload_file(s3, path, "bucket", "runs/cancel.bin", &opt, &r, &e), -1);
    assert_string_equal(e.code, "Cancelled");
    assert_int_equal(access(state_path, F_OK), 0);
    /* a cancelled client fails at once */
    assert_int_equal(tp_s3_head(s3, "bucket", "runs/cancel.bin", NULL, &e), -1);
    assert_string_equal(e.code, "Cancelled");
    atomic_store(&cancel, false);
    assert_int_equal(listed_under(s3, "runs/cancel.bin"), 0);
    opt.progress = NULL;
    assert_int_equal(tp_s3_upload_file(s3, path, "bucket", "runs/cancel.bin", &opt, &r, &e), 0);
    assert_int_equal(r.parts, 4);
    assert_true(r.parts_resumed >= 1);
    assert_object_equals_file(s3, "runs/cancel.bin", path);
    tp_s3_close(s3);
    unlink(path);
}

/* Virtual-host addressing (BUCKET.HOST/KEY), as on AWS: the host name
 * reaches the loopback server through CURLOPT_CONNECT_TO. */
static void virtual_host_addressing(void **state)
{
    (void)state;
    tp_s3_credentials cred = {.access_key_id = "S3RVER", .secret_access_key = "S3RVER", .source = "test"};
    tp_s3_config cfg = {.endpoint = "http://s3.amazonaws.com", .region = "us-east-1", .credentials = &cred};
    tp_s3_error e = {0};
    tp_s3 *s3 = tp_s3_open(&cfg, &e);
    assert_non_null(s3);
    char map[128];
    snprintf(map, sizeof map, "bucket.s3.amazonaws.com:80:127.0.0.1:%d", server.port);
    assert_int_equal(s3_test_connect_to(s3, map), 0);
    char *url = s3_url(s3, "bucket", "vhost/a b.txt", NULL);
    assert_string_equal(url, "http://bucket.s3.amazonaws.com/vhost/a%20b.txt");
    free(url);
    static const char body[] = "virtual host";
    assert_int_equal(tp_s3_put(s3, "bucket", "vhost/a b.txt", body, sizeof body - 1, NULL, NULL, &e), 0);
    void *data;
    size_t len;
    assert_int_equal(tp_s3_get(s3, "bucket", "vhost/a b.txt", 0, &data, &len, NULL, &e), 0);
    assert_int_equal(len, sizeof body - 1);
    assert_memory_equal(data, body, len);
    free(data);
    tp_s3_listing l;
    assert_int_equal(tp_s3_list(s3, "bucket", "vhost/", NULL, &l, &e), 0);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.objects[0].key, "vhost/a b.txt");
    tp_s3_listing_free(&l);
    tp_s3_close(s3);
    /* path-style for the same bucket on another endpoint */
    cfg.endpoint = "http://127.0.0.1:9000/base/";
    s3 = tp_s3_open(&cfg, &e);
    assert_non_null(s3);
    url = s3_url(s3, "bucket", "k", NULL);
    assert_string_equal(url, "http://127.0.0.1:9000/base/bucket/k");
    free(url);
    assert_string_equal(tp_s3_endpoint(s3), "http://127.0.0.1:9000/base");
    tp_s3_close(s3);
    /* R2's region defaults to auto; a bad endpoint is one line */
    cfg.endpoint = "https://0123abcd.r2.cloudflarestorage.com";
    cfg.region = NULL;
    s3 = tp_s3_open(&cfg, &e);
    assert_non_null(s3);
    assert_string_equal(tp_s3_region(s3), "auto");
    tp_s3_close(s3);
    cfg.endpoint = "ftp://host";
    assert_null(tp_s3_open(&cfg, &e));
    assert_string_equal(e.code, "InvalidEndpoint");
}

static void retries_on_503_and_refused(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/retry.bin", workdir);
    write_random(path, 200000, 5);
    tp_s3_upload_result r;
    tp_s3_error e = {0};
    s3_proxy_heal(&proxy);
    atomic_store(&proxy.inject_503, 2);
    tp_s3 *via = client_at(proxy.port, "S3RVER", 4);
    if (tp_s3_upload_file(via, path, "bucket", "runs/retry.bin", NULL, &r, &e))
        print_error("%s\n", e.message);
    assert_int_equal(atomic_load(&proxy.inject_503), 0);
    assert_int_equal(r.retries, 2);
    tp_s3_close(via);
    /* refused connections: retried too */
    atomic_store(&proxy.refuse, 2);
    via = client_at(proxy.port, "S3RVER", 4);
    assert_int_equal(tp_s3_upload_file(via, path, "bucket", "runs/retry2.bin", NULL, &r, &e), 0);
    assert_int_equal(r.retries, 2);
    tp_s3_close(via);
    /* more 503s than attempts: the S3 code and the endpoint in one line */
    atomic_store(&proxy.inject_503, 10);
    via = client_at(proxy.port, "S3RVER", 3);
    assert_int_equal(tp_s3_upload_file(via, path, "bucket", "runs/retry3.bin", NULL, &r, &e), -1);
    assert_string_equal(e.code, "SlowDown");
    assert_int_equal(e.http_status, 503);
    char want[128];
    snprintf(want, sizeof want, "s3 http://127.0.0.1:%d: PUT bucket/runs/retry3.bin: SlowDown (503)", proxy.port);
    assert_non_null(strstr(e.message, want));
    tp_s3_close(via);
    s3_proxy_heal(&proxy);
    tp_s3 *s3 = direct();
    assert_object_equals_file(s3, "runs/retry.bin", path);
    assert_object_equals_file(s3, "runs/retry2.bin", path);
    tp_s3_close(s3);
    unlink(path);
}

static void wrong_credentials(void **state)
{
    (void)state;
    tp_s3 *s3 = client_at(server.port, "WRONGKEY", 3);
    static const char body[] = "x";
    tp_s3_error e = {0};
    assert_int_equal(tp_s3_put(s3, "bucket", "runs/x", body, 1, NULL, NULL, &e), -1);
    char want[128];
    snprintf(want, sizeof want, "s3 http://127.0.0.1:%d: PUT bucket/runs/x: InvalidAccessKeyId (403)", server.port);
    assert_non_null(strstr(e.message, want));
    assert_null(strchr(e.message, '\n'));
    assert_string_equal(e.code, "InvalidAccessKeyId");
    assert_int_equal(e.http_status, 403);
    tp_s3_close(s3);
}

static void credentials_files(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/credentials", workdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = defaultsecret\n\n"
               "[station]\naws_access_key_id=STATIONKEY\naws_secret_access_key=stationsecret\n"
               "aws_session_token = tok\nregion = eu-central-1\n");
    fclose(f);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    tp_s3_credentials c;
    tp_s3_error e = {0};
    chmod(path, 0644);
    assert_int_equal(tp_s3_credentials_load(&c, &e), -1);
    assert_string_equal(e.code, "InsecureCredentialsFile");
    assert_non_null(strstr(e.message, path));
    assert_non_null(strstr(e.message, "0644"));
    assert_null(strchr(e.message, '\n'));
    assert_null(strstr(e.message, "secret"));
    chmod(path, 0600);
    unsetenv("AWS_PROFILE");
    assert_int_equal(tp_s3_credentials_load(&c, &e), 0);
    assert_string_equal(c.access_key_id, "DEFAULTKEY");
    assert_string_equal(c.secret_access_key, "defaultsecret");
    setenv("AWS_PROFILE", "station", 1);
    assert_int_equal(tp_s3_credentials_load(&c, &e), 0);
    assert_string_equal(c.access_key_id, "STATIONKEY");
    assert_string_equal(c.session_token, "tok");
    assert_string_equal(c.region, "eu-central-1");
    setenv("AWS_PROFILE", "absent", 1);
    assert_int_equal(tp_s3_credentials_load(&c, &e), -1);
    assert_non_null(strstr(e.message, "[absent]"));
    /* the environment wins over the file */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    assert_int_equal(tp_s3_credentials_load(&c, &e), 0);
    assert_string_equal(c.access_key_id, "ENVKEY");
    assert_string_equal(c.source, "environment");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(tp_s3_credentials_load(&c, &e), -1);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_CONFIG_FILE");
    tp_s3_credentials_clear(&c);
    unlink(path);
}

static void listing_pages(void **state)
{
    (void)state;
    tp_s3 *s3 = direct();
    tp_s3_error e = {0};
    for (int i = 0; i < 7; i++) {
        char key[64], body[16];
        snprintf(key, sizeof key, "pages/k%02d", i);
        int n = snprintf(body, sizeof body, "%d", i);
        assert_int_equal(tp_s3_put(s3, "bucket", key, body, (size_t)n, NULL, NULL, &e), 0);
    }
    assert_int_equal(tp_s3_put(s3, "bucket", "pages/sub/x", "x", 1, NULL, NULL, &e), 0);
    s3_test_set_list_page(s3, 3);
    tp_s3_listing l;
    assert_int_equal(tp_s3_list(s3, "bucket", "pages/", NULL, &l, &e), 0);
    assert_int_equal(l.count, 8);
    for (int i = 0; i < 7; i++) {
        char key[64];
        snprintf(key, sizeof key, "pages/k%02d", i);
        assert_string_equal(l.objects[i].key, key);
        assert_int_equal(l.objects[i].size, 1);
        assert_int_equal(strlen(l.objects[i].etag), 32);
        assert_true(l.objects[i].last_modified_ms > 1600000000000LL);
    }
    tp_s3_listing_free(&l);
    assert_int_equal(tp_s3_list(s3, "bucket", "pages/", "/", &l, &e), 0);
    assert_int_equal(l.count, 7);
    assert_int_equal(l.nprefixes, 1);
    assert_string_equal(l.prefixes[0], "pages/sub/");
    tp_s3_listing_free(&l);
    tp_s3_close(s3);
}

typedef struct order {
    char keys[16][128];
    int n;
} order;

static void record_order(void *user, const tp_s3_progress *p)
{
    order *o = user;
    if (o->n == 0 || strcmp(o->keys[o->n - 1], p->key)) {
        assert_true(o->n < 16);
        snprintf(o->keys[o->n++], sizeof o->keys[0], "%s", p->key);
    }
}

static void dataset_meta_last(void **state)
{
    (void)state;
    char root[300], cmd[1200];
    snprintf(root, sizeof root, "%s/ds", workdir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/meta/episodes/chunk-000 %s/data/chunk-000 %s/videos/cam", root, root, root);
    assert_int_equal(system(cmd), 0);
    const char *files[] = {"meta/info.json", "meta/stats.json", "meta/episodes/chunk-000/file-000.parquet",
                           "data/chunk-000/file-000.parquet", "videos/cam/file-000.mp4", "README.md",
                           ".hidden", "data/chunk-000/file-000.parquet.upload-state"};
    for (int i = 0; i < 8; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", root, files[i]);
        write_random(p, 1000 + (size_t)i, (unsigned)i);
    }
    tp_s3 *s3 = direct();
    order o = {0};
    tp_s3_upload_options opt = {.progress = record_order, .progress_user = &o};
    tp_s3_upload_result r;
    tp_s3_error e = {0};
    if (tp_s3_upload_dataset(s3, root, "bucket", "datasets/pick", &opt, &r, &e))
        print_error("%s\n", e.message);
    assert_int_equal(e.code[0], 0);
    assert_int_equal(o.n, 6);
    assert_string_equal(o.keys[0], "datasets/pick/README.md");
    assert_string_equal(o.keys[1], "datasets/pick/data/chunk-000/file-000.parquet");
    assert_string_equal(o.keys[2], "datasets/pick/videos/cam/file-000.mp4");
    assert_string_equal(o.keys[3], "datasets/pick/meta/episodes/chunk-000/file-000.parquet");
    assert_string_equal(o.keys[4], "datasets/pick/meta/stats.json");
    assert_string_equal(o.keys[5], "datasets/pick/meta/info.json");
    tp_s3_listing l;
    assert_int_equal(tp_s3_list(s3, "bucket", "datasets/pick/", NULL, &l, &e), 0);
    assert_int_equal(l.count, 6);
    tp_s3_listing_free(&l);
    char p[700];
    snprintf(p, sizeof p, "%s/meta/info.json", root);
    assert_object_equals_file(s3, "datasets/pick/meta/info.json", p);
    /* a rerun sends nothing again (a state file marks an interrupted upload:
     * that file would be sent again) */
    assert_false(r.unchanged);
    snprintf(p, sizeof p, "%s/data/chunk-000/file-000.parquet.upload-state", root);
    unlink(p);
    assert_int_equal(tp_s3_upload_dataset(s3, root, "bucket", "datasets/pick", NULL, &r, &e), 0);
    assert_true(r.unchanged);
    assert_int_equal(r.bytes_sent, 0);
    tp_s3_close(s3);
}

/* s3rver 3.7.1 has no ListParts, ListMultipartUploads or AbortMultipartUpload:
 * the client says so in one line, and a resume relies on the state file (as
 * cut_then_resume shows). Their parsers are checked on AWS's documented
 * example responses. */
static void unsupported_calls(void **state)
{
    (void)state;
    tp_s3 *s3 = direct();
    tp_s3_error e = {0};
    int aborted = -1;
    assert_int_equal(tp_s3_abort_stale(s3, "bucket", "runs", 3600, &aborted, &e), -1);
    assert_string_equal(e.code, "NotImplemented");
    assert_null(strchr(e.message, '\n'));
    tp_s3_close(s3);

    static const char parts_xml[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
        "  <Bucket>example-bucket</Bucket>\n  <Key>example-object</Key>\n"
        "  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>\n"
        "  <PartNumberMarker>1</PartNumberMarker>\n  <NextPartNumberMarker>3</NextPartNumberMarker>\n"
        "  <MaxParts>2</MaxParts>\n  <IsTruncated>true</IsTruncated>\n"
        "  <Part>\n    <PartNumber>2</PartNumber>\n    <LastModified>2010-11-10T20:48:34.000Z</LastModified>\n"
        "    <ETag>\"7778aef83f66abc1fa1e8477f296d394\"</ETag>\n    <Size>10485760</Size>\n  </Part>\n"
        "  <Part>\n    <PartNumber>3</PartNumber>\n    <LastModified>2010-11-10T20:48:33.000Z</LastModified>\n"
        "    <ETag>\"aaaa18db4cc2f85cedef654fccc4a4x8\"</ETag>\n    <Size>10485760</Size>\n  </Part>\n"
        "</ListPartsResult>";
    tp_s3_part *parts = NULL;
    int n = 0;
    bool truncated = false;
    char next[16];
    assert_int_equal(s3_parse_list_parts(parts_xml, sizeof parts_xml - 1, &parts, &n, &truncated, next, sizeof next),
                     0);
    assert_int_equal(n, 2);
    assert_true(truncated);
    assert_string_equal(next, "3");
    assert_int_equal(parts[0].number, 2);
    assert_string_equal(parts[0].etag, "7778aef83f66abc1fa1e8477f296d394");
    assert_int_equal(parts[1].size, 10485760);
    free(parts);

    static const char uploads_xml[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
        "  <Bucket>bucket</Bucket>\n  <KeyMarker></KeyMarker>\n  <UploadIdMarker></UploadIdMarker>\n"
        "  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>\n"
        "  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>\n"
        "  <MaxUploads>3</MaxUploads>\n  <IsTruncated>true</IsTruncated>\n"
        "  <Upload>\n    <Key>my-divisor</Key>\n"
        "    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>\n"
        "    <StorageClass>STANDARD</StorageClass>\n    <Initiated>2010-11-10T20:48:33.000Z</Initiated>\n"
        "  </Upload>\n"
        "  <Upload>\n    <Key>my-movie.m2ts</Key>\n"
        "    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\n"
        "    <Initiated>2010-11-10T20:48:33.123Z</Initiated>\n  </Upload>\n"
        "</ListMultipartUploadsResult>";
    tp_s3_upload *u = NULL;
    char nk[256], ni[256];
    n = 0;
    assert_int_equal(
        s3_parse_list_uploads(uploads_xml, sizeof uploads_xml - 1, &u, &n, &truncated, nk, ni, sizeof nk), 0);
    assert_int_equal(n, 2);
    assert_string_equal(u[0].key, "my-divisor");
    assert_string_equal(u[1].upload_id, "VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
    assert_int_equal(u[0].initiated_ms, 1289422113000LL);
    assert_int_equal(u[1].initiated_ms, 1289422113123LL);
    assert_string_equal(nk, "my-movie.m2ts");
    tp_s3_uploads_free(u, n);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s NODE SERVER_MJS\n", argv[0]);
        return 2;
    }
    node_path = argv[1];
    server_script = argv[2];
    unsetenv("AWS_CA_BUNDLE");
    snprintf(workdir, sizeof workdir, "/tmp/teleop-s3test-XXXXXX");
    if (!mkdtemp(workdir))
        return 1;
    const char *buckets[] = {"bucket", NULL};
    if (s3_server_start(&server, node_path, server_script, buckets))
        return 1;
    if (s3_proxy_start(&proxy, server.port))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_round_trip),  cmocka_unit_test(multipart_round_trip),
        cmocka_unit_test(cut_then_resume),    cmocka_unit_test(cancel_then_resume),
        cmocka_unit_test(stale_state_restarts),
        cmocka_unit_test(virtual_host_addressing), cmocka_unit_test(retries_on_503_and_refused),
        cmocka_unit_test(wrong_credentials),  cmocka_unit_test(credentials_files),
        cmocka_unit_test(listing_pages),      cmocka_unit_test(dataset_meta_last),
        cmocka_unit_test(unsupported_calls),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    s3_server_stop(&server);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", workdir);
    return rc;
}
