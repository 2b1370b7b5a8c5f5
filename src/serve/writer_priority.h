/* Background writers that yield to requests. A writer thread (the
 * prediction log's) runs at idle priority (SCHED_IDLE) while it keeps up,
 * so on a busy box its bursts never take a core from a request thread —
 * they showed as a p99 of 2-3 ms instead of ~1.8 at half load — and at
 * normal priority when it falls behind or someone waits for it, so at full
 * load it still gets its share and the backlog stays bounded. A controller
 * thread polls the writer's state every few milliseconds and switches the
 * policy. Going back from SCHED_IDLE to SCHED_OTHER needs CAP_SYS_NICE or
 * an RLIMIT_NICE of 20 (systemd: LimitNICE=-20); without it the writer
 * simply stays at normal priority, as before. */
#ifndef BOUCLE_SERVE_WRITER_PRIORITY_H
#define BOUCLE_SERVE_WRITER_PRIORITY_H

#include <pthread.h>

/* What the writer needs: 1 = normal priority (behind, or a caller waits),
 * 0 = idle priority is enough (keeping up), -1 = keep the current one. */
typedef int (*writer_need_fn)(void *arg);

struct writer_priority;

/* Starts the controller for `writer`; NULL when this process may not
 * switch priorities back and forth (then nothing changes). */
struct writer_priority *writer_priority_start(pthread_t writer, writer_need_fn need, void *arg);
/* Whether the writer currently runs at idle priority (for tests). */
int writer_priority_is_idle(const struct writer_priority *w);
/* Stops the controller and leaves the writer at normal priority. */
void writer_priority_stop(struct writer_priority *w);

#endif
