-- wrk script: POST a small chat completion and print exact figures from done().
-- The model name comes from the environment (SY_BENCH_MODEL), so one script serves every target;
-- nginx ignores it, the gateway routes on it.
local model = os.getenv("SY_BENCH_MODEL") or "bench-fast"

-- The gateway's client key (run.sh creates it); nginx and the upstream ignore the header.
local key = os.getenv("SY_BENCH_KEY")
if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
-- SY_BENCH_CLOSE=1: one request per connection (the client asks the server to close after it).
if os.getenv("SY_BENCH_CLOSE") == "1" then wrk.headers["Connection"] = "close" end
-- SY_BENCH_METHOD=GET: a bodiless GET instead (decompose.sh's GET /healthz row).
if os.getenv("SY_BENCH_METHOD") == "GET" then
  wrk.method = "GET"
else
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"Say hello in five words."}],"max_tokens":16}'
end

-- One machine-readable line; run.sh parses it. Latencies are in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SYRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect_err=%d read_err=%d write_err=%d timeout_err=%d non2xx=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end
