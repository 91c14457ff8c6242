#!/usr/bin/env python3
"""The image test (run by scripts/test-image): boots a system installed from the ISO, completes
the first-run wizard and signs in over HTTPS from the host, creates a student, imports another,
mails them (SMTP submission and port 25 from the host) and reads the mail over IMAPS as the
student, checks a disabled student is refused by IMAP at once, powers off, boots again with legacy
BIOS and signs the student in and reads her mail again. Prints the time of each step and the
measured figures.

    image/test_image.py ISO WORKDIR [DISK_IMAGE]

With DISK_IMAGE (the qcow2 that `scripts/build-image --disk` makes: the ISO installed unattended
by an answer file on a second disk, UEFI), the installed system is that image: a copy of it is
checked to be unbooted with root locked, gets a root password for the console the way the
installer sets one (chpasswd in the target), and is booted. The installer then runs once per test
run, in scripts/build-image, instead of twice. Without DISK_IMAGE (`scripts/test-image --iso`),
the test installs the ISO itself the same way.
"""

import hashlib
import base64
import email
import email.message
import email.policy
import http.client
import imaplib
import json
import os
import re
import secrets
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(__file__))
import vm as vmlib  # noqa: E402

BEGAN = time.monotonic()
passed = 0


def step(text):
    print(f"\n--- test-image: {text} ({time.monotonic() - BEGAN:.0f} s)", flush=True)


def ok(text):
    global passed
    passed += 1
    print(f"ok: {text}", flush=True)


def fail(text):
    print(f"test-image: FAILED: {text}", file=sys.stderr, flush=True)
    print(f"test-image: {passed} passed, 1 failed", flush=True)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Browser:
    """An HTTPS client with a cookie jar that does not follow redirects. The appliance's
    certificate is self-signed; the test compares its fingerprint with the console's instead."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def request(self, method, path, form=None, timeout=30):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                           timeout=timeout)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", errors="replace")
        for h, v in resp.getheaders():
            if h.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        cert = conn.sock.getpeercert(binary_form=True) if conn.sock else None
        conn.close()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), text, cert

    def csrf(self, path):
        status, _, text, _ = self.request("GET", path)
        m = re.search(r'name="csrf" value="([^"]+)"', text)
        if not m:
            fail(f"no form token on {path} (HTTP {status})")
        return m.group(1)

    def sign_in(self, login, password):
        token = self.csrf("/login")
        status, headers, _, _ = self.request(
            "POST", "/login", {"csrf": token, "login": login, "password": password})
        return status, headers.get("location", "")


def wait_ready(b, vm, timeout):
    """Polls /healthz over the forwarded port until the appliance answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if vm.proc.poll() is not None:
            fail(f"the machine stopped before it was ready\n{vm.tail()}")
        try:
            status, _, text, cert = b.request("GET", "/healthz", timeout=5)
            if status == 200 and text.startswith("ok"):
                return cert
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(1)
    fail(f"https://127.0.0.1:{b.port}/healthz did not answer within {timeout} s\n{vm.tail()}")


