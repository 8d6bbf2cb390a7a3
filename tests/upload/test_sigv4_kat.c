/* SigV4 known-answer tests: libcurl 7.88's signing (CURLOPT_AWS_SIGV4), fed
 * by the S3 client's own request construction (canonical query, encoded
 * key, x-amz-content-sha256), must give the signatures AWS publishes.
 *
 * Vectors: the four examples of the Amazon S3 API reference, "Signature
 * Calculations for the Authorization Header: Transferring Payload in a
 * Single Chunk" (GET Object, PUT Object, GET Bucket Lifecycle, Get Bucket
 * (List Objects); AKIAIOSFODNN7EXAMPLE, 20130524T000000Z), and cases of
 * AWS's SigV4 test suite (AKIDEXAMPLE, service "service", 20150830T123600Z).
 * A loopback listener captures the Authorization header curl sends; the
 * vector's host name reaches it through CURLOPT_CONNECT_TO and its date
 * through an X-Amz-Date header (libcurl signs with a date it is given).
 *
 * What libcurl 7.88 cannot reproduce unaided, and why (docs/upload.md):
 * it signs the query string exactly as written (unsorted, "?lifecycle"
 * without '='), so the client builds canonical queries itself (the
 * query-order vectors below pass through that builder: curl given
 * "?Param2=value2&Param1=value1" as written signs 852baf9d..., not the
 * published b97d918c...); it adds no x-amz-content-sha256 for S3, so the
 * client adds it (and the S3 vectors show it signed); it has no session
 * token option, so the client sends x-amz-security-token as a header, which
 * curl signs like any other. Vectors of the suite not run: those whose
 * request line holds raw spaces or UTF-8 (get-space, get-utf8: the client
 * always percent-encodes, covered by uri_encoding), dot segments
 * (get-relative*: S3 keys are not normalised, CURLOPT_PATH_AS_IS) and the
 * STS-token cases (a token of the suite's own format). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "upload/s3_internal.h"

static int listen_fd;
static int port;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char captured[8192]; /* the last request's head */

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(listen_fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[65536];
        size_t len = 0;
        char *end = NULL;
        while (len < sizeof buf - 1 && !end) {
            ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
            if (n <= 0)
                break;
            len += (size_t)n;
            buf[len] = 0;
            end = strstr(buf, "\r\n\r\n");
        }
        if (end) {
            size_t head = (size_t)(end + 4 - buf);
            long body = 0;
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            if (cl && cl < end)
                body = strtol(cl + 17, NULL, 10);
            const char *ex = strcasestr(buf, "\r\nExpect: 100-continue");
            if (ex && ex < end && len == head)
                send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
            while ((long)(len - head) < body && len < sizeof buf - 1) {
                ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
                if (n <= 0)
                    break;
                len += (size_t)n;
            }
            pthread_mutex_lock(&lock);
            snprintf(captured, sizeof captured, "%.*s", (int)head, buf);
            pthread_mutex_unlock(&lock);
        }
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        send(c, ok, sizeof ok - 1, MSG_NOSIGNAL);
        close(c);
    }
}

static void authorization(char *out, size_t outlen)
{
    pthread_mutex_lock(&lock);
    const char *a = strcasestr(captured, "\r\nAuthorization: ");
    out[0] = 0;
    if (a) {
        a += 17;
        snprintf(out, outlen, "%.*s", (int)strcspn(a, "\r\n"), a);
    }
    pthread_mutex_unlock(&lock);
}

