-- wrk script: GET /user/<name> with names picked at random from a file (one a line),
-- and a JSON summary on the last line of the output for the harness to read.
-- usage: wrk -t1 -cN -dDs -s lookup.lua http://host:port -- names.txt
local names = {}

function init(args)
  for line in io.lines(args[1]) do
    names[#names + 1] = line
  end
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", "/user/" .. names[math.random(#names)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, e.status,
    e.connect + e.read + e.write + e.timeout))
end
