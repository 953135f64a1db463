#!/usr/bin/python3
"""The HTTP API of `raftsim serve` end to end (tests/live.sh; README 14).

Starts `raftsim serve scenarios/split-brain.scn --speed 5` on a free
loopback port and checks: POSTs need the token (403), a bad line is 400
with the parser's message, an oversize body 413, good lines 200; 50 event
stream viewers connected at once all get every trace event, in the same
order, with increasing ids; a late joiner gets the same timeline and its
model equals GET /state (the session paused first); a seek sends every
viewer a reset and the rebuilt timeline is the old one's prefix; GET
/export replays with `raftsim run`.  Standard library only; every wait
and every socket is bounded; the server is killed on the way out.

usage: RAFTSIM=build/raftsim tests/live_http.py
"""
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HOST = "127.0.0.1"
SCENARIO = "scenarios/split-brain.scn"
N_VIEWERS = 50
WINDOW_US = 2_000_000   # the viewers compare what they saw up to here
WALL_LIMIT_S = 20       # ... or for this long at most
SOCK_TIMEOUT_S = 5      # the stream sends a clock event ~5 times a second

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("live_http: FAIL: %s%s" % (name, ": " + detail if detail else ""),
              flush=True)
    return ok


def wait_until(pred, timeout_s, every_s=0.05):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(every_s)
    return pred()


# ---------------------------------------------------------------------
# The server


