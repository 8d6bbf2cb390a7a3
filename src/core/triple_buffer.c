/* teleop — triple buffer: three slots, one atomic exchange per handover. */
#include "teleop/triple_buffer.h"

#include <stdlib.h>

#define TP_TRIPLE_FRESH 4u
#define TP_TRIPLE_INDEX 3u

int tp_triple_init(tp_triple *t, size_t slot_size)
{
    if (!t || slot_size == 0)
        return -1;
    t->slots = calloc(3, slot_size);
    if (!t->slots)
        return -1;
    t->slot_size = slot_size;
    t->back = 0;
    atomic_init(&t->middle, 1u);
    t->front = 2;
    t->has_front = false;
    return 0;
}

void tp_triple_free(tp_triple *t)
{
    if (!t)
        return;
    free(t->slots);
    t->slots = NULL;
}

void *tp_triple_back(tp_triple *t) { return t->slots + (size_t)t->back * t->slot_size; }

void tp_triple_publish(tp_triple *t)
{
    /* Release: the slot's bytes are visible before the consumer can take it;
     * acquire: the slot handed back is no longer read by the consumer. */
    unsigned old = atomic_exchange_explicit(&t->middle, t->back | TP_TRIPLE_FRESH, memory_order_acq_rel);
    t->back = old & TP_TRIPLE_INDEX;
}

bool tp_triple_unread(tp_triple *t)
{
    return atomic_load_explicit(&t->middle, memory_order_relaxed) & TP_TRIPLE_FRESH;
}

const void *tp_triple_read(tp_triple *t, bool *fresh)
{
    bool got = false;
    if (atomic_load_explicit(&t->middle, memory_order_relaxed) & TP_TRIPLE_FRESH) {
        unsigned old = atomic_exchange_explicit(&t->middle, t->front, memory_order_acq_rel);
        t->front = old & TP_TRIPLE_INDEX;
        t->has_front = true;
        got = true;
    }
    if (fresh)
        *fresh = got;
    return t->has_front ? t->slots + (size_t)t->front * t->slot_size : NULL;
}
