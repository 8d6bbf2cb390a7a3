#!/usr/bin/env bash
# teleop qa on real episodes: a default short `teleop run` (the station
# stores its QA flags at finish; they are asserted against the episode's own
# events and sync report, read independently with Python's sqlite3), the
# one-line output, --dry-run, --json, a locked episode reported and skipped
# (exit 1), and `teleop check` accepting every episode afterwards.
set -euo pipefail
teleop=$1
fixture=$2
T=$(mktemp -d /tmp/teleop-qa-cli-XXXXXX)
lock_pid=
cleanup() {
    touch "$T/release"
    [ -n "$lock_pid" ] && wait "$lock_pid" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. A real session: the station stored the flags when it finished.
"$teleop" run --duration 2 --out "$T/rec" > "$T/run.log" 2>&1 || { cat "$T/run.log"; fail "teleop run"; }
ep=$(ls "$T"/rec/episode-*.db)
[ "$(echo "$ep" | wc -l)" = 1 ] || fail "one episode expected: $ep"
"$teleop" check "$ep" > /dev/null || fail "check after the station's QA"
/usr/bin/python3 - "$ep" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
meta = dict(db.execute("select key, value from meta"))
assert "qa_flags" in meta, "the station stored no QA flags"
assert meta["qa_version"] == "1", meta["qa_version"]
assert int(meta["qa_unix_ns"]) > int(meta["finished_unix_ns"]), "QA stored before the finish"
metrics = json.loads(meta["qa_metrics"])
assert isinstance(metrics, dict)
events = {}
for kind, n in db.execute("select kind, count(*) from events group by kind"):
    events[kind] = n
cam_ids = [r[0] for r in db.execute("select id from streams where kind = 'camera'")]
cam_gaps = db.execute("select count(*) from sync_gaps where stream_id in (%s)" % ",".join(map(str, cam_ids))).fetchone()[0]
state_rows = db.execute("select count(*) from samples where stream_id = (select id from streams where name = 'state')").fetchone()[0]
max_skew = db.execute("select max(max(coalesce(state_max_skew_ns, 0), coalesce(action_max_skew_ns, 0))) from sync_summary").fetchone()[0]
want = []
if events.get("frame_dropped", 0) + events.get("frames_missed", 0) + cam_gaps > 0:
    want.append("dropped_frames")
if max_skew > 0.5e9 / 30:
    want.append("sync_skew")
if events.get("emergency_hold", 0) + events.get("safety_workspace_hold", 0):
    want.append("holds")
if sum(n for k, n in events.items() if k in ("safety_position_clamp", "safety_velocity_clamp", "safety_nonfinite_input")):
    want.append("safety")
if events.get("tracking_lost", 0) + events.get("xr_tracking_lost", 0) + events.get("input_stale", 0):
    want.append("tracking_lost")
if events.get("deadline_miss", 0) > 0.01 * state_rows or events.get("sim_time_skipped", 0) or events.get("watchdog_control_stall", 0):
    want.append("deadline_misses")
# completed, 2 s, the bundled demo motion: none of the others
assert meta["outcome"] == "completed", meta["outcome"]
assert abs(metrics["duration_s"] - (int(meta["end_t_ns"]) - int(meta["start_t_ns"])) / 1e9) < 1e-6
assert 1.9 < metrics["duration_s"] < 2.5, metrics["duration_s"]
assert metrics["movement"] > 0.5, metrics["movement"]
assert 0 < metrics["jerk"] < 2000, metrics["jerk"]
assert meta["qa_flags"] == ",".join(want), (meta["qa_flags"], want, events)
print("station QA:", repr(meta["qa_flags"]), "movement", metrics["movement"], "jerk", metrics["jerk"])
PY
# The same computed again by teleop qa --dry-run.
stored=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select value from meta where key='qa_flags'\").fetchone()[0])" "$ep")
line=$("$teleop" qa --dry-run "$ep")
if [ -z "$stored" ]; then want_line="$(basename "$ep"): clean"; else want_line="$(basename "$ep"): $stored ("; fi
case "$line" in "$want_line"*) ;; *) fail "qa --dry-run: '$line', stored '$stored'";; esac

