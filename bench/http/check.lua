-- bench/http/check.lua - wrk: GET /check, cycling through the bench questions
-- (URBAC_PATHS: one request path per line), over keep-alive.
local paths = {}
for line in io.lines(os.getenv("URBAC_PATHS")) do paths[#paths + 1] = line end
local headers = { ["Authorization"] = "Bearer " .. os.getenv("URBAC_KEY") }
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end