static const char S3_SECRET[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
static const char SUITE_SECRET[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/* A client for the S3 examples: virtual-host addressing on s3.amazonaws.com. */
static tp_s3 *s3_example_client(void)
{
    tp_s3_credentials cred = {.access_key_id = "AKIAIOSFODNN7EXAMPLE", .source = "test"};
    snprintf(cred.secret_access_key, sizeof cred.secret_access_key, "%s", S3_SECRET);
    tp_s3_config cfg = {.endpoint = "http://s3.amazonaws.com", .region = "us-east-1",
                        .addressing = TP_S3_ADDRESSING_VIRTUAL, .credentials = &cred, .max_attempts = 1};
    tp_s3_error e = {0};
    tp_s3 *s3 = tp_s3_open(&cfg, &e);
    assert_non_null(s3);
    char map[128];
    snprintf(map, sizeof map, "examplebucket.s3.amazonaws.com:80:127.0.0.1:%d", port);
    assert_int_equal(s3_test_connect_to(s3, map), 0);
    s3_test_set_date(s3, "20130524T000000Z");
    return s3;
}

/* A client for the suite's vectors: host example.amazonaws.com, service "service". */
static tp_s3 *suite_client(void)
{
    tp_s3_credentials cred = {.access_key_id = "AKIDEXAMPLE", .source = "test"};
    snprintf(cred.secret_access_key, sizeof cred.secret_access_key, "%s", SUITE_SECRET);
    tp_s3_config cfg = {.endpoint = "http://example.amazonaws.com", .region = "us-east-1",
                        .addressing = TP_S3_ADDRESSING_PATH, .credentials = &cred, .max_attempts = 1};
    tp_s3_error e = {0};
    tp_s3 *s3 = tp_s3_open(&cfg, &e);
    assert_non_null(s3);
    char map[128];
    snprintf(map, sizeof map, "example.amazonaws.com:80:127.0.0.1:%d", port);
    assert_int_equal(s3_test_connect_to(s3, map), 0);
    s3_test_set_date(s3, "20150830T123600Z");
    s3_test_set_service(s3, "service");
    return s3;
}

static void send_and_expect(tp_s3 *s3, const s3_request *rq, const char *want)
{
    s3_response rs = {0};
    tp_s3_error e = {0};
    captured[0] = 0;
    assert_int_equal(s3_perform(s3, rq, &rs, &e), 0);
    assert_int_equal(rs.status, 200);
    s3_response_free(&rs);
    char got[1024];
    authorization(got, sizeof got);
    if (strcmp(got, want))
        print_error("request:\n%s\nwant Authorization: %s\n", captured, want);
    assert_string_equal(got, want);
    /* the secret never travels */
    assert_null(strstr(captured, S3_SECRET));
    assert_null(strstr(captured, SUITE_SECRET));
}

#define S3_CRED "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
#define SUITE_CRED "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

static void s3_get_object(void **state)
{
    (void)state;
    tp_s3 *s3 = s3_example_client();
    s3_request rq = {.method = "GET", .bucket = "examplebucket", .key = "test.txt", .headers = {"Range: bytes=0-9"}};
    send_and_expect(s3, &rq,
                    S3_CRED "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    tp_s3_close(s3);
}

static void s3_put_object(void **state)
{
    (void)state;
    tp_s3 *s3 = s3_example_client();
    static const char body[] = "Welcome to Amazon S3.";
    /* the key "test$file.text" is URI-encoded by the client ("test%24file.text") */
    s3_request rq = {.method = "PUT", .bucket = "examplebucket", .key = "test$file.text", .body = body,
                     .body_len = sizeof body - 1, .send_body = true,
                     .headers = {"Date: Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class: REDUCED_REDUNDANCY"}};
    send_and_expect(s3, &rq,
                    S3_CRED "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    assert_non_null(strstr(captured, "PUT /test%24file.text HTTP/1.1\r\n"));
    assert_non_null(strstr(captured,
                           "x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"));
    tp_s3_close(s3);
}

static void s3_get_lifecycle(void **state)
{
    (void)state;
    tp_s3 *s3 = s3_example_client();
    const char *pairs[] = {"lifecycle", NULL, NULL};
    char *q = s3_query_build(pairs);
    assert_string_equal(q, "lifecycle=");
    s3_request rq = {.method = "GET", .bucket = "examplebucket", .query = q};
    send_and_expect(s3, &rq,
                    S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    free(q);
    tp_s3_close(s3);
}

static void s3_list_objects(void **state)
{
    (void)state;
    tp_s3 *s3 = s3_example_client();
    const char *pairs[] = {"prefix", "J", "max-keys", "2", NULL}; /* unsorted on purpose */
    char *q = s3_query_build(pairs);
    assert_string_equal(q, "max-keys=2&prefix=J");
    s3_request rq = {.method = "GET", .bucket = "examplebucket", .query = q};
    send_and_expect(s3, &rq,
                    S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    free(q);
    tp_s3_close(s3);
}

static void suite_get_vanilla(void **state)
{
    (void)state;
    tp_s3 *s3 = suite_client();
    s3_request rq = {.method = "GET", .no_payload_hash = true};
    send_and_expect(s3, &rq,
                    SUITE_CRED "SignedHeaders=host;x-amz-date, "
                               "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    tp_s3_close(s3);
}

static void suite_post_vanilla(void **state)
{
    (void)state;
    tp_s3 *s3 = suite_client();
    s3_request rq = {.method = "POST", .send_body = true, .no_payload_hash = true};
    send_and_expect(s3, &rq,
                    SUITE_CRED "SignedHeaders=host;x-amz-date, "
                               "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    tp_s3_close(s3);
}

static void suite_query_order_key_case(void **state)
{
    (void)state;
    tp_s3 *s3 = suite_client();
    const char *pairs[] = {"Param2", "value2", "Param1", "value1", NULL};
    char *q = s3_query_build(pairs);
    s3_request rq = {.method = "GET", .query = q, .no_payload_hash = true};
    send_and_expect(s3, &rq,
                    SUITE_CRED "SignedHeaders=host;x-amz-date, "
                               "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    free(q);
    tp_s3_close(s3);
}

static void suite_query_order_value(void **state)
{
    (void)state;
    tp_s3 *s3 = suite_client();
    const char *pairs[] = {"Param1", "value2", "Param1", "value1", NULL};
    char *q = s3_query_build(pairs);
    assert_string_equal(q, "Param1=value1&Param1=value2");
    s3_request rq = {.method = "GET", .query = q, .no_payload_hash = true};
    send_and_expect(s3, &rq,
                    SUITE_CRED "SignedHeaders=host;x-amz-date, "
                               "Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");
    free(q);
    tp_s3_close(s3);
}

static void suite_get_unreserved(void **state)
{
    (void)state;
    tp_s3 *s3 = suite_client();
    /* path-style with no bucket: the key is the whole path */
    s3_request rq = {.method = "GET", .key = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                     .no_payload_hash = true};
    send_and_expect(s3, &rq,
                    SUITE_CRED "SignedHeaders=host;x-amz-date, "
                               "Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
    tp_s3_close(s3);
}

static void suite_post_form(void **state)
{
    (void)state;
    tp_s3 *s3 = suite_client();
    static const char body[] = "Param1=value1";
    s3_request rq = {.method = "POST", .send_body = true, .body = body, .body_len = sizeof body - 1,
                     .content_type = "application/x-www-form-urlencoded", .no_payload_hash = true};
    send_and_expect(s3, &rq,
                    SUITE_CRED "SignedHeaders=content-type;host;x-amz-date, "
                               "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
    tp_s3_close(s3);
}

static void suite_header_value_trim(void **state)
{
    (void)state;
    tp_s3 *s3 = suite_client();
    s3_request rq = {.method = "GET", .no_payload_hash = true,
                     .headers = {"My-Header1:  value1", "My-Header2: \"a   b   c\""}};
    send_and_expect(s3, &rq,
                    SUITE_CRED "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                               "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
    tp_s3_close(s3);
}

static void uri_encoding(void **state)
{
    (void)state;
    s3_buf b = {0};
    assert_int_equal(s3_uri_encode(&b, "runs/ep 1/a=b+c\xe1\x88\xb4~", true), 0);
    assert_string_equal(b.data, "runs/ep%201/a%3Db%2Bc%E1%88%B4~");
    s3_buf_free(&b);
    assert_int_equal(s3_uri_encode(&b, "a/b", false), 0);
    assert_string_equal(b.data, "a%2Fb");
    s3_buf_free(&b);
}

int main(void)
{
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) || listen(listen_fd, 16)) {
        perror("listen");
        return 1;
    }
    socklen_t al = sizeof a;
    getsockname(listen_fd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, serve, NULL);
    pthread_detach(t);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(s3_get_object),
        cmocka_unit_test(s3_put_object),
        cmocka_unit_test(s3_get_lifecycle),
        cmocka_unit_test(s3_list_objects),
        cmocka_unit_test(suite_get_vanilla),
        cmocka_unit_test(suite_post_vanilla),
        cmocka_unit_test(suite_query_order_key_case),
        cmocka_unit_test(suite_query_order_value),
        cmocka_unit_test(suite_get_unreserved),
        cmocka_unit_test(suite_post_form),
        cmocka_unit_test(suite_header_value_trim),
        cmocka_unit_test(uri_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
