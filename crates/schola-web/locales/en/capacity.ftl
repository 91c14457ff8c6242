# The capacity page (admin): does this machine hold the school's 8:00 morning, the readiness
# report, and the banner on every admin page.
capacity-title = Capacity
capacity-banner-text = Capacity check: { $problems }
capacity-banner-link = see Capacity
capacity-warnings = { $count ->
    [one] { $n } warning
   *[other] { $n } warnings
}
capacity-failures = { $count ->
    [one] { $n } failure
   *[other] { $n } failures
}
capacity-level-ok = OK
capacity-level-warn = Warning
capacity-level-fail = Failure
capacity-trigger-cli = on the console
capacity-trigger-timer = daily check
capacity-trigger-upgrade = after an upgrade
capacity-trigger-web = from this page
capacity-trigger-storm = measured storm

# the latest check
capacity-none-title = No capacity check yet
capacity-none-text = Schola has not checked this machine yet. There are three ways to get a check: run { $command } as root on the server's console, press "Check now" below (on an appliance), or wait for the daily check, which runs every night.
capacity-report-none = There is no check to report on yet. The capacity page says how to run one.
capacity-unreadable = The last check (from { $when }) could not be read: { $error }. Run a new check.
capacity-summary-title = Result of the last check
capacity-overall = Overall: { $level }
capacity-ran = Checked on { $when } UTC ({ $trigger }), by Schola { $version }.
capacity-largest = The largest school this machine holds at 8:00: { $largest } people (this school: { $this }).
capacity-largest-measured = This number comes from a measured sign-in storm.
capacity-bars-title = Need and capacity per resource
capacity-bar-needed = needed
capacity-bar-have = available
capacity-verdicts-title = Verdict per resource
capacity-col-resource = Resource
capacity-col-level = Result
capacity-col-numbers = Numbers
capacity-col-action = What to do
capacity-numbers = needed { $needed }, have { $have }, headroom { $headroom } %
capacity-numbers-no-need = needed { $needed }, have { $have }
capacity-measured = measured by a sign-in storm
capacity-modelled = from the model
capacity-no-action = nothing to do
capacity-fix-button = Apply: set { $setting } = { $value }
capacity-fix-console = To apply it, run { $command } as root on the server.
capacity-check-now = Check now
capacity-check-console = To run a check now, run { $command } as root on the server.
capacity-check-waiting = A check has been requested and runs within a minute. Reload this page to see its result.
capacity-fix-waiting = A fix is waiting to be applied.
capacity-check-requested = The check has been requested. It runs within a minute; reload this page to see its result.
capacity-fix-requested = The change { $setting } = { $value } has been requested. The helper applies it and restarts the web server within a minute; signed-in people stay signed in. The next check shows the new value.
capacity-fix-forged = This change is not what the last check proposes. Reload the page and use the button shown there.
capacity-not-managed = This server is not an installed appliance, so the page cannot start a check or a change. Run { $command } as root on the server instead.
capacity-request-failed = The request could not be left for the helper: { $error }

# resources
capacity-resource-signin-cpu = Sign-in CPU
capacity-resource-request-cpu = Page requests CPU
capacity-resource-memory = Memory (RAM)
capacity-resource-connections = Concurrent connections
capacity-resource-open-files = Open files
capacity-resource-disk-space = Disk space
capacity-resource-disk-write = Disk writes
capacity-resource-uplink = Internet uplink
capacity-resource-network = Local network

# actions, one per kind
capacity-action-set-config = Set { $setting } = { $value }.
capacity-action-add-memory = Add { $amount } of RAM.
capacity-action-add-cores = A machine with { $cores } cores of this speed is needed.
capacity-action-add-disk-full = The disk is full in { $days } days: add { $amount }.
capacity-action-add-disk = Add { $amount } of disk space.
capacity-action-faster-disk = Put the data on an SSD: this disk cannot write fast enough.
capacity-action-enter-uplink = Enter the school's internet uplink below; it cannot be measured offline.
capacity-action-faster-uplink = An internet uplink of at least { $bandwidth } is needed.
capacity-action-faster-network = A network link of at least { $bandwidth } is needed.
capacity-action-raise-open-files = Raise LimitNOFILE of { $service } to { $value }.
capacity-action-investigate = Look into this: { $what }

# how we got this
capacity-figures-title = How we got these numbers
capacity-figures-intro = Each need is computed from the school's size, the distance-learning profile and what was measured on this machine. The formula names its inputs; their values and where they come from are listed below it.
capacity-col-input = Input
capacity-col-value = Value
capacity-col-source = Source
capacity-source-directory = directory
capacity-source-profile = profile
capacity-source-probe = measured
capacity-source-config = configuration
capacity-source-constant = constant
capacity-source-storm = measured storm
capacity-source-model = computed above

