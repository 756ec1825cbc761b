-- wrk script: POST one long streamed chat completion per request and count the answers that did
-- not end the stream. run.sh builds the body (SY_BENCH_BODY: "stream": true, the model, and
-- enough max_tokens to last several seconds) and passes the gateway's key (SY_BENCH_KEY).
-- wrk times each request to its last byte, so its latencies here are whole-stream durations.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("SY_BENCH_KEY")
if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
wrk.body = os.getenv("SY_BENCH_BODY") or error("stream.lua: SY_BENCH_BODY is not set")

-- Per thread: 2xx answers whose body lacks the final "data: [DONE]" (a stream cut short).
incomplete = 0

function response(status, headers, body)
  if status < 300 and not string.find(body, "data: [DONE]", 1, true) then
    incomplete = incomplete + 1
  end
end

-- The same machine-readable line as post.lua, plus incomplete=. Latencies are in microseconds.
function done(summary, latency, requests)
  local cut = 0
  for _, thread in ipairs(threads) do cut = cut + (thread:get("incomplete") or 0) end
  local e = summary.errors
  io.write(string.format(
    "SYRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect_err=%d read_err=%d write_err=%d timeout_err=%d non2xx=%d incomplete=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status, cut))
end