class Server:
    def __init__(self, binary, args):
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([binary, "serve"] + args,
                                     stdout=subprocess.PIPE, stderr=self.err)
        self.viewer = self.controller = None
        buf = b""
        end = time.monotonic() + 10
        while (self.controller is None and time.monotonic() < end
               and self.proc.poll() is None):
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if not r:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            for line in buf.decode(errors="replace").splitlines():
                if line.startswith("viewer: "):
                    self.viewer = line.split(" ", 1)[1].strip()
                if line.startswith("controller: "):
                    self.controller = line.split(" ", 1)[1].strip()
        self.stdout_head = buf.decode(errors="replace")
        if not self.viewer or not self.controller:
            self.kill()
            raise RuntimeError("serve printed no URLs within 10 s: %r, stderr %r"
                               % (self.stdout_head, self.stderr()))
        hostport = self.viewer.split("//", 1)[1].rstrip("/")
        self.port = int(hostport.rsplit(":", 1)[1])
        self.token = self.controller.split("token=", 1)[1]

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self, timeout_s=10):
        """SIGTERM, then the exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def request(port, method, path, body=None, headers=None, timeout_s=10):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace"), dict(r.getheaders())
    finally:
        conn.close()


def post(srv, path, body, token=True):
    url = path + ("?token=" + srv.token if token else "")
    return request(srv.port, "POST", url, body.encode(),
                   {"Content-Type": "text/plain"})


def state(srv):
    status, body, _ = request(srv.port, "GET", "/state")
    if status != 200:
        raise RuntimeError("GET /state: %d %s" % (status, body))
    return json.loads(body)


# ---------------------------------------------------------------------
# A viewer of the event stream


class Viewer(threading.Thread):
    """Reads /events until told to stop (or the wall limit): every message
    in arrival order as (event, id, data); clock messages are only kept
    as the latest."""

    def __init__(self, port, stop, barrier=None, limit_s=60):
        super().__init__(daemon=True)
        self.port, self.stop, self.barrier = port, stop, barrier
        self.limit_s = limit_s
        self.lock = threading.Lock()
        self.msgs = []
        self.clock = None
        self.status = None
        self.error = None
        self.done = False

    def run(self):
        try:
            if self.barrier:
                self.barrier.wait(15)
            conn = http.client.HTTPConnection(HOST, self.port,
                                              timeout=SOCK_TIMEOUT_S)
            try:
                conn.request("GET", "/events")
                r = conn.getresponse()
                self.status = r.status
                if r.status != 200:
                    self.error = "status %d" % r.status
                    return
                self.read(r)
            finally:
                conn.close()
        except Exception as e:  # a timeout, a reset: the test says so
            self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            self.done = True

    def read(self, r):
        end = time.monotonic() + self.limit_s
        ev, eid, data = "message", None, []
        while not self.stop.is_set() and time.monotonic() < end:
            raw = r.readline()
            if not raw:
                self.error = "the stream ended"
                return
            line = raw.decode().rstrip("\r\n")
            if line == "":
                if data:
                    self.dispatch(ev, eid, "\n".join(data))
                ev, eid, data = "message", None, []
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if field == "event":
                    ev = value
                elif field == "id":
                    eid = int(value)
                elif field == "data":
                    data.append(value)

    def dispatch(self, ev, eid, data):
        obj = json.loads(data)
        with self.lock:
            if ev == "clock":
                self.clock = obj
            else:
                self.msgs.append((ev, eid, obj))

    def snapshot(self):
        with self.lock:
            return list(self.msgs)

    def last_id(self):
        with self.lock:
            for ev, eid, _ in reversed(self.msgs):
                if ev in ("trace", "narration"):
                    return eid
        return None


def segments(msgs):
    """The messages split at each reset: [(reset data or None, [msgs])]."""
    out = [(None, [])]
    for m in msgs:
        if m[0] == "reset":
            out.append((m[2], []))
        else:
            out[-1][1].append(m)
    return out


def traces(msgs):
    return [(eid, obj) for ev, eid, obj in msgs if ev == "trace"]


def model(trace_objs):
    """Node states from trace objects, the way live.js builds them."""
    nodes = {}

    def node(name):
        k = int(name[1:])
        return nodes.setdefault(k, {"role": "follower", "term": 0, "last_lsn": 0,
                                    "commit_lsn": 0, "up": True, "paused": False})
    for e in trace_objs:
        k = e["kind"]
        if k == "run":
            nodes = {}
            for i in range(1, e["nodes"] + 1):
                node("n%d" % i)
            continue
        if not e["node"].startswith("n"):
            continue
        n = node(e["node"])
        if k == "role":
            n.update(role=e["role"], term=e["term"], up=True)
        elif k == "append":
            n["last_lsn"] = e["lsn"]
        elif k == "discard":
            n["last_lsn"] = min(n["last_lsn"], e["lsn"] - 1)
            n["commit_lsn"] = min(n["commit_lsn"], n["last_lsn"])
        elif k == "commit":
            n["commit_lsn"] = e["lsn"]
        elif k == "crash":
            n.update(up=False, paused=False, role="down")
        elif k == "restart":
            n.update(up=True, paused=False, role="follower")
        elif k == "pause":
            n["paused"] = True
        elif k == "resume":
            n["paused"] = False
    return nodes


def leader_of(nodes):
    best, term = 0, -1
    for k in sorted(nodes):
        n = nodes[k]
        if n["up"] and n["role"] == "leader" and n["term"] >= term:
            best, term = k, n["term"]
    return best


# ---------------------------------------------------------------------
# The checks


def check_posts(srv):
    st, body, _ = post(srv, "/act", "crash n1", token=False)
    check("POST /act without the token is 403", st == 403, "%d %r" % (st, body))
    st, body, _ = request(srv.port, "POST", "/act?token=" + "0" * 32, b"crash n1")
    check("POST /act with a wrong token is 403", st == 403, "%d %r" % (st, body))
    st, body, _ = post(srv, "/control", "pause", token=False)
    check("POST /control without the token is 403", st == 403, "%d %r" % (st, body))
    st, body, _ = post(srv, "/act", "crsh n1")
    check("a bad line is 400", st == 400, "%d %r" % (st, body))
    check("the 400 carries the parser's message",
          "did you mean" in body and "crash" in body and "^" in body, repr(body))
    st, body, _ = post(srv, "/act", "x" * 5000)
    check("a 5000-byte body is 413", st == 413, "%d %r" % (st, body))
    st, body, _ = post(srv, "/control", "fly to the moon")
    check("a bad control word is 400", st == 400, "%d %r" % (st, body))
    st, body, _ = request(srv.port, "POST", "/control", b"status",
                          {"Authorization": "Bearer " + srv.token})
    check("the token as 'Authorization: Bearer T' works", st == 200, "%d %r" % (st, body))
    st, body, hdr = request(srv.port, "GET", "/")
    csp = hdr.get("Content-Security-Policy", "")
    check("GET / is the page with the CSP",
          st == 200 and "/live.js" in body and "script-src 'self'" in csp
          and "unsafe-inline" not in csp, "%d %r" % (st, csp))
    for path, want in (("/live.js", "javascript"), ("/live.css", "css")):
        st, body, hdr = request(srv.port, "GET", path)
        check("GET %s" % path, st == 200 and want in hdr.get("Content-Type", "")
              and len(body) > 100, "%d %r" % (st, hdr.get("Content-Type")))


def resume_until(srv, t_us, limit_s):
    """Let the file's story run: resume at each `step` until the display
    clock passes t_us."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        s = state(srv)
        if s["t_us"] > t_us:
            return s
        if s["paused"]:
            post(srv, "/control", "resume")
        time.sleep(0.1)
    return state(srv)


