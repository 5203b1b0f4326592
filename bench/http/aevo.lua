-- wrk script for scripts/bench-http.sh: sends the Aevo requests `e2e_bench presign` signed
-- ahead, each once (a request sent twice would be refused as a replay, and counted by wrk as a
-- non-2xx response). The file: the body on the first line, then "timestamp signature" lines.
-- Run with one wrk thread (-t1): one Lua state walks the list.
local body
local requests = {}
local next_index = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  body = file:read("*l")
  for line in file:lines() do
    requests[#requests + 1] = line
  end
  file:close()
end

function request()
  next_index = next_index + 1
  local line = requests[next_index]
  if line == nil then
    -- Out of signed requests: start again. The server refuses these as replays; wrk counts
    -- them as non-2xx responses and the script reports the run as invalid.
    next_index = 1
    line = requests[1]
  end
  local ts, sig = line:match("^(%d+) (%x+)$")
  return wrk.format("POST", "/orders", {
    ["AEVO-KEY"] = "bench-aevo-key",
    ["AEVO-TIMESTAMP"] = ts,
    ["AEVO-SIGNATURE"] = sig,
    ["Content-Type"] = "application/json",
  }, body)
end