# figures
capacity-figure-people = People
capacity-figure-active-people = People online at the peak
capacity-figure-signin-rate = Sign-ins per second at 8:00
capacity-figure-cpu-scale = CPU cost factor against the reference machine
capacity-figure-signin-cpu = CPU for the sign-in storm
capacity-figure-request-rate = Page requests per second
capacity-figure-request-cpu = CPU for page requests
capacity-figure-connections = Concurrent connections
capacity-figure-open-files = Open files
capacity-figure-memory = Memory
capacity-figure-disk-growth-per-day = Disk growth per school day
capacity-figure-disk-space-year = Disk space per school year
capacity-figure-disk-write-rate = Disk write rate in the busiest hour
capacity-figure-commit-rate = Database commits per second
capacity-figure-uplink = Internet bandwidth
capacity-figure-network = Local network bandwidth

# inputs
capacity-input-people = people
capacity-input-students = students
capacity-input-teachers = teachers
capacity-input-staff = staff
capacity-input-admins = administrators
capacity-input-active-people = people online
capacity-input-signin-rate = sign-ins per second
capacity-input-cores = cores
capacity-input-verifies-per-sec = argon2id verifies per second
capacity-input-memory-kib = argon2id memory in KiB
capacity-input-iterations = argon2id passes
capacity-input-calibration-verify-ms = CPU time of one argon2id verify on the reference machine
capacity-input-calibration-argon2-work = argon2id work per verify on the reference machine
capacity-input-cpu-scale = CPU cost factor
capacity-input-signin-overhead-ms = CPU time per sign-in besides argon2id
capacity-input-request-rate = requests per second
capacity-input-request-cpu-ms = CPU time per page request
capacity-input-connections = connections
capacity-input-open-files-headroom = other open files of the web server
capacity-input-os-baseline = memory of the system and other services
capacity-input-web-baseline = web server memory at rest
capacity-input-hash-threads = password hashing threads
capacity-input-argon2-memory = memory per argon2id verify
capacity-input-workers = web server workers
capacity-input-per-worker = memory per worker
capacity-input-per-connection = memory per connection
capacity-input-per-session = memory per session
capacity-input-per-drive = memory per network drive
capacity-input-mail-connections-per-person = mail connections per person
capacity-input-per-mail-connection = memory per mail connection
capacity-input-disk-growth-per-day = disk growth per day
capacity-input-busiest-hour-share = share of a day's uploads in the busiest hour
capacity-input-commits-per-signin = database commits per sign-in
capacity-input-session-touches-per-minute = session updates per person and minute

# health checks
capacity-health-title = Health checks
capacity-col-check = Check
capacity-col-detail = What was seen
capacity-health-disk-free = Free disk space
capacity-health-memory = Memory in use
capacity-health-swap = Swap in use
capacity-health-oom-kills = Processes stopped for lack of memory
capacity-health-mail-queue = Mail queue
capacity-health-certificate = Certificate
capacity-health-services = Schola services
capacity-health-limits-hit = Limits reached
capacity-health-backup = Backup

# pictures and history
capacity-disk-title = Disk growth forecast
capacity-disk-used = used
capacity-disk-forecast = forecast
capacity-disk-capacity = size of the disk
capacity-disk-full-on = full on { $date }
capacity-disk-none = The checks have not measured a data disk yet.
capacity-peaks-title = Morning peak per day
capacity-peaks-signins = sign-ins in the busiest minute
capacity-peaks-p99 = slowest 1 % of answers (ms)
capacity-peaks-waiting = sent to the waiting room
capacity-peaks-none = No load has been recorded yet; the web server records it every minute.
capacity-history-title = Earlier checks
capacity-col-when = When
capacity-col-trigger = Started by
capacity-col-largest = Largest school

