/* Triple buffer: newest value wins, freshness, and a two-thread run that
 * checks no value is ever read torn or out of order. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "teleop/triple_buffer.h"

static void put(tp_triple *t, int v)
{
    *(int *)tp_triple_back(t) = v;
    tp_triple_publish(t);
}

static void test_newest_wins(void **state)
{
    (void)state;
    tp_triple t;
    assert_int_equal(tp_triple_init(&t, 0), -1);
    assert_int_equal(tp_triple_init(&t, sizeof(int)), 0);
    bool fresh = true;
    assert_null(tp_triple_read(&t, &fresh)); /* nothing published yet */
    assert_false(fresh);
    assert_false(tp_triple_unread(&t));
    put(&t, 1);
    assert_true(tp_triple_unread(&t));
    put(&t, 2);
    put(&t, 3); /* the consumer was slow: 1 and 2 are overwritten, never queued */
    const int *v = tp_triple_read(&t, &fresh);
    assert_non_null(v);
    assert_true(fresh);
    assert_int_equal(*v, 3);
    assert_false(tp_triple_unread(&t));
    v = tp_triple_read(&t, &fresh); /* nothing new: the same value again */
    assert_false(fresh);
    assert_int_equal(*v, 3);
    /* The producer always has a slot, and writing it never touches the one read. */
    for (int i = 10; i < 20; i++) {
        put(&t, i);
        assert_int_equal(*v, 3);
    }
    v = tp_triple_read(&t, &fresh);
    assert_true(fresh);
    assert_int_equal(*v, 19);
    tp_triple_free(&t);
}

enum { WORDS = 64, STRESS_N = 300000 };

typedef struct {
    tp_triple t;
    atomic_int done;
} shared;

static void *producer(void *arg)
{
    shared *sh = arg;
    for (uint64_t i = 1; i <= STRESS_N; i++) {
        uint64_t *slot = tp_triple_back(&sh->t);
        for (int w = 0; w < WORDS; w++)
            slot[w] = i * 2654435761u + (uint64_t)w;
        tp_triple_publish(&sh->t);
    }
    atomic_store(&sh->done, 1);
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    shared sh = {.done = 0};
    assert_int_equal(tp_triple_init(&sh.t, WORDS * sizeof(uint64_t)), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer, &sh), 0);
    uint64_t last = 0, reads = 0;
    for (;;) {
        int finished = atomic_load(&sh.done);
        bool fresh;
        const uint64_t *v = tp_triple_read(&sh.t, &fresh);
        if (v) {
            uint64_t seq = v[0] / 2654435761u;
            /* Whole: every word from the same write. */
            for (int w = 0; w < WORDS; w++)
                assert_true(v[w] == seq * 2654435761u + (uint64_t)w);
            /* In order: a fresh value is newer, a stale one the same. */
            if (fresh)
                assert_true(seq > last);
            else
                assert_true(seq == last);
            last = seq;
            reads++;
        }
        if (finished && last == STRESS_N)
            break;
        assert_false(finished && !fresh && v && last != STRESS_N); /* the last value is always delivered */
    }
    pthread_join(th, NULL);
    assert_true(reads > 0);
    tp_triple_free(&sh.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newest_wins),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
