-- wrk script: absolute-form requests (what a client sends to a forward proxy), with a realistic
-- consent cookie so the policy engine does its full work on every exchange.
-- Environment: TARGET_URL (absolute URL), COOKIE (Cookie header value, optional).
local url = os.getenv("TARGET_URL")
local cookie = os.getenv("COOKIE")
local host = url:match("^https?://([^/]+)")
local headers = { ["Host"] = host, ["User-Agent"] = "wrk-consentgate-bench", ["Accept"] = "*/*" }
if cookie and #cookie > 0 then headers["Cookie"] = cookie end
request = function()
  return wrk.format("GET", url, headers)
end