# the profile form
capacity-profile-title = Distance-learning profile
capacity-profile-intro = How the school uses Schola on its busiest morning. The defaults describe distance learning, the heaviest case: every pupil at home, every lesson on the school server. An empty field takes its default.
capacity-profile-save = Save profile
capacity-profile-saved = The profile has been saved. The next check uses it.
capacity-profile-default = Default: { $default }.
capacity-profile-range = Allowed: { $min } to { $max }.
capacity-profile-out-of-range = { $field }: { $value } is out of range. Allowed: { $min } to { $max }. Nothing was saved.
capacity-profile-not-a-number = { $field }: “{ $value }” is not a number. Nothing was saved.
capacity-profile-not-entered = not entered
capacity-field-students-online = Students online at the peak
capacity-field-students-online-hint = Share of students who use Schola on the busiest morning.
capacity-field-staff-online = Teachers and staff online at the peak
capacity-field-staff-online-hint = Share of teachers and staff who use Schola on the busiest morning.
capacity-field-storm-share = People who sign in during the storm
capacity-field-storm-share-hint = Share of everyone who signs in within the storm window (around 8:00).
capacity-field-storm-window-secs = Storm window
capacity-field-storm-window-secs-hint = The time those sign-ins are spread over, e.g. 600 s from 7:55 to 8:05.
capacity-field-requests-per-minute = Requests per minute per person
capacity-field-requests-per-minute-hint = Pages and files each person online asks for per minute after signing in.
capacity-field-connections-per-browser = Connections per browser
capacity-field-connections-per-browser-hint = Connections one browser keeps open to the server.
capacity-field-upload-per-teacher = Upload per teacher per day
capacity-field-upload-per-teacher-hint = Worksheets, corrections and recordings a teacher stores on a school day.
capacity-field-upload-per-student = Upload per student per day
capacity-field-upload-per-student-hint = Homework, photos and phone videos of it a student stores on a school day.
capacity-field-mails-per-person = Mails per person per day
capacity-field-mails-per-person-hint = Mails each person receives on a school day.
capacity-field-mail-size = Average mail size
capacity-field-mail-size-hint = The average size of one mail with its attachments.
capacity-field-drives-per-person = Network drives per person
capacity-field-drives-per-person-hint = Drives each person has mounted at the peak (the home drive is one).
capacity-field-bandwidth-per-person = Bandwidth per person online
capacity-field-bandwidth-per-person-hint = Average download rate of one person online: pages, worksheets and files, not video calls.
capacity-field-school-days = School days per year
capacity-field-school-days-hint = The days per year the data grows on.
capacity-field-uplink-bits = The school's internet uplink
capacity-field-uplink-bits-hint = Upload bandwidth of the school's internet connection, as the contract or the router says. It cannot be measured offline; empty means not entered, and the check then says so.

# units
capacity-unit-percent = { $n } %
capacity-unit-cores = { $count ->
    [one] { $n } core
   *[other] { $n } cores
}
capacity-unit-days = { $count ->
    [one] { $n } day
   *[other] { $n } days
}
capacity-unit-per-second = { $n }/s
capacity-unit-per-minute = { $n }/min
capacity-unit-per-day = { $n }/day
capacity-unit-seconds = { $n } s
capacity-unit-ms = { $n } ms
capacity-unit-byte-prefixes = B KiB MiB GiB TiB PiB
capacity-unit-bit-prefixes = bit/s kbit/s Mbit/s Gbit/s Tbit/s
capacity-unit-mb = MB
capacity-unit-kb = kB
capacity-unit-mbit = Mbit/s
capacity-unit-kbit = kbit/s
capacity-unit-s = s
capacity-unit-per-minute-short = /min

# the readiness report
capacity-report-html = Printable page
capacity-report-pdf = PDF download
capacity-report-title = Readiness report: { $school }
capacity-report-subtitle = Can this school server hold the school's distance-learning morning? Checked on { $date }.
capacity-report-footer = Schola { $version } · { $school } · { $date }
capacity-report-back = Back to the capacity page
capacity-report-summary = Summary
capacity-report-school = School size
capacity-report-people-total = Everyone
capacity-report-hardware = Hardware
capacity-report-host = Server name
capacity-report-cpu = Processor
capacity-report-cores = Cores
capacity-report-ram = RAM
capacity-report-ram-cgroup = { $amount } (limited for Schola)
capacity-report-swap = Swap
capacity-report-disks = Disks
capacity-report-disk-role-database = database
capacity-report-disk-role-files = files
capacity-report-col-disk = Disk
capacity-report-col-type = Type
capacity-report-col-size = Size
capacity-report-col-free = Free
capacity-report-col-seq-write = Writing
capacity-report-col-fsyncs = Commits
capacity-report-col-iops = Random read/write
capacity-report-not-measured = not measured
capacity-report-nics = Network
capacity-report-nic-speed-unknown = speed unknown
capacity-report-nic-down = down
capacity-report-measured = Measured capacity
capacity-report-argon2 = Sign-in checks per second (all cores)
capacity-report-argon2-params = Password hashing (argon2id)
capacity-report-argon2-params-value = { $memory } memory, { $iterations } passes
capacity-report-storm = Measured sign-in storm
capacity-report-storm-people = People who signed in
capacity-report-storm-window = Within
capacity-report-storm-rate = Sign-ins per second
capacity-report-storm-predicted = Predicted by the model
capacity-report-storm-p99-signin = Slowest 1 % of sign-ins
capacity-report-storm-p99-start = Slowest 1 % of start pages
capacity-report-storm-errors = Errors
capacity-report-storm-waiting = Sent to the waiting room
capacity-report-no-storm = No sign-in storm has been measured; the verdicts come from the model and the measured machine.
capacity-report-verdicts = Verdict per resource
capacity-report-col-needed = Needed
capacity-report-col-have = Available
capacity-report-col-headroom = Headroom
capacity-report-upgrade = Recommended upgrade
capacity-report-upgrade-none = None: this machine holds the school's morning with the profile below.
capacity-report-profile = Distance-learning profile used
capacity-report-date = Date
capacity-report-version = Schola version

# what the machine has, when it could not be measured (uplink not entered, link speed not reported)
capacity-unknown = unknown
