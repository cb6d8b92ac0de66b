-- wrk script: POST /v2/certificates for the person seeded by `registry bench certificate-seed`.
wrk.method = "POST"
wrk.path = "/v2/certificates"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"identity": {"phone": "06 12 34 56 78"}, "tz": "Europe/Paris", "start_at": "2000-01-01T00:00:00Z"}'

function response(status, headers, body)
    if status ~= 201 then
        io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
    end
end