def sh(*cmd, **kw):
    """Runs a host command; its output, or a failure naming it and its last words."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} failed with status {p.returncode}: {(p.stderr or p.stdout).strip()}")
    return p.stdout


def disk_from_image(image, work, root_pw):
    """A raw copy of the disk image (read through qemu-img, so the qcow2 itself is what is
    tested) with a root password for the test's console. The image has none (root locked, no
    default credentials) and was never booted; both are checked in the copy first. The password
    is set as schola-install sets an answer file's root_password: chpasswd run in the target's
    root file system (partition 3), the password on stdin."""
    disk = f"{work}/disk.raw"
    sh("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image, disk)
    table = json.loads(sh("sfdisk", "-J", disk))["partitiontable"]
    sector = table.get("sectorsize", 512)
    parts = table["partitions"]
    if len(parts) != 4:
        fail(f"the disk image has {len(parts)} partitions, not 4 (BIOS boot, ESP, root, data)")
    root = parts[2]
    mnt = f"{work}/disk-root"
    os.makedirs(mnt, exist_ok=True)
    loop = sh("losetup", "-f", "--show", "-o", str(root["start"] * sector),
              "--sizelimit", str(root["size"] * sector), disk).strip()
    mounted = []
    try:
        sh("mount", "-t", "ext4", loop, mnt)
        mounted.append(mnt)
        label = sh("blkid", "-p", "-s", "LABEL", "-o", "value", loop).strip()
        if label != "schola-root":
            fail(f"partition 3 of the disk image is labelled {label!r}, not schola-root")
        with open(f"{mnt}/etc/shadow", encoding="utf-8") as f:
            entry = next((line for line in f if line.startswith("root:")), "")
        pw_field = entry.split(":")[1] if entry else ""
        if not pw_field or pw_field[0] not in "!*":
            fail(f"root is not locked in the disk image (shadow: {pw_field[:3]!r}...): "
                 "there must be no default credentials")
        with open(f"{mnt}/etc/machine-id", encoding="utf-8") as f:
            if f.read().strip():
                fail("the disk image has a machine id: it was booted, or the installer did not "
                     "empty it")
        if os.path.exists(f"{mnt}/etc/systemd/system/multi-user.target.wants/"
                          "schola-installer.service"):
            fail("the installed system would run the installer")
        ok("the disk image was never booted (empty machine id), root is locked, and it does "
           "not run the installer")
        for d in ("dev", "proc"):
            sh("mount", "--bind", f"/{d}", f"{mnt}/{d}")
            mounted.append(f"{mnt}/{d}")
        sh("chroot", mnt, "chpasswd", input=f"root:{root_pw}\n")
    finally:
        for m in reversed(mounted):
            subprocess.run(["umount", m], check=False)
        subprocess.run(["losetup", "-d", loop], check=False)
    return disk


def boot(name, work, disk, firmware, port, mail_ports):
    """Boots the disk with the admin UI (443) and the mail ports (`mail_ports`: host port ->
    guest port) forwarded from the host's loopback."""
    vm = vmlib.VM(name, work, firmware, disk, forward={port: 443, **mail_ports}).start()
    b = Browser(port)
    cert = wait_ready(b, vm, 600)
    return vm, b, cert, vm.elapsed()


