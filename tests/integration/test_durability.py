"""An acknowledged feedback is never lost: 1,000 concurrent feedbacks, then
kill -9 right after the last 201; after a restart every one is there."""
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import Server


def children(pid):
    """The pids of pid's child processes."""
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.isdigit() and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_1000_concurrent_feedbacks_survive_kill_9(trained):
    s = Server(trained)
    try:
        _, batch = s.post("/v1/tasks/sentiment/predict",
                          {"inputs": [f"tweet {i} about my flight" for i in range(250)]})
        pids = [p["prediction_id"] for p in batch["predictions"]]

        def send(i):
            status, body = s.post("/v1/feedback", {"prediction_id": pids[i % len(pids)],
                                                   "score": [1, -1, 0][i % 3]})
            return status, body

        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(send, range(1000)))
        workers = children(s.proc.pid)
        assert workers, "serve runs its worker as a child process"
        s.proc.send_signal(signal.SIGKILL)  # right after the last 201
        s.proc.wait()
        s.log.close()
        # the worker dies with its server: an orphan would go on claiming jobs
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(w) for w in workers), workers
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
    acked = [b["feedback_id"] for st, b in results if st == 201]
    assert len(acked) == 1000, [r for r in results if r[0] != 201][:3]

    # restart on the same store: every acknowledged feedback is there
    s2 = Server(trained)
    try:
        for fid in acked[::50]:
            assert s2.get(f"/v1/feedback/{fid}")[0] == 200
    finally:
        assert s2.stop() == 0
    stored = {r[0] for r in trained.sql("select id from feedback")}
    assert set(acked) <= stored