def current(msgs):
    """The messages of the newest timeline (after the last reset; a viewer
    that connects after a rebuild gets a reset first)."""
    return segments(msgs)[-1][1]


def window(msgs):
    """The trace events up to WINDOW_US, and whether the viewer saw the
    window close (an event past it)."""
    out, closed = [], False
    for eid, obj in traces(current(msgs)):
        if obj["t_us"] > WINDOW_US:
            closed = True
            break
        out.append((eid, obj))
    return out, closed


def norm(obj):
    """A trace object without what a replay of the export numbers anew: the
    file's line numbers, the `at T ` that the export puts before a line."""
    o = dict(obj)
    o.pop("line", None)
    t = o.get("text")
    if isinstance(t, str) and t.startswith("at ") and "us " in t:
        o["text"] = t.split("us ", 1)[1]
    return o


def run_trace(args, trace_path):
    """`raftsim run ARGS --trace PATH`: (exit code, output, trace objects)."""
    r = subprocess.run([os.environ["RAFTSIM"], "run", "--quiet", "--keep-going", "--trace", trace_path]
                       + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    objs = []
    if os.path.exists(trace_path):
        with open(trace_path) as f:
            objs = [json.loads(l) for l in f if l.strip()]
    return r.returncode, r.stdout.decode(errors="replace"), objs


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "event %d: %r vs %r" % (i, x, y)
    return "lengths %d vs %d" % (len(a), len(b))


def check_viewers(srv, tmp):
    stop = threading.Event()
    barrier = threading.Barrier(N_VIEWERS)
    viewers = [Viewer(srv.port, stop, barrier) for _ in range(N_VIEWERS)]
    late = Viewer(srv.port, stop)
    everyone = viewers + [late]
    try:
        t0 = time.monotonic()
        for v in viewers:
            v.start()
        wait_until(lambda: time.monotonic() - t0 >= 1.0, 2)
        late.start()
        s = resume_until(srv, WINDOW_US + 100_000, WALL_LIMIT_S)
        st, body, _ = post(srv, "/control", "pause")
        check("the display clock passes %.1f s (resuming at each step)"
              % (WINDOW_US / 1e6), s["t_us"] > WINDOW_US, "at %d us" % s["t_us"])
        check("pause is 200", st == 200, "%d %r" % (st, body))
        s = state(srv)
        check("GET /state says paused", s["paused"] is True, repr(s)[:200])
        released = s["events"]
        caught = wait_until(lambda: all(v.last_id() == released - 1 or v.done
                                        for v in everyone), WALL_LIMIT_S)
        errs = [v.error for v in everyone if v.error]
        check("%d viewers at once (%d + a late joiner), none cut off"
              % (len(everyone), N_VIEWERS), not errs,
              "%d errors, first %r" % (len(errs), errs[:1]))
        check("every viewer caught up with the %d released entries" % released,
              caught and all(v.last_id() == released - 1 for v in everyone),
              "last ids %s" % sorted(set(v.last_id() for v in everyone)))

        # The window to 2 s: the same events, in the same order, everywhere.
        wins = [window(v.snapshot()) for v in viewers]
        closed = sum(1 for w in wins if w[1])
        check("every viewer saw the window to %.1f s close" % (WINDOW_US / 1e6),
              closed == N_VIEWERS, "%d of %d" % (closed, N_VIEWERS))
        ref = wins[0][0]
        check("the window holds the story (a run line first, >100 events)",
              len(ref) > 100 and ref[0][1]["kind"] == "run",
              "%d events, first %r" % (len(ref), ref[:1]))
        ids = [eid for eid, _ in ref]
        check("trace ids increase", all(a < b for a, b in zip(ids, ids[1:])),
              repr(ids[:20]))
        same = sum(1 for w in wins if w[0] == ref)
        check("all %d viewers got the same events in the same order" % N_VIEWERS,
              same == N_VIEWERS, "%d of %d equal the first (lengths %s)"
              % (same, N_VIEWERS, sorted(set(len(w[0]) for w in wins))))
        late_win = window(late.snapshot())[0]
        check("the late joiner got the same timeline", late_win == ref,
              "%d vs %d events" % (len(late_win), len(ref)))
        resets = sum(1 for v in everyone if len(segments(v.snapshot())) > 2 or
                     (len(segments(v.snapshot())) == 2 and segments(v.snapshot())[0][1]))
        check("no reset while the story runs", resets == 0, "%d viewers got one" % resets)
        full = traces(current(viewers[0].snapshot()))
        same = sum(1 for v in everyone if traces(current(v.snapshot())) == full)
        check("paused: all %d streams hold the same %d trace events"
              % (len(everyone), len(full)), same == len(everyone), "%d equal" % same)

        # The late joiner's model against the snapshot.
        m = model([o for _, o in traces(current(late.snapshot()))])
        got = {n["id"]: {"role": n["role"], "term": n["term"]} for n in s["nodes"]}
        mine = {k: {"role": v["role"], "term": v["term"]} for k, v in m.items()}
        check("GET /state's roles and terms equal the late joiner's model",
              got == mine, "state %r\nmodel %r\nt_us %d computed_us %d"
              % (got, mine, s["t_us"], s["computed_us"]))
        lsns = {n["id"]: (n["last_lsn"], n["commit_lsn"], n["up"], n["paused"])
                for n in s["nodes"]}
        mlsns = {k: (v["last_lsn"], v["commit_lsn"], v["up"], v["paused"])
                 for k, v in m.items()}
        check("GET /state's LSNs and up/paused equal the model", lsns == mlsns,
              "state %r\nmodel %r" % (lsns, mlsns))
        check("GET /state's leader equals the model's", s["leader"] == leader_of(m),
              "%r vs %r" % (s["leader"], leader_of(m)))
        check("paused: GET /state shows no future (computed_us = t_us)",
              s["computed_us"] == s["t_us"], "%d vs %d" % (s["computed_us"], s["t_us"]))

        # The served file, stepped through at once, tells the story of
        # `raftsim run FILE`: a `step` pauses exactly where it stands.
        rc, out, ran = run_trace([SCENARIO], os.path.join(tmp, "run.jsonl"))
        live = [norm(o) for _, o in full]
        ran = [norm(o) for o in ran]
        check("the served story equals `raftsim run %s` (%d events)"
              % (SCENARIO, len(ran)), live[:len(ran)] == ran,
              first_difference(live, ran))
        failed_expects = [o for _, o in full if o["kind"] == "expect" and not o["ok"]]
        check("no expectation of the served file failed", not failed_expects,
              repr(failed_expects[:2]))

        # A good line, while paused: 200, and every viewer gets it.
        st, body, _ = post(srv, "/act", 'say "live_http was here"')
        check("a good line is 200 'ok at T s'", st == 200 and body.startswith("ok at "),
              "%d %r" % (st, body))
        released = state(srv)["events"]
        ok = wait_until(lambda: all(v.last_id() == released - 1 for v in everyone), 10)
        full = traces(current(viewers[0].snapshot()))
        says = [o for _, o in full if o["kind"] == "say" and "live_http" in o.get("text", "")]
        same = sum(1 for v in everyone if traces(current(v.snapshot())) == full)
        check("every viewer got the /act line", ok and len(says) == 1
              and same == len(everyone), "%r, %d of %d equal" % (says, same, len(everyone)))

        check_export(srv, tmp, "before the seek", full, 'say "live_http was here"')

        # Seek back: every viewer gets a reset, then the timeline again from
        # its start, which is the old one's prefix (replay is exact).
        gen0 = s["generation"]
        st, body, _ = post(srv, "/control", "seek 0.1s")
        check("seek 0.1s is 200", st == 200, "%d %r" % (st, body))
        s2 = state(srv)
        check("seek: a new generation, the clock at 0.1 s",
              s2["generation"] > gen0 and s2["t_us"] == 100_000,
              "generation %d -> %d, t_us %d" % (gen0, s2["generation"], s2["t_us"]))
        released = s2["events"]
        ok = wait_until(lambda: all(len(segments(v.snapshot())) >= 2
                                    and v.last_id() == released - 1 for v in everyone), 10)
        check("every viewer got a reset and the rebuilt timeline", ok,
              "%d of %d have a reset" % (sum(1 for v in everyone
                                              if len(segments(v.snapshot())) >= 2),
                                          len(everyone)))
        bad = 0
        for v in everyone:
            seg = segments(v.snapshot())
            old = [o for _, o in traces(seg[0][1])]
            new = [o for _, o in traces(seg[-1][1])]
            if (seg[-1][0] or {}).get("generation") != s2["generation"] or not new \
                    or new != old[:len(new)] or new[-1]["t_us"] > 100_000:
                bad += 1
        check("after the reset: the old timeline's events up to 0.1 s, same order",
              bad == 0, "%d viewers differ" % bad)
        # Acting there forks: /export?abandoned (a key without a value)
        # is the timeline set aside, /export the new one.
        st, _, _ = post(srv, "/act", "crash n2")
        st2, ab, _ = request(srv.port, "GET", "/export?abandoned")
        st3, now, _ = request(srv.port, "GET", "/export")
        check("after a fork, /export?abandoned has the set-aside line, /export does not",
              st == 200 and st2 == 200 and st3 == 200 and 'live_http was here' in ab
              and 'live_http was here' not in now and "crash n2" in now
              and "crash n2" not in ab, "%d %d %d\n%s\n---\n%s" % (st, st2, st3, ab[-300:],
                                                                   now[-300:]))
    finally:
        stop.set()
        for v in everyone:
            v.join(SOCK_TIMEOUT_S + 2)


def check_export(srv, tmp, when, full, must_have):
    """GET /export; `raftsim run` replays it to the stream's trace, exit 0."""
    st, body, hdr = request(srv.port, "GET", "/export")
    check("GET /export %s is 200, an attachment named live-session.scn" % when,
          st == 200 and 'filename="live-session.scn"' in hdr.get("Content-Disposition", ""),
          "%d %r" % (st, hdr))
    if must_have:
        check("the export %s has the /act line" % when, must_have in body, body[-500:])
    tag = when.replace(" ", "-")
    path = os.path.join(tmp, "export-%s.scn" % tag)
    with open(path, "w") as f:
        f.write(body)
    try:
        rc, out, replay = run_trace([path], os.path.join(tmp, "replay-%s.jsonl" % tag))
    except subprocess.TimeoutExpired:
        check("raftsim run on the export %s ends within 60 s" % when, False)
        return
    check("raftsim run on the export %s exits 0" % when, rc == 0,
          "exit %d: %s" % (rc, out[-600:]))
    live = [norm(o) for _, o in full]
    replay = [norm(o) for o in replay]
    check("the export's replay %s is the stream's trace (%d events)" % (when, len(live)),
          replay == live, first_difference(replay, live))


def main():
    binary = os.environ.get("RAFTSIM")
    if not binary:
        print("live_http: set RAFTSIM to the raftsim binary", file=sys.stderr)
        return 2
    os.environ["RAFTSIM"] = os.path.abspath(binary)
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    srv = Server(os.environ["RAFTSIM"], [SCENARIO, "--speed", "5"])
    try:
        check("the two URLs", srv.viewer == "http://%s:%d/" % (HOST, srv.port)
              and srv.controller == srv.viewer + "?token=" + srv.token
              and len(srv.token) == 32 and all(c in "0123456789abcdef" for c in srv.token),
              srv.stdout_head)
        check_posts(srv)
        with tempfile.TemporaryDirectory(prefix="raftsim-live-") as d:
            check_viewers(srv, d)
        rc = srv.stop()
        check("SIGTERM ends serve with exit 0", rc == 0,
              "exit %r, stderr %r" % (rc, srv.stderr()[-500:]))
    except Exception as e:
        traceback.print_exc()
        check("no exception", False, "%s: %s" % (type(e).__name__, e))
    finally:
        srv.kill()
        if failed:
            print("live_http: server stderr (last 1000 bytes): %r" % srv.stderr()[-1000:])
    print("live_http: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
