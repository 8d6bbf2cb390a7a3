/* The "unitree" link's receiver thread: takes every rt/lowstate and Dex3-1
 * state as it arrives, stamps it, checks it and publishes the newest state
 * through a seqlock. It waits on a DDS waitset rather than running in a
 * listener, because a listener runs inside CycloneDDS's own receive thread:
 * our copying and checking would delay every other topic's delivery, and
 * close could not stop it cleanly. */
#include <assert.h>
#include <string.h>

#include "teleop/clock.h"
#include "unitree_link_internal.h"

void ul_seqlock_write(ul_seqlock *l, const ul_state *s)
{
    uint64_t words[UL_STATE_WORDS] = {0};
    memcpy(words, s, sizeof *s);
    unsigned seq = atomic_load_explicit(&l->seq, memory_order_relaxed);
    atomic_store_explicit(&l->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < UL_STATE_WORDS; i++)
        atomic_store_explicit(&l->words[i], words[i], memory_order_relaxed);
    atomic_store_explicit(&l->seq, seq + 2, memory_order_release);
}

void ul_seqlock_read(ul_seqlock *l, ul_state *s)
{
    uint64_t words[UL_STATE_WORDS];
    unsigned before, after;
    do {
        before = atomic_load_explicit(&l->seq, memory_order_acquire);
        for (size_t i = 0; i < UL_STATE_WORDS; i++)
            words[i] = atomic_load_explicit(&l->words[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        after = atomic_load_explicit(&l->seq, memory_order_relaxed);
    } while ((before & 1u) || before != after);
    memcpy(s, words, sizeof *s);
}

/* The robot's tick advances by a fixed step per state (1 per ms on some
 * firmware, 2 at 500 Hz on others): the step is learnt as the smallest
 * positive difference seen, and the gaps are the steps the ticks spanned
 * minus the states that arrived, recounted whenever a smaller step is learnt
 * (a receiver that missed states from the start would otherwise take their
 * spacing for the step). A tick that goes back (the robot restarted) starts
 * a new span. */
typedef struct tick_tracker {
    bool have;
    uint32_t last, step;
    uint64_t span, intervals; /* ticks spanned and states taken since the span began */
    uint64_t gaps_before;     /* counted in earlier spans */
} tick_tracker;

static uint64_t span_gaps(const tick_tracker *t)
{
    if (!t->step)
        return t->gaps_before;
    uint64_t steps = (t->span + t->step / 2) / t->step;
    return t->gaps_before + (steps > t->intervals ? steps - t->intervals : 0);
}

/* The total of gaps so far. */
static uint64_t tick_gaps(tick_tracker *t, uint32_t tick)
{
    if (t->have) {
        uint32_t d = tick - t->last; /* modular: a wrap is a small step */
        if (d != 0 && d < 0x80000000u) {
            if (t->step == 0 || d < t->step)
                t->step = d;
            t->span += d;
            t->intervals++;
        } else if (d != 0) {
            t->gaps_before = span_gaps(t);
            t->span = t->intervals = 0;
        }
    }
    t->last = tick;
    t->have = true;
    return span_gaps(t);
}

static void take_low_states(unitree_link *l, ul_state *st, tick_tracker *ticks, bool *changed)
{
    static_assert(sizeof(tp_unitree_low_state) < 4096, "LowState is taken onto the stack");
    tp_unitree_low_state msg;
    for (;;) {
        void *samples[1] = {&msg};
        dds_sample_info_t info;
        if (dds_take(l->low_reader, samples, &info, 1, 1) != 1)
            return;
        int64_t now = tp_now_ns();
        if (!info.valid_data)
            continue;
        if (!tp_unitree_low_state_crc_ok(&msg)) {
            atomic_fetch_add_explicit(&l->crc_errors, 1, memory_order_relaxed);
            continue;
        }
        atomic_store_explicit(&l->sequence_gaps, tick_gaps(ticks, msg.tick), memory_order_relaxed);
        tp_unitree_low_state_read(&msg, TP_G1_ARM_JOINTS, st->arm_q, st->arm_dq);
        st->low_ns = now;
        st->mode_machine = msg.mode_machine;
        atomic_fetch_add_explicit(&l->states, 1, memory_order_relaxed);
        *changed = true;
    }
}

static void take_hand_states(unitree_link *l, int side, ul_state *st, bool *changed)
{
    for (;;) {
        void *loan[1] = {NULL};
        dds_sample_info_t info;
        if (dds_take(l->hand_reader[side], loan, &info, 1, 1) != 1)
            return;
        int64_t now = tp_now_ns();
        /* A state with fewer than 7 motors is not a Dex3-1's: ignored. */
        if (info.valid_data && tp_unitree_hand_state_read(loan[0], st->hand_q[side], st->hand_dq[side])) {
            st->hand_ns[side] = now;
            *changed = true;
        }
        dds_return_loan(l->hand_reader[side], loan, 1);
    }
}

void *ul_receiver_thread(void *arg)
{
    unitree_link *l = arg;
    pthread_setname_np(pthread_self(), "tp-unitree-rx");
    ul_state st;
    memset(&st, 0, sizeof st);
    tick_tracker ticks = {0};
    dds_attach_t triggered[4];
    while (!atomic_load(&l->quit)) {
        if (dds_waitset_wait(l->waitset, triggered, 4, DDS_SECS(1)) < 0)
            break;
        bool changed = false;
        take_low_states(l, &st, &ticks, &changed);
        for (int side = 0; side < 2; side++)
            take_hand_states(l, side, &st, &changed);
        if (changed)
            ul_seqlock_write(&l->state, &st);
    }
    return NULL;
}
