-- bench/http/checks.lua - wrk: POST /checks with one body (URBAC_BODY: 1,000
-- questions) to URBAC_PATH, over keep-alive.
local f = assert(io.open(os.getenv("URBAC_BODY"), "rb"))
wrk.method = "POST"
wrk.path = os.getenv("URBAC_PATH")
wrk.body = f:read("*a")
f:close()
wrk.headers["Authorization"] = "Bearer " .. os.getenv("URBAC_KEY")
wrk.headers["Content-Type"] = "application/json"
