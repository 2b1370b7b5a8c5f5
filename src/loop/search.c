#include "loop/search.h"

#include "base/mem.h"
#include "base/timeutil.h"
#include "loop/search_score.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* One (trial, fold) pair's outcome, as a worker sends it over its pipe:
 * fixed size and below PIPE_BUF, so each write arrives whole. */
struct outcome {
    uint32_t task; /* trial * folds + fold */
    int32_t failed;
    double score, seconds;
    char error[sizeof(((struct err *)0)->msg)];
};

struct cv {
    const struct search_config *s;
    const char *metric;
    const struct model_config *trials;
    const struct search_data *d;
    const int *fold_of;
};

/* Trains on every fold but one and scores the held-out fold. */
static void run_task(const struct cv *cv, uint32_t task, struct outcome *o)
{
    const struct search_data *d = cv->d;
    size_t folds = (size_t)cv->s->folds, trial = task / folds;
    int fold = (int)(task % folds);
    memset(o, 0, sizeof *o);
    o->task = task;
    size_t *train = xmalloc(d->n * sizeof *train), n_train = 0;
    for (size_t i = 0; i < d->n; i++)
        if (cv->fold_of[i] != fold) train[n_train++] = i;
    struct err e;
    err_clear(&e);
    int64_t t0 = time_mono_ns();
    struct trained_model *m = d->fit(d->fit_ctx, &cv->trials[trial], train, n_train, &e);
    o->seconds = time_elapsed_s(t0);
    free(train);
    if (!m || search_score_fold(d, m, cv->fold_of, fold, cv->metric, &o->score, &e) != 0) {
        o->failed = 1;
        snprintf(o->error, sizeof o->error, "%s", e.msg);
    }
    model_release(m);
}

static int write_all(int fd, const void *p, size_t len)
{
    const char *b = p;
    while (len) {
        ssize_t w = write(fd, b, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        len -= (size_t)w;
    }
    return 0;
}

/* A worker process: its share of the pairs, each outcome down the pipe.
 * It leaves with _exit: the parent's store handles, stdio buffers and
 * exit handlers are the parent's alone. */
static void worker(const struct cv *cv, size_t n_tasks, int w, int jobs, int fd)
{
    for (size_t t = (size_t)w; t < n_tasks; t += (size_t)jobs) {
        struct outcome o;
        run_task(cv, (uint32_t)t, &o);
        if (write_all(fd, &o, sizeof o) != 0) _exit(3);
    }
    _exit(0);
}

static int read_outcomes(int fd, struct outcome *all, size_t n_tasks, size_t *got)
{
    struct outcome o;
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, (char *)&o + have, sizeof o - have);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) return have ? -1 : 0; /* a torn record: the worker died mid-write */
        have += (size_t)r;
        if (have < sizeof o) continue;
        have = 0;
        if (o.task >= n_tasks) return -1;
        all[o.task] = o;
        (*got)++;
    }
}

/* Runs the pairs in `jobs` forked workers (processes, not threads: each has
 * its own copy of everything, so a solver's global state, such as
 * liblinear's rand(), cannot make one trial's result depend on another's). */