# 2. A folder of two copies of the v2 fixture (0.2 s, two safety clamps).
mkdir "$T/d"
cp "$fixture" "$T/d/a.db"
cp "$fixture" "$T/d/b.db"
out=$("$teleop" qa --dry-run "$T/d")
[ "$out" = "a.db: safety,too_short (2 safety interventions; 0.2 s)
b.db: safety,too_short (2 safety interventions; 0.2 s)" ] || fail "dry run output: $out"
/usr/bin/python3 -c "import sqlite3,sys; assert sqlite3.connect(sys.argv[1]).execute(\"select count(*) from meta where key like 'qa_%'\").fetchone()[0] == 0, 'dry run stored'" "$T/d/a.db"
"$teleop" qa --json "$T/d" > "$T/qa.json"
/usr/bin/python3 - "$T/qa.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert [e["path"].rsplit("/", 1)[1] for e in doc] == ["a.db", "b.db"], doc
for e in doc:
    assert e["flags"] == ["safety", "too_short"], e
    assert e["stored"] is True
    assert e["metrics"]["safety_interventions"] == 2
PY
for f in "$T"/d/*.db; do "$teleop" check "$f" > /dev/null || fail "check $f after qa"; done

# 3. A locked episode (flock, as a live recorder holds it): reported, skipped, exit 1.
flock -x "$T/d/a.db" -c "touch '$T/locked'; while [ ! -e '$T/release' ]; do sleep 0.05; done" > /dev/null 2>&1 &
lock_pid=$!
for _ in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.05; done
[ -e "$T/locked" ] || fail "lock not taken"
set +e
"$teleop" qa "$T/d" > "$T/out" 2> "$T/err"
rc=$?
set -e
[ $rc = 1 ] || fail "exit $rc with a locked episode"
[ "$(cat "$T/err")" = "teleop qa: $T/d/a.db: being recorded, QA not stored; skipped" ] || fail "stderr: $(cat "$T/err")"
[ "$(cat "$T/out")" = "b.db: safety,too_short (2 safety interventions; 0.2 s)" ] || fail "stdout: $(cat "$T/out")"
touch "$T/release"
wait "$lock_pid"
lock_pid=
"$teleop" qa "$T/d/a.db" > /dev/null || fail "qa after the lock was released"

# 4. Export selection on what review and QA stored (both flagged
#    safety,too_short; a.db marked for deletion).
sqlite3 "$T/d/a.db" "INSERT OR REPLACE INTO meta VALUES('delete_marked', '1')"
"$teleop" export "$T/d" --format hdf5 --layout robomimic -o "$T/x1.h5" --qa-flag safety 2> "$T/err" > /dev/null
grep -q "x1.h5: 1 episodes written" "$T/err" || fail "--qa-flag safety without the deleted one: $(cat "$T/err")"
"$teleop" export --check "$T/x1.h5" > /dev/null || fail "x1.h5 invalid"
"$teleop" export "$T/d" --format hdf5 --layout robomimic -o "$T/x2.h5" --qa-flag safety --include-deleted 2> "$T/err" > /dev/null
grep -q "x2.h5: 2 episodes written" "$T/err" || fail "--include-deleted: $(cat "$T/err")"
set +e
"$teleop" export "$T/d" --format lerobot -o "$T/l" --qa-clean 2> "$T/err"
rc=$?
set -e
[ $rc = 1 ] && grep -q 'no episode selected (of 2 given)' "$T/err" || fail "--qa-clean: $rc $(cat "$T/err")"
"$teleop" export "$T/d" --format lerobot -o "$T/l" --no-qa-flag jerky --verdict success --include-deleted 2> "$T/err" && fail "--verdict success selected unreviewed episodes"
grep -q 'no episode selected' "$T/err" || fail "--verdict: $(cat "$T/err")"
echo "ok"
