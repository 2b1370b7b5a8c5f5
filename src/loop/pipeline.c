#include "loop/pipeline.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "loop/runlog.h"
#include "loop/steps.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum outcome { STEP_OK, STEP_FAILED, STEP_TIMED_OUT, STEP_CANCELLED };

struct runner {
    struct store *st;
    const struct config *cfg;
    const struct task_config *task;
    const char *run_id;
    json_t *payload;
    const struct pipeline_job *job;
    int64_t next_heartbeat_ns;
    int cancelled;
    json_t *steps; /* the status list shown in the run */
};

#define run_log(r, ...) runlog((r)->st, (r)->run_id, (r)->task->name, __VA_ARGS__)

static void save_steps(struct runner *r)
{
    struct err e;
    err_clear(&e);
    if (store_run_steps_set(r->st, r->run_id, r->steps, &e) != 0)
        log_warn("run %.8s: cannot save step status: %s", r->run_id, e.msg);
}

static void set_now(json_t *entry, const char *key)
{
    char when[40];
    time_format_iso8601(time_now_ms(), when, sizeof when);
    json_object_set_new(entry, key, json_string(when));
}

/* Keeps the job's lease; notices a cancellation. */
static void heartbeat(struct runner *r)
{
    if (!r->job || !r->job->job_id || time_mono_ns() < r->next_heartbeat_ns) return;
    r->next_heartbeat_ns = time_mono_ns() + r->job->lease_ms * 1000000LL / 3;
    struct err e;
    err_clear(&e);
    if (store_job_heartbeat(r->st, r->job->job_id, r->job->worker, r->job->lease_ms, &e) != 0 &&
        e.code == ERR_CONFLICT) {
        run_log(r, "stopping: %s", e.msg);
        r->cancelled = 1;
    }
}

/* ---- the step's child process ---- */

static void child_command(struct runner *r, const struct step_config *sc)
{
    setenv("BOUCLE_RUN_ID", r->run_id, 1);
    setenv("BOUCLE_TASK", r->task->name, 1);
    if (r->cfg->public_url) setenv("BOUCLE_URL", r->cfg->public_url, 1);
    if (r->cfg->path) setenv("BOUCLE_CONFIG", r->cfg->path, 1);
    char **argv = xcalloc(sc->argc + 1, sizeof *argv);
    for (size_t i = 0; i < sc->argc; i++)
        argv[i] = sc->argv[i];
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
}

static void child_builtin(struct runner *r, const struct step_config *sc, int err_fd,
                          const char *failed_step, const char *failure)
{
    struct err e;
    err_clear(&e);
    /* a database connection must not cross fork(): open a new one */
    struct store *st = store_open(r->cfg->store_url, &e);
    json_t *run = st ? store_run_get(st, r->run_id, &e) : NULL;
    int rc = -1;
    if (run) {
        json_t *state = json_object_get(run, "state");
        if (!json_is_object(state)) state = NULL;
        json_t *own = state ? json_deep_copy(state) : json_object();
        struct step_ctx c = {.st = st,
                             .cfg = r->cfg,
                             .task = r->task,
                             .run_id = r->run_id,
                             .state = own,
                             .payload = r->payload,
                             .failed_step = failed_step,
                             .failure = failure};
        rc = step_run_builtin(sc->kind, &c, &e);
        json_decref(own);
        json_decref(run);
    }
    if (rc != 0) {
        ssize_t ignored = write(err_fd, e.msg, strlen(e.msg));
        (void)ignored;
    }
    store_close(st);
    _exit(rc == 0 ? 0 : 1);
}

/* Forwards the child's output: a command's lines go to the run's logs. */
static void forward_output(struct runner *r, struct buf *pending, const char *data, size_t n,
                           int to_run_log, int flush)
{
    buf_append(pending, data, n);
    size_t start = 0;
    for (size_t i = 0; i < pending->len; i++) {
        if (pending->data[i] != '\n' && !(flush && i + 1 == pending->len)) continue;
        size_t end = pending->data[i] == '\n' ? i : i + 1;
        char *line = xstrndup(pending->data + start, end - start);
        if (to_run_log)
            run_log(r, "| %s", line);
        else
            fprintf(stderr, "%s\n", line);
        free(line);
        start = i + 1;
    }
    if (start) {
        memmove(pending->data, pending->data + start, pending->len - start);
        pending->len -= start;
    }
}