static int run_forked(const struct cv *cv, size_t n_tasks, int jobs, struct outcome *all,
                      struct err *e)
{
    pid_t *pids = xcalloc((size_t)jobs, sizeof *pids);
    int *fds = xmalloc((size_t)jobs * sizeof *fds), started = 0, rc = 0;
    pid_t parent = getpid();
    for (; started < jobs; started++) {
        int p[2];
        if (pipe(p) != 0) {
            rc = err_set(e, ERR_IO, "search: cannot create a pipe: %s", strerror(errno));
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            close(p[0]);
            close(p[1]);
            rc = err_set(e, ERR_IO, "search: cannot start a worker: %s", strerror(errno));
            break;
        }
        if (pid == 0) {
            /* a step killed at its timeout (or a cancelled retrain) takes
             * its search's workers with it */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(4);
            close(p[0]);
            for (int i = 0; i < started; i++)
                close(fds[i]);
            worker(cv, n_tasks, started, jobs, p[1]);
        }
        close(p[1]);
        pids[started] = pid;
        fds[started] = p[0];
    }
    size_t got = 0;
    for (int i = 0; i < started; i++) {
        if (rc != 0) kill(pids[i], SIGKILL);
        int bad = rc == 0 && read_outcomes(fds[i], all, n_tasks, &got) != 0;
        close(fds[i]);
        int status = 0;
        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR) {
        }
        if (rc != 0) continue;
        if (WIFSIGNALED(status))
            rc = err_set(e, ERR_INTERNAL, "search: worker %d died of signal %d (out of memory?)",
                         i + 1, WTERMSIG(status));
        else if (bad || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = err_set(e, ERR_INTERNAL, "search: worker %d failed (exit status %d)", i + 1,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    if (rc == 0 && got != n_tasks)
        rc = err_set(e, ERR_INTERNAL, "search: %zu of %zu folds came back from the workers", got,
                     n_tasks);
    free(pids);
    free(fds);
    return rc;
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* fasttext trains on threads of its own: jobs x threads must not exceed
 * the cores, or the trials only slow each other down. */
static struct model_config *cap_threads(const struct model_config *trials, size_t n, int jobs)
{
    struct model_config *own = xmalloc(n * sizeof *own);
    memcpy(own, trials, n * sizeof *own);
    int per_job = cores() / jobs > 0 ? cores() / jobs : 1;
    for (size_t t = 0; t < n; t++)
        if (!strcmp(own[t].kind, "fasttext") &&
            (own[t].ft.thread <= 0 || own[t].ft.thread > per_job))
            own[t].ft.thread = per_job;
    return own;
}

/* Mean, population deviation, mean fit time, ranks and the best trial. */
static void summarise(struct search_result *r, const struct outcome *all)
{
    size_t T = r->n_trials, F = r->folds;
    for (size_t t = 0; t < T; t++) {
        double sum = 0, sq = 0, secs = 0;
        for (size_t f = 0; f < F; f++) {
            r->scores[t * F + f] = all[t * F + f].score;
            sum += all[t * F + f].score;
            secs += all[t * F + f].seconds;
        }
        r->mean[t] = sum / (double)F;
        for (size_t f = 0; f < F; f++)
            sq += (r->scores[t * F + f] - r->mean[t]) * (r->scores[t * F + f] - r->mean[t]);
        r->std[t] = sqrt(sq / (double)F);
        r->fit_seconds[t] = secs / (double)F;
    }
    /* an undefined score (NaN) ranks below every number */
    r->best = 0;
    for (size_t t = 1; t < T; t++)
        if (r->mean[t] > r->mean[r->best] || (isnan(r->mean[r->best]) && !isnan(r->mean[t])))
            r->best = t;
    for (size_t t = 0; t < T; t++) {
        size_t better = 0;
        for (size_t u = 0; u < T; u++)
            better += r->mean[u] > r->mean[t] || (isnan(r->mean[t]) && !isnan(r->mean[u]));
        r->rank[t] = better + 1;
    }
}

int search_run(const struct search_config *s, const char *metric, const struct model_config *trials,
               const struct search_data *d, struct search_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (search_metric_check(d, metric, e) != 0) return err_prefix(e, "search");
    int64_t t0 = time_mono_ns();
    int *fold_of = xmalloc((d->n ? d->n : 1) * sizeof *fold_of);
    if (search_folds(d, (size_t)s->folds, s->seed, fold_of, e) != 0) {
        free(fold_of);
        return err_prefix(e, "search");
    }
    size_t T = s->n_trials, F = (size_t)s->folds, n_tasks = T * F;
    int jobs = s->jobs > 0 ? s->jobs : cores();
    if ((size_t)jobs > n_tasks) jobs = (int)n_tasks;
    struct model_config *own = cap_threads(trials, T, jobs);
    struct cv cv = {s, metric, own, d, fold_of};
    struct outcome *all = xcalloc(n_tasks, sizeof *all);
    int rc = 0;
    if (jobs == 1) /* no process to start for one */
        for (size_t t = 0; t < n_tasks; t++)
            run_task(&cv, (uint32_t)t, &all[t]);
    else
        rc = run_forked(&cv, n_tasks, jobs, all, e);
    for (size_t t = 0; rc == 0 && t < n_tasks; t++)
        if (all[t].failed)
            rc = err_set(e, ERR_INVALID, "search trial %zu, fold %zu: %s", t / F + 1, t % F + 1,
                         all[t].error);
    if (rc == 0) {
        out->n_trials = T;
        out->folds = F;
        out->jobs = jobs;
        snprintf(out->metric, sizeof out->metric, "%s", metric);
        out->scores = xmalloc(n_tasks * sizeof *out->scores);
        out->mean = xmalloc(T * sizeof *out->mean);
        out->std = xmalloc(T * sizeof *out->std);
        out->fit_seconds = xmalloc(T * sizeof *out->fit_seconds);
        out->rank = xmalloc(T * sizeof *out->rank);
        summarise(out, all);
        out->seconds = time_elapsed_s(t0);
    }
    free(all);
    free(own);
    free(fold_of);
    return rc;
}

void search_result_free(struct search_result *r)
{
    free(r->scores);
    free(r->mean);
    free(r->std);
    free(r->fit_seconds);
    free(r->rank);
    memset(r, 0, sizeof *r);
}
