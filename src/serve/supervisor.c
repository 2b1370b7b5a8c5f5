#include "serve/supervisor.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct supervisor {
    char *config_path;
    pthread_t thread;
    _Atomic int stopping;
    _Atomic int pid;
    _Atomic int done; /* the supervising thread has returned */
    int restarts;
};

static pid_t spawn(struct supervisor *s)
{
    char id[64];
    snprintf(id, sizeof id, "serve-%d-worker-%d", (int)getpid(), s->restarts);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    /* a serve killed outright (SIGKILL, OOM) takes its worker along: an
     * orphaned worker would go on claiming jobs for a server that is gone
     * (the signal is sent when this supervising thread dies, which only a
     * dying process does while a worker runs) */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(0); /* it died before the line above */
    /* serve blocks SIGINT/SIGTERM and ignores SIGPIPE; a worker must not inherit that */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    char *argv[] = {"boucle", "--config", s->config_path, "worker", "--id", id, NULL};
    execv("/proc/self/exe", argv);
    fprintf(stderr, "boucle: cannot start the worker: %s\n", strerror(errno));
    _exit(127);
}

static void *supervise(void *arg)
{
    struct supervisor *s = arg;
    while (!atomic_load(&s->stopping)) {
        pid_t pid = spawn(s);
        if (pid < 0) {
            log_error("cannot fork the worker: %s; retrying in 1 s", strerror(errno));
            time_sleep_ms(1000);
            continue;
        }
        atomic_store(&s->pid, (int)pid);
        if (atomic_load(&s->stopping)) kill(pid, SIGTERM); /* stop raced with the spawn */
        log_info("worker started (pid %d)", (int)pid);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        atomic_store(&s->pid, 0);
        if (atomic_load(&s->stopping)) break;
        if (WIFSIGNALED(status))
            log_warn("worker (pid %d) killed by signal %d; restarting it", (int)pid,
                     WTERMSIG(status));
        else
            log_warn("worker (pid %d) exited with status %d; restarting it", (int)pid,
                     WEXITSTATUS(status));
        s->restarts++;
        time_sleep_ms(s->restarts > 5 ? 2000 : 200); /* do not spin on a broken worker */
    }
    atomic_store(&s->done, 1);
    return NULL;
}

struct supervisor *supervisor_start(const char *config_path, struct err *e)
{
    struct supervisor *s = xcalloc(1, sizeof *s);
    s->config_path = xstrdup(config_path);
    int rc = pthread_create(&s->thread, NULL, supervise, s);
    if (rc != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the worker supervisor: %s", strerror(rc));
        free(s->config_path);
        free(s);
        return NULL;
    }
    return s;
}

int supervisor_worker_pid(struct supervisor *s)
{
    return s ? atomic_load(&s->pid) : 0;
}

void supervisor_stop(struct supervisor *s, int grace_ms)
{
    if (!s) return;
    atomic_store(&s->stopping, 1);
    int signalled = 0;
    for (int waited = 0; !atomic_load(&s->done) && waited < grace_ms; waited += 50) {
        int pid = atomic_load(&s->pid);
        if (pid > 0 && pid != signalled) {
            kill(pid, SIGTERM);
            signalled = pid;
        }
        time_sleep_ms(50);
    }
    while (!atomic_load(&s->done)) { /* past the grace period */
        int pid = atomic_load(&s->pid);
        if (pid > 0) kill(pid, SIGKILL);
        time_sleep_ms(50);
    }
    pthread_join(s->thread, NULL);
    free(s->config_path);
    free(s);
}