static void kill_group(pid_t pid)
{
    kill(-pid, SIGTERM);
    for (int i = 0; i < 40; i++) { /* 2 s to clean up, then no more */
        if (waitpid(pid, NULL, WNOHANG) == pid) return;
        time_sleep_ms(50);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static enum outcome run_step_process(struct runner *r, const struct step_config *sc,
                                     const char *failed_step, const char *failure, char *error,
                                     size_t error_size)
{
    int out[2], errp[2];
    if (pipe(out) != 0 || pipe(errp) != 0) {
        snprintf(error, error_size, "pipe: %s", strerror(errno));
        return STEP_FAILED;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(error, error_size, "fork: %s", strerror(errno));
        close(out[0]), close(out[1]), close(errp[0]), close(errp[1]);
        return STEP_FAILED;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed worker takes its step along */
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        close(errp[0]);
        if (sc->kind == STEP_COMMAND) child_command(r, sc);
        child_builtin(r, sc, errp[1], failed_step, failure);
    }
    setpgid(pid, pid);
    close(out[1]);
    close(errp[1]);
    struct buf pending, errmsg;
    buf_init(&pending);
    buf_init(&errmsg);
    int64_t deadline = sc->opt.timeout_ms > 0 ? time_mono_ns() + sc->opt.timeout_ms * 1000000LL : 0;
    enum outcome result = STEP_FAILED;
    int status = 0, exited = 0, out_open = 1, err_open = 1;
    while (!exited || out_open || err_open) {
        struct pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0},
                                {err_open ? errp[0] : -1, POLLIN, 0}};
        poll(fds, 2, 100);
        char chunk[4096];
        if (out_open && (fds[0].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(out[0], chunk, sizeof chunk);
            if (n > 0)
                forward_output(r, &pending, chunk, (size_t)n, sc->kind == STEP_COMMAND, 0);
            else
                out_open = 0;
        }
        if (err_open && (fds[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(errp[0], chunk, sizeof chunk);
            if (n > 0)
                buf_append(&errmsg, chunk, (size_t)n);
            else
                err_open = 0;
        }
        if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = 1;
        if (exited) continue;
        heartbeat(r);
        if (r->cancelled || (deadline && time_mono_ns() > deadline)) {
            kill_group(pid);
            exited = 1;
            result = r->cancelled ? STEP_CANCELLED : STEP_TIMED_OUT;
            status = -1;
            out_open = err_open = 0; /* the group is dead; stop reading */
        }
    }
    forward_output(r, &pending, "", 0, sc->kind == STEP_COMMAND, 1);
    close(out[0]);
    close(errp[0]);
    if (result == STEP_TIMED_OUT) {
        snprintf(error, error_size, "timed out after %.1f s", (double)sc->opt.timeout_ms / 1000);
    } else if (result == STEP_CANCELLED) {
        snprintf(error, error_size, "cancelled");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        result = STEP_OK;
    } else if (errmsg.len) {
        snprintf(error, error_size, "%s", errmsg.data);
    } else if (WIFEXITED(status)) {
        snprintf(error, error_size, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(error, error_size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    }
    buf_free(&pending);
    buf_free(&errmsg);
    return result;
}

/* ---- the runner ---- */

static json_t *initial_steps(const struct pipeline_config *pl, json_t *previous)
{
    json_t *steps = json_array();
    int resumable = json_array_size(previous) == pl->n_steps;
    for (size_t i = 0; i < pl->n_steps; i++) {
        const char *name = step_kind_name(pl->steps[i].kind);
        json_t *old = resumable ? json_array_get(previous, i) : NULL;
        if (old && json_is_string(json_object_get(old, "name")) &&
            strcmp(json_string_value(json_object_get(old, "name")), name) == 0 &&
            json_is_string(json_object_get(old, "status")) &&
            strcmp(json_string_value(json_object_get(old, "status")), "completed") == 0) {
            json_array_append_new(steps, json_deep_copy(old));
            continue;
        }
        json_array_append_new(
            steps, json_pack("{s:s,s:s,s:i}", "name", name, "status", "pending", "attempts", 0));
    }
    return steps;
}

static json_t *current_state(struct runner *r)
{
    struct err e;
    err_clear(&e);
    json_t *run = store_run_get(r->st, r->run_id, &e);
    json_t *state = run ? json_incref(json_object_get(run, "state")) : NULL;
    json_decref(run);
    return state;
}

static void sleep_with_heartbeat(struct runner *r, int64_t ms)
{
    int64_t until = time_mono_ns() + ms * 1000000LL;
    while (!r->cancelled && time_mono_ns() < until) {
        heartbeat(r);
        time_sleep_ms(ms < 100 ? ms : 100);
    }
}

static int should_run(const struct step_config *sc, const char *failed, int stopped)
{
    if (stopped && sc->kind != STEP_NOTIFY) return 0;
    switch (sc->opt.run_if) {
    case RUN_IF_SUCCESS:
        return failed == NULL;
    case RUN_IF_FAILURE:
        return failed != NULL;
    case RUN_IF_ALWAYS:
        return 1;
    }
    return 0;
}

int pipeline_run(struct store *st, const struct config *cfg, const struct task_config *task,
                 const struct pipeline_config *pl, const char *run_id, json_t *payload,
                 const struct pipeline_job *job, struct pipeline_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    json_t *run = store_run_get(st, run_id, e);
    if (!run) return -1;
    struct runner r = {.st = st,
                       .cfg = cfg,
                       .task = task,
                       .run_id = run_id,
                       .payload = payload,
                       .job = job,
                       .steps = initial_steps(pl, json_object_get(run, "steps"))};
    json_decref(run);
    store_run_status_set(st, run_id, "running", e);
    err_clear(e);
    save_steps(&r);
    const char *failed = NULL;
    char failure[512] = "";
    int stopped = 0;
    for (size_t i = 0; i < pl->n_steps; i++) {
        const struct step_config *sc = &pl->steps[i];
        json_t *entry = json_array_get(r.steps, i);
        const char *name = step_kind_name(sc->kind);
        if (strcmp(json_string_value(json_object_get(entry, "status")), "completed") == 0) {
            run_log(&r, "step %s: completed by an earlier attempt", name);
            continue;
        }
        if (r.cancelled || !should_run(sc, failed, stopped)) {
            json_object_set_new(entry, "status", json_string("skipped"));
            save_steps(&r);
            continue;
        }
        enum outcome res = STEP_FAILED;
        char error[512] = "";
        int attempts = sc->opt.retries + 1;
        for (int a = 1; a <= attempts; a++) {
            json_object_set_new(entry, "status", json_string("running"));
            json_object_set_new(entry, "attempts", json_integer(a));
            set_now(entry, "started_at");
            save_steps(&r);
            run_log(&r, "step %s: started%s", name, a > 1 ? " again" : "");
            res = run_step_process(&r, sc, failed, failed ? failure : NULL, error, sizeof error);
            if (res == STEP_OK || res == STEP_CANCELLED) break;
            run_log(&r, "step %s: attempt %d of %d failed: %s", name, a, attempts, error);
            if (a < attempts) sleep_with_heartbeat(&r, sc->opt.retry_delay_ms);
            if (r.cancelled) {
                res = STEP_CANCELLED;
                break;
            }
        }
        static const char *const names[] = {"completed", "failed", "timed_out", "cancelled"};
        json_object_set_new(entry, "status", json_string(names[res]));
        set_now(entry, "ended_at");
        if (res != STEP_OK) json_object_set_new(entry, "error", json_string(error));
        save_steps(&r);
        if (res == STEP_OK) {
            run_log(&r, "step %s: completed", name);
        } else if (!failed) {
            failed = name;
            snprintf(failure, sizeof failure, "%s", error);
        }
        json_t *state = current_state(&r);
        if (json_object_get(state, "stop") && !stopped) {
            stopped = 1;
            run_log(&r, "%s", json_string_value(json_object_get(state, "stop")));
        }
        json_decref(state);
    }

    json_t *state = current_state(&r);
    out->deployed = json_is_true(json_object_get(state, "deployed")) &&
                    !json_is_true(json_object_get(state, "first_version"));
    json_t *decision = json_object_get(state, "decision");
    out->refused = decision && !json_is_true(json_object_get(decision, "deploy"));
    out->stopped = stopped;
    snprintf(out->status, sizeof out->status, "%s",
             r.cancelled ? "cancelled"
             : failed    ? "failed"
                         : "completed");
    if (failed) {
        snprintf(out->failed_step, sizeof out->failed_step, "%s", failed);
        snprintf(out->error, sizeof out->error, "%s", failure);
    }
    json_t *summary = json_pack("{s:O?,s:O?,s:O?,s:s?}", "decision", decision, "train",
                                json_object_get(state, "train"), "prepare",
                                json_object_get(state, "prepare"), "failed_step", failed);
    char *summary_text = json_dumps(summary, JSON_COMPACT);
    json_decref(summary);
    json_decref(state);
    run_log(&r, "pipeline %s%s%s", out->status, failed ? " at step " : "", failed ? failed : "");
    int rc = store_run_finish(st, run_id, out->status, summary_text, e);
    if (rc != 0 && e->code == ERR_CONFLICT) { /* cancelled meanwhile: it stays cancelled */
        err_clear(e);
        rc = 0;
    }
    free(summary_text);
    json_decref(r.steps);
    return rc;
}
