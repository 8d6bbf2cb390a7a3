/* The "unitree" robot link's private parts, shared by its three files:
 * unitree_link.c (the ops: open/close, the control thread's read_state and
 * write_command, health, events), unitree_link_rx.c (the receiver thread)
 * and unitree_link_tx.c (the sender thread). docs/devices/unitree.md
 * describes how they meet. */
#ifndef TELEOP_UNITREE_LINK_INTERNAL_H
#define TELEOP_UNITREE_LINK_INTERNAL_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "teleop/ring.h"
#include "teleop/robot_link.h"
#include "teleop/triple_buffer.h"
#include "unitree_dds.h"

#define UL_JOINTS TP_SIM_ACTION_DIMS /* 14 arm + 7 left hand + 7 right hand */
#define UL_HAND_BASE TP_G1_ARM_JOINTS /* the left hand's first joint in the action layout */

/* The newest robot state, as the receiver publishes it. An arrival time of 0
 * means nothing has arrived. */
typedef struct ul_state {
    int64_t low_ns;     /* CLOCK_MONOTONIC arrival of the newest good LowState */
    int64_t hand_ns[2]; /* ... of the newest Dex3-1 state, left and right */
    float arm_q[TP_G1_ARM_JOINTS], arm_dq[TP_G1_ARM_JOINTS];
    float hand_q[2][TP_DEX3_MOTORS], hand_dq[2][TP_DEX3_MOTORS];
    uint8_t mode_machine;
} ul_state;

/* A seqlock: one writer (the receiver), any number of readers (the control
 * thread, the sender) that never wait on a lock; a reader that overlaps a
 * write retries. The state is kept in relaxed atomic words so that the
 * overlapping copy is not a data race. */
#define UL_STATE_WORDS ((sizeof(ul_state) + sizeof(uint64_t) - 1) / sizeof(uint64_t))
typedef struct ul_seqlock {
    _Alignas(64) atomic_uint seq;
    _Atomic uint64_t words[UL_STATE_WORDS];
} ul_seqlock;

void ul_seqlock_write(ul_seqlock *l, const ul_state *s);
void ul_seqlock_read(ul_seqlock *l, ul_state *s);

/* One control tick's command on its way to the sender. */
typedef struct ul_command {
    int64_t t_ns;
    unsigned flags;        /* tp_control_flag bits of the tick */
    bool state_fresh;      /* the tick's read_state found the state fresh */
    double q[UL_JOINTS];
} ul_command;

typedef struct unitree_link {
    tp_unitree_link_config cfg;
    char interface[64];
    double control_hz;
    int64_t period_ns, timeout_ns;
    char model_name[128];
    tp_sim *model; /* kinematics: joint limits and gravity torque (sender thread after open) */
    double lower[UL_JOINTS], upper[UL_JOINTS];

    struct tp_unitree_dds *dds;
    dds_entity_t low_reader, hand_reader[2], arm_writer, hand_writer[2];
    dds_entity_t waitset, quit_guard;
    pthread_t rx_thread, tx_thread;
    bool rx_started, tx_started;
    int wake_fd; /* eventfd: write_command and stop wake the sender */
    atomic_bool quit;

    /* receiver -> everyone */
    ul_seqlock state;
    _Atomic uint64_t states, sequence_gaps, crc_errors;

    /* control thread only */
    bool was_fresh, hand_was_fresh[2];
    double last_hand_target[2][TP_DEX3_MOTORS];
    bool have_hand_target;
    tp_ring events; /* tp_device_event: control thread pushes, events op pops */

    /* control thread -> sender: the newest command (ul_command); one the
     * sender had not taken when the next came is superseded, never sent */
    tp_triple command_slot;

    /* sender -> everyone */
    atomic_bool stopping, released;
    _Atomic uint64_t commands, commands_refused, commands_superseded;
    _Atomic double weight; /* the blend weight last published */

    /* health */
    _Atomic double state_age_ms;
    atomic_bool state_stale;
    uint64_t base_states, base_commands; /* totals at start */
    int64_t start_ns; /* health's rates are since then */
} unitree_link;

/* Threads: started by open once the DDS entities exist, ended by close
 * (quit set, then the guard condition and the eventfd wake them). */
void *ul_receiver_thread(void *arg);
void *ul_sender_thread(void *arg);
/* Wakes the sender (non-blocking eventfd write). */
void ul_wake_sender(unitree_link *l);

#endif
