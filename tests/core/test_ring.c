/* SPSC ring: order, capacity, latest, and a two-thread stress run. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "teleop/ring.h"

static void test_fifo_and_full(void **state)
{
    (void)state;
    tp_ring r;
    assert_int_equal(tp_ring_init(&r, sizeof(int), 5), 0);
    assert_int_equal(r.capacity, 8);
    for (int i = 0; i < 8; i++)
        assert_true(tp_ring_push(&r, &i));
    int x = 99;
    assert_false(tp_ring_push(&r, &x)); /* full: refused, nothing overwritten */
    assert_int_equal(tp_ring_count(&r), 8);
    for (int i = 0; i < 8; i++) {
        assert_true(tp_ring_pop(&r, &x));
        assert_int_equal(x, i);
    }
    assert_false(tp_ring_pop(&r, &x));
    tp_ring_free(&r);
    assert_int_equal(tp_ring_init(&r, 0, 4), -1);
}

static void test_latest_and_zero_copy(void **state)
{
    (void)state;
    tp_ring r;
    assert_int_equal(tp_ring_init(&r, sizeof(int), 4), 0);
    int x;
    assert_false(tp_ring_pop_latest(&r, &x));
    for (int i = 1; i <= 3; i++)
        assert_true(tp_ring_push(&r, &i));
    assert_true(tp_ring_pop_latest(&r, &x));
    assert_int_equal(x, 3);
    assert_int_equal(tp_ring_count(&r), 0);
    int *slot = tp_ring_reserve(&r);
    assert_non_null(slot);
    *slot = 42;
    assert_null(tp_ring_front(&r)); /* not visible before commit */
    tp_ring_commit(&r);
    const int *f = tp_ring_front(&r);
    assert_non_null(f);
    assert_int_equal(*f, 42);
    tp_ring_release(&r);
    assert_null(tp_ring_front(&r));
    tp_ring_free(&r);
}

typedef struct {
    uint64_t seq;
    uint64_t check;
} item;

enum { STRESS_N = 2000000 };

static void *producer(void *arg)
{
    tp_ring *r = arg;
    for (uint64_t i = 0; i < STRESS_N;) {
        item it = {i, i * 2654435761u};
        if (tp_ring_push(r, &it))
            i++;
    }
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    tp_ring r;
    assert_int_equal(tp_ring_init(&r, sizeof(item), 64), 0);
    pthread_t th;
    pthread_create(&th, NULL, producer, &r);
    uint64_t expect = 0;
    while (expect < STRESS_N) {
        item it;
        if (tp_ring_pop(&r, &it)) {
            /* Every element arrives once, in order, whole. */
            assert_int_equal(it.seq, expect);
            assert_int_equal(it.check, expect * 2654435761u);
            expect++;
        }
    }
    pthread_join(th, NULL);
    tp_ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_full),
        cmocka_unit_test(test_latest_and_zero_copy),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
