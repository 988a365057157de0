-- wrk script for direct-to-origin and reverse-proxy runs: origin-form path, same headers.
local path = os.getenv("TARGET_PATH")
local cookie = os.getenv("COOKIE")
local headers = { ["User-Agent"] = "wrk-consentgate-bench", ["Accept"] = "*/*" }
if cookie and #cookie > 0 then headers["Cookie"] = cookie end
request = function()
  return wrk.format("GET", path, headers)
end