class Mail:
    """Mail from the host through the forwarded ports, as a mail program or another mail server
    would: SMTP on 25, submission on 587 (STARTTLS, then a password), IMAP on 993 (TLS). The
    appliance's certificate is self-signed (the same one the admin UI serves)."""

    GUEST = {"smtp": 25, "submission": 587, "imaps": 993}

    def __init__(self):
        self.ports = {name: free_port() for name in self.GUEST}
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def forward(self):
        return {self.ports[name]: guest for name, guest in self.GUEST.items()}

    def send(self, sender, to, subject, body, login=None, password=None):
        """Sends one message: signed in on submission with `login`, or else on port 25 as a
        server from outside. Fails the test if any recipient is refused."""
        msg = email.message.EmailMessage()
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject
        msg.set_content(body)
        port = self.ports["submission" if login else "smtp"]
        try:
            with smtplib.SMTP("127.0.0.1", port, local_hostname="test-image.example",
                              timeout=120) as smtp:
                if login:
                    smtp.starttls(context=self.ctx)
                    smtp.login(login, password)
                refused = smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as e:
            fail(f"sending to {', '.join(to)} on port {self.GUEST['submission' if login else 'smtp']} "
                 f"failed: {e}")
        if refused:
            fail(f"recipients refused: {refused}")

    def imap(self, login, password):
        im = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imaps"], ssl_context=self.ctx,
                               timeout=120)
        try:
            im.login(login, password)
        except imaplib.IMAP4.error:
            im.shutdown()
            raise
        return im

    def signs_in(self, login, password):
        try:
            im = self.imap(login, password)
        except imaplib.IMAP4.error:
            return False
        except OSError as e:
            fail(f"IMAPS does not answer: {e}")
        im.logout()
        return True

    def fetch(self, login, password, subject, timeout=90):
        """The message with `subject` in the INBOX of `login`, signed in over IMAPS; waits for
        its delivery, and for Dovecot after a boot (it starts after schola-web is ready: the
        mail configuration is brought up to date first), up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                im = self.imap(login, password)
            except (imaplib.IMAP4.error, OSError) as e:
                if time.monotonic() > deadline:
                    fail(f"{login} cannot sign in over IMAPS within {timeout} s: {e}")
                time.sleep(2)
                continue
            try:
                im.select("INBOX", readonly=True)
                _, found = im.search(None, "SUBJECT", f'"{subject}"')
                ids = found[0].split()
                if ids:
                    _, data = im.fetch(ids[-1], "(RFC822)")
                    return email.message_from_bytes(data[0][1], policy=email.policy.default)
            finally:
                im.logout()
            if time.monotonic() > deadline:
                fail(f"no message '{subject}' in the INBOX of {login} within {timeout} s")
            time.sleep(2)


def main():
    iso, work = sys.argv[1], sys.argv[2]
    root_pw = secrets.token_urlsafe(12)
    admin_pw = "Schulleitung-" + secrets.token_urlsafe(6)
    student_pw = "Sonnenblume-" + secrets.token_urlsafe(6)
    disk_image = sys.argv[3] if len(sys.argv) > 3 else None
    figures = {}

    if disk_image:
        # scripts/build-image installed the ISO with its own answer file on a second disk
        # (UEFI); that installation is the one tested here, so the installer runs once.
        step("the disk image for virtual machines (the ISO installed unattended by "
             "scripts/build-image, UEFI): checked, and a root password for the test's console")
        disk = disk_from_image(disk_image, work, root_pw)
        ok("root password set in a copy of the disk image (chpasswd in the target, as the "
           "installer does)")
    else:
        step("install from the ISO, unattended by an answer file on a second disk (UEFI)")
        disk = f"{work}/disk.qcow2"
        try:
            secs, m = vmlib.install(iso, work, disk, {
                "disk": "auto", "hostname": "schola-test", "wipe": "yes",
                "root_password": root_pw, "after": "reboot",
            })
        except vmlib.VMError as e:
            fail(str(e))
        figures["install (ISO boot to reboot)"] = f"{secs:.0f} s (the installer: {m.group(2)} s)"
        ok(f"installed on {m.group(1)} in {secs:.0f} s, then rebooted")

    step("first boot of the installed system (UEFI)")
    port = free_port()
    mail = Mail()
    vm, b, cert, ready = boot("uefi", work, disk, "uefi", port, mail.forward())
    figures["boot to ready (UEFI)" + (", the disk image" if disk_image else "")] = f"{ready:.0f} s"
    ok(f"the admin UI answers over HTTPS {ready:.0f} s after power-on")
    try:
        vm.login("root", root_pw)
        _, issue = vm.run("cat /run/issue.d/50-schola.issue")
        served = ":".join(f"{x:02X}" for x in hashlib.sha256(cert).digest())
        if served not in issue:
            fail(f"the console does not show the served certificate's fingerprint {served}:\n{issue}")
        m = re.search(r"First-run setup code:\s+(\S+)", issue)
        if not m:
            fail(f"the console does not show the setup code:\n{issue}")
        code = m.group(1)
        ok("the console shows the admin UI's address, the certificate fingerprint and the setup code")
        vm.run("systemctl is-active schola.target schola-web.service systemd-networkd.service")
        status, _ = vm.run("systemctl is-enabled ssh.service", check=False)
        if status == 0:
            fail("sshd is enabled on a fresh appliance")
        vm.run("grep -rq security /etc/apt/sources.list /etc/apt/sources.list.d/")
        vm.run("grep -q '^Signed-By: /usr/share/keyrings/schola-archive-keyring.gpg' "
               "/etc/apt/sources.list.d/schola.sources")
        vm.run("systemctl is-enabled apt-daily-upgrade.timer && "
               "grep -q 'Unattended-Upgrade \"1\"' /etc/apt/apt.conf.d/20auto-upgrades")
        vm.run("findmnt -n /srv && findmnt -n /var/vmail && findmnt -n /boot/efi")
        ok("SSH off, apt sources for Schola and Debian security, security updates unattended, "
           "/srv and /var/vmail on the data partition")

        step("the first-run wizard and sign-in over HTTPS from the host")
        status, headers, _, _ = b.request("GET", "/")
        if status != 303 or headers.get("location") not in ("/setup", "/login"):
            fail(f"a fresh appliance does not lead to the setup (HTTP {status})")
        status, headers, _, _ = b.request("GET", "/login")
        if status != 303 or headers.get("location") != "/setup":
            fail(f"a fresh appliance does not wait for its first-run setup (/login: HTTP {status})")
        ok("the fresh appliance waits for its first-run setup")
        token = b.csrf("/setup")
        status, headers, text, _ = b.request("POST", "/setup", {
            "csrf": token, "setup_code": code, "school_name": "Testschule im Emulator",
            "mail_domain": "emulator.schule.example", "admin_login": "admin",
            "password": admin_pw, "password_confirm": admin_pw,
        })
        if status != 303:
            fail(f"the setup was refused (HTTP {status}): {text[:400]}")
        status, _ = b.sign_in("admin", admin_pw)
        if status != 303:
            fail(f"the admin cannot sign in (HTTP {status})")
        _, _, page, _ = b.request("GET", "/admin")
        if "Testschule im Emulator" not in page:
            fail("the admin page does not show the school's name")
        ok("setup done with the console's code; the admin signs in")
        # the services page asks systemd without privileges, through the hardened unit
        _, _, page, _ = b.request("GET", "/admin/services")
        row = re.search(r'<tr id="svc-schola-web">(.*?)</tr>', page, re.S)
        if not row or ">running<" not in row.group(1):
            fail("the services page does not show schola-web running: "
                 + (row.group(1) if row else page[:600]))
        if "systemd is not running" in page:
            fail("the services page cannot reach systemd on the appliance")
        ok("the services page shows schola-web running, as systemd reports it")
        # the capacity check: "check now" on the capacity page leaves a request, the path unit
        # starts the hardened schola-check.service as user schola, and the result is shown
        vm.run("systemctl is-enabled schola-check.timer schola-check.path "
               "schola-capacity-fix.path")
        token = b.csrf("/admin/capacity")
        status, _, text, _ = b.request("POST", "/admin/capacity/check", {"csrf": token})
        if status not in (200, 303):
            fail(f"'check now' was refused (HTTP {status}): {text[:400]}")
        page = ""
        for _ in range(90):
            _, _, page, _ = b.request("GET", "/admin/capacity")
            if 'id="overall"' in page:
                break
            time.sleep(2)
        else:
            _, log = vm.run("journalctl -u schola-check.service --no-pager | tail -n 20",
                            check=False)
            fail("no capacity check appeared on the capacity page within 3 minutes: " + log)
        _, result = vm.run("systemctl show -p Result --value schola-check.service")
        if "success" not in result:
            fail(f"schola-check.service did not succeed: {result!r}")
        if 'id="verdict-' not in page or "<svg" not in page:
            fail("the capacity page shows no verdicts or no bars: " + page[:600])
        status, headers, pdf, _ = b.request("GET", "/admin/capacity/report.pdf")
        if status != 200 or not pdf.startswith("%PDF-"):
            fail(f"the readiness report is not a PDF (HTTP {status})")
        ok("'check now' ran the capacity check through its hardened unit; verdicts, bars and "
           "the PDF report are shown")
        status, _ = vm.run("for i in $(seq 20); do grep -q 'setup code' "
                           "/run/issue.d/50-schola.issue || break; sleep 1; done; "
                           "! grep -q 'setup code' /run/issue.d/50-schola.issue", check=False)
        if status != 0:
            fail("the console still shows the setup code after the setup was done")
        ok("the console no longer shows the setup code once the setup is done")

        step("create a student, then power off")
        vm.run(f"printf '%s\\n' '{student_pw}' | scholactl user add --given Erika "
               "--family Mustermann --role student --password-stdin")
        s = Browser(port)
        status, _ = s.sign_in("erika.mustermann", student_pw)
        if status != 303:
            fail(f"the new student cannot sign in (HTTP {status})")
        ok("the student erika.mustermann signs in")

        step("files: a WebDAV upload into the student's home; Samba provisioned by its helper")
        vm.run("systemctl is-active schola-files.service smbd.service")
        auth = "Basic " + base64.b64encode(f"erika.mustermann:{student_pw}".encode()).decode()
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=s.ctx, timeout=60)
        conn.request("PUT", "/dav/home/referat.txt", body=b"Referat\n",
                     headers={"Authorization": auth})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 201:
            fail(f"a WebDAV upload into the student's home answered HTTP {resp.status}")
        conn.request("GET", "/dav/home/referat.txt", headers={"Authorization": auth})
        resp = conn.getresponse()
        if resp.status != 200 or resp.read() != b"Referat\n":
            fail(f"the uploaded file does not come back over WebDAV (HTTP {resp.status})")
        conn.close()
        vm.run("test \"$(stat -c %U /srv/schola/home/erika.mustermann/referat.txt)\" = schola")
        # the new person reached Samba through the journal, schola-files' request and the root
        # helper behind schola-samba-sync.path
        status, out = vm.run("for i in $(seq 60); do pdbedit -L 2>/dev/null | grep -q '^erika.mustermann:' "
                             "&& break; sleep 1; done; pdbedit -L; getent passwd erika.mustermann",
                             check=False)
        if status != 0 or "/srv/schola/home/erika.mustermann" not in out:
            _, why = vm.run("ls -l /var/lib/schola/samba-request; "
                            "systemctl --no-pager status schola-samba-sync.path schola-samba-sync.service; "
                            "journalctl --no-pager -n 40 -u schola-samba-sync.service -u schola-files.service",
                            check=False)
            fail(f"Samba was not provisioned for the new student within 60 s:\n{out}\n{why}")
        ok("the student's WebDAV upload lands in /srv/schola/home; Samba and NSS know the student")

        step("a CSV export dropped into the import folder waits for approval, then is applied")
        vm.run("systemctl is-active schola-dirsync.service")
        vm.run("printf 'id,role,class,given_name,family_name\\n4711,student,5a,J\\303\\266rg,Gro\\303\\237\\n' "
               "> /tmp/students.csv && install -m 0644 /tmp/students.csv /var/lib/schola/import/incoming/")
        _, out = vm.run("for i in $(seq 60); do scholactl --json import list --status pending "
                        "| grep -q students.csv && break; sleep 1; done; "
                        "scholactl --json import list --status pending")
        m = re.search(r'"id":\s*(\d+)', out)
        if not m or "students.csv" not in out:
            fail(f"the dropped file did not become a pending import within 60 s:\n{out}")
        vm.run("install -d -m 0700 /tmp/letters")
        vm.run(f"scholactl import apply {m.group(1)} --letters /tmp/letters")
        vm.run("scholactl user show joerg.gross && test -s /tmp/letters/*.pdf")
        ok("schola-dirsync took the dropped export as a pending import; applied, the student "
           "joerg.gross exists and the password letters were written")

        step("mail: the setup configured Postfix and Dovecot; mail to the students, read over IMAPS")
        # Nobody restarted anything since the wizard: schola-mail saw the new mail domain and
        # asked schola-mail-config.path, whose root helper wrote the files and started Dovecot.
        status, out = vm.run(
            "for i in $(seq 120); do systemctl -q is-active postfix.service dovecot.service "
            "&& break; sleep 1; done; systemctl is-active postfix.service dovecot.service",
            timeout=180, check=False)
        if status != 0:
            _, why = vm.run("ls -l /var/lib/schola/mail-request /etc/dovecot/schola; "
                            "systemctl --no-pager status schola-mail-config.path "
                            "schola-mail-config.service dovecot.service postfix@-.service; "
                            "journalctl --no-pager -n 60 -u schola-mail -u schola-mail-config "
                            "-u dovecot -u postfix@-", check=False)
            fail(f"Postfix and Dovecot do not run after the setup:\n{out}\n{why}")
        vm.run("systemctl is-enabled schola-mail-config.path && "
               "systemctl -q is-active schola-mail-config.path")
        vm.run("grep -q '^mydomain = emulator.schule.example$' /etc/postfix/main.cf")
        vm.run("journalctl --no-pager -u schola-mail.service "
               "| grep -q 'asked for Postfix.s and Dovecot.s configuration to be written'")
        status, _ = vm.run("systemctl show -p NRestarts --value schola-mail.service "
                           "| grep -qx 0", check=False)
        if status != 0:
            fail("schola-mail was restarted: the configuration must come without a restart")
        ok("after the wizard, schola-mail asked for the configuration (no restart); "
           "schola-mail-config.path wrote it for the school's domain and started Dovecot")

        def address(login):
            _, out = vm.run(f"scholactl --json user show {login}")
            m = re.search(r'"mail":\s*"([^"]+)"', out)
            if not m:
                fail(f"{login} has no mail address: {out}")
            return m.group(1)
        admin_addr = address("admin")
        erika, joerg = address("erika.mustermann"), address("joerg.gross")
        token = secrets.token_hex(4)
        subject = f"Hausaufgaben bis Freitag {token}"
        sent = time.monotonic()
        mail.send(admin_addr, [erika, joerg], subject,
                  f"Liebe Klasse,\nbitte lest Kapitel 3. Grüße {token}\n",
                  login="admin", password=admin_pw)
        msg = mail.fetch("erika.mustermann", student_pw, subject)
        figures["mail: submission to the student's IMAP INBOX"] = f"{time.monotonic() - sent:.0f} s"
        if f"Grüße {token}" not in msg.get_content() or admin_addr not in str(msg["From"]):
            fail(f"the message read over IMAP is not the one sent:\n{msg}")
        status, out = vm.run(f"doveadm -c /etc/dovecot/schola/dovecot.conf search -u joerg.gross "
                             f"mailbox INBOX subject {token}", check=False)
        if status != 0 or not out.strip():
            fail(f"the imported student joerg.gross did not get the mail: {out}")
        ok(f"the admin's mail (submission, STARTTLS, password) reached erika.mustermann, read over "
           f"IMAPS with her password, and the imported joerg.gross")
        outside = f"Elternabend {token}"
        mail.send("elternbeirat@example.org", [erika], outside, f"Einladung {token}\n")
        msg = mail.fetch("erika.mustermann", student_pw, outside)
        if f"Einladung {token}" not in msg.get_content():
            fail(f"the message from outside read over IMAP is not the one sent:\n{msg}")
        ok("mail from another server (port 25) reaches the student's INBOX")

        step("mail: a disabled student is refused by IMAP at once, and let in again when enabled")
        # her sign-in is in Dovecot's auth cache now (an hour): only schola-mail's
        # `doveadm auth cache flush`, run inside schola-mail.service's sandbox, can end it
        if not mail.signs_in("erika.mustermann", student_pw):
            fail("erika.mustermann cannot sign in over IMAPS")
        vm.run("scholactl user disable erika.mustermann")
        began = time.monotonic()
        while mail.signs_in("erika.mustermann", student_pw):
            if time.monotonic() - began > 15:
                _, why = vm.run("journalctl --no-pager -n 30 -u schola-mail.service", check=False)
                fail(f"erika.mustermann still signs in over IMAPS 15 s after she was disabled:\n{why}")
            time.sleep(0.5)
        refused = time.monotonic() - began
        figures["mail: disabled to refused by IMAP"] = f"{refused:.1f} s"
        _, log = vm.run("journalctl --no-pager -u schola-mail.service "
                        "| grep -E 'sign-ins|doveadm'", check=False)
        if not re.search(r"dropped cached mail sign-ins of .*erika\.mustermann", log):
            fail(f"schola-mail did not drop erika's cached sign-in (doveadm auth cache flush):\n"
                 f"{log[-2000:]}")
        if "doveadm auth cache flush failed" in log or "cannot run doveadm" in log:
            fail(f"doveadm failed inside schola-mail's sandbox:\n{log[-2000:]}")
        vm.run("scholactl user enable erika.mustermann")
        began = time.monotonic()
        while not mail.signs_in("erika.mustermann", student_pw):
            if time.monotonic() - began > 15:
                fail("erika.mustermann cannot sign in over IMAPS 15 s after she was enabled again")
            time.sleep(0.5)
        ok(f"disabled, erika.mustermann was refused by IMAP after {refused:.1f} s (schola-mail "
           "dropped her cached sign-in with doveadm under its sandbox); enabled, she is let in")
        # idle memory: the machine has settled once the UI is up and nothing else runs
        time.sleep(20)
        _, out = vm.run("awk '/^MemTotal/ {t=$2} /^MemAvailable/ {a=$2} "
                        "END {printf \"mem=%d\\n\", (t - a) / 1024}' /proc/meminfo")
        m = re.search(r"mem=(\d+)", out)
        if not m:
            fail(f"cannot read the memory use: {out!r}")
        mem = int(m.group(1))
        figures["idle memory in use (MemTotal - MemAvailable)"] = \
            f"{mem} MiB (goal <= 600 MiB: ratio {mem / 600:.2f})"
        if mem > 600:
            fail(f"the idle appliance uses {mem} MiB, more than the goal of 600 MiB")
        vm.send("systemctl poweroff\n")
        vm.wait_exit(180)
    except vmlib.VMError as e:
        fail(str(e))
    finally:
        vm.kill()
    ok("powered off")

    step("boot again with legacy BIOS (SeaBIOS): the student is still there")
    port = free_port()
    mail = Mail()
    vm, b, _, ready = boot("bios", work, disk, "bios", port, mail.forward())
    try:
        figures["boot to ready (legacy BIOS)"] = f"{ready:.0f} s"
        status, _ = b.sign_in("erika.mustermann", student_pw)
        if status != 303:
            fail(f"after a reboot the student cannot sign in (HTTP {status})")
        _, _, page, _ = b.request("GET", "/")
        if "Erika Mustermann" not in page:
            fail("the student's start page does not show her name")
        ok(f"booted with SeaBIOS, ready in {ready:.0f} s; the student signs in")
        msg = mail.fetch("erika.mustermann", student_pw, subject, timeout=120)
        if f"Grüße {token}" not in msg.get_content():
            fail(f"after a reboot the student's mail is not the one sent:\n{msg}")
        ok("after the reboot Postfix and Dovecot run, and the student's mail is still there")
    finally:
        vm.kill()

    print("\ntest-image: figures")
    for k, v in figures.items():
        print(f"  {k}: {v}")
    print(f"\ntest-image: took {time.monotonic() - BEGAN:.0f} s")
    print(f"test-image: {passed} passed, 0 failed")


if __name__ == "__main__":
    main()
