-- wrk script for bench_web.py: the signed-in session's cookies, the CSRF header for writes, an
-- optional JSON body, and one machine-readable summary line at the end.
-- Everything comes from the environment, so one script serves every row of the table.
wrk.method = os.getenv("WRK_METHOD") or "GET"
local cookie = os.getenv("WRK_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
local csrf = os.getenv("WRK_CSRF")
if csrf and csrf ~= "" then
  wrk.headers["X-CSRFToken"] = csrf
end
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
wrk.headers["Accept"] = os.getenv("WRK_ACCEPT") or "text/html,application/json"

done = function(summary, latency, requests)
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
