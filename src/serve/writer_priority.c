#include "serve/writer_priority.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { POLL_MS = 10 };

struct writer_priority {
    pthread_t writer, controller;
    writer_need_fn need;
    void *arg;
    _Atomic int stopping;
    _Atomic int idle;
};

static int set_policy(pthread_t t, int idle)
{
    struct sched_param sp;
    memset(&sp, 0, sizeof sp);
    return pthread_setschedparam(t, idle ? SCHED_IDLE : SCHED_OTHER, &sp);
}

/* Whether a thread of this process may go to idle priority and back: tried
 * on a throwaway thread, so a refusal strands nobody at idle priority. */
static void *probe_main(void *out)
{
    *(int *)out = set_policy(pthread_self(), 1) == 0 && set_policy(pthread_self(), 0) == 0;
    return NULL;
}

static int may_switch(void)
{
    int ok = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, probe_main, &ok) != 0) return 0;
    pthread_join(t, NULL);
    return ok;
}

static void *controller_main(void *arg)
{
    struct writer_priority *w = arg;
    while (!atomic_load(&w->stopping)) {
        int need = w->need(w->arg);
        int idle = atomic_load(&w->idle);
        if (need >= 0 && need == idle && set_policy(w->writer, !need) == 0)
            atomic_store(&w->idle, !need);
        time_sleep_ms(POLL_MS);
    }
    return NULL;
}

struct writer_priority *writer_priority_start(pthread_t writer, writer_need_fn need, void *arg)
{
    if (!may_switch()) {
        log_info("the prediction log writer runs at normal priority (switching it to idle "
                 "priority and back needs CAP_SYS_NICE or RLIMIT_NICE 20)");
        return NULL;
    }
    struct writer_priority *w = xcalloc(1, sizeof *w);
    w->writer = writer;
    w->need = need;
    w->arg = arg;
    atomic_init(&w->stopping, 0);
    atomic_init(&w->idle, 0);
    if (pthread_create(&w->controller, NULL, controller_main, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

int writer_priority_is_idle(const struct writer_priority *w)
{
    return w && atomic_load(&w->idle);
}

void writer_priority_stop(struct writer_priority *w)
{
    if (!w) return;
    atomic_store(&w->stopping, 1);
    pthread_join(w->controller, NULL);
    if (atomic_load(&w->idle)) set_policy(w->writer, 0);
    free(w);
}
