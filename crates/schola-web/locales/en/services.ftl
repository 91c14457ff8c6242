# The services page (admin): services, limits and load.
services-page-title = Services
services-list-title = Services and their state
services-no-systemd = systemd is not running on this machine (a development or demo server), so the state of the services cannot be asked; the row of schola-web comes from this process.
services-no-dpkg = dpkg is not available on this machine, so installed versions are unknown.
services-col-service = Service
services-col-health = State
services-col-version = Version
services-col-uptime = Uptime
services-col-turn-on = To turn it on
services-kind-schola = Schola daemon
services-kind-system = system service
services-health-running = running
services-health-starting = starting
services-health-stopping = stopping
services-health-stopped = stopped
services-health-failed = failed
services-health-off = off (not installed)
services-health-unknown = unknown
services-uptime-days = { $d } d { $h } h
services-uptime-hours = { $h } h { $m } min
services-uptime-minutes = { $m } min
services-uptime-since = { $uptime }, since { $since }
services-from-process = as this process reports it
services-failed-log = Why: journalctl -u { $unit }
services-comes-with = comes with { $package }
services-not-available = This package is not available yet.
services-commands-as-root = Run these commands as root on the server.
services-limits-title = Limits in force
services-col-limit = Limit
services-col-value = Value
services-col-source = Comes from
services-limit-workers = Worker threads
services-limit-connections = Open connections (all workers)
services-limit-connections-per-worker = Open connections per worker
services-limit-handshakes = TLS handshakes at once per worker
services-limit-in-flight = Requests worked on at once
services-limit-hash-threads = Password-checking threads
services-limit-signins-waiting = Sign-ins waiting for a password check
services-limit-request-timeout = Time to send the request headers
services-limit-handshake-timeout = Time to finish the TLS handshake
services-limit-keep-alive = Idle connection kept open for
services-seconds = { $n } s
services-source-config = set in the configuration: { $key }
services-source-built-in = built in
services-source-cores = { $count ->
    [one] one per core ({ $n } core)
   *[other] one per core ({ $n } cores)
}
services-source-per-worker = the open connections shared out among the workers
services-source-in-flight = { $count ->
    [one] derived: 256 per core ({ $n } core), between 256 and 4,096
   *[other] derived: 256 per core ({ $n } cores), between 256 and 4,096
}
services-source-signins = derived: 200 per password-checking thread, at least 64
services-load-title = Load right now
services-col-measure = What
services-col-now = Now
services-col-meaning = Meaning
services-load-sessions = Sessions
services-load-sessions-note = Sign-ins that have not ended or expired yet, on all devices
services-load-signins = Sign-ins at the password check
services-load-signins-note = Waiting or being checked; past the limit, new sign-ins are asked to try again in a moment
services-load-in-flight = Requests in progress
services-load-in-flight-note = This page's request included; past the limit, visitors see the waiting room
services-load-of = { $n } of { $limit }
services-limit-connections-per-client = Open connections per client address
services-limit-handshakes-per-client = TLS handshakes at once per client address
services-limit-body-timeout = Longest pause in a request body
services-limit-body-rate = Slowest request body accepted
services-bytes-per-second = { $n } bytes/s
services-source-school = the school's size (6 per person, plus 1,024, at least 4,096), at most what { $gib } GiB of memory hold
services-source-per-client = a quarter of the open connections, at least 256
services-source-handshakes-per-client = a quarter of the handshake slots, at least 16
services-limit-metrics = Prometheus metrics
services-metrics-off = off
services-source-metrics = on the appliance on localhost, off in a development setup
services-limit-blocking-threads = Database threads per worker
