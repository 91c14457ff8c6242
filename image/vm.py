#!/usr/bin/env python3
"""QEMU virtual machines for the Schola image: used by scripts/build-image (the disk images are
made by installing the ISO unattended into an empty disk) and by scripts/test-image.

Only the Python standard library. KVM cannot boot a stock Debian kernel on our machines, so the
guests run under TCG emulation. The guest's serial console is read without pause by a thread (a
guest blocks when nobody reads its console) into memory and a log file.
"""

import os
import re
import shutil
import socket
import subprocess
import threading
import time

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


class VMError(Exception):
    pass


class VM:
    """One QEMU process. `firmware` is "uefi" (OVMF) or "bios" (SeaBIOS)."""

    def __init__(self, name, workdir, firmware, disk, cdrom=None, extra_disks=(), mem=1536,
                 forward=None, no_reboot=False):
        self.name = name
        self.workdir = workdir
        self.firmware = firmware
        self.disk = disk
        self.cdrom = cdrom
        self.extra_disks = list(extra_disks)
        self.mem = mem
        self.forward = forward or {}
        self.no_reboot = no_reboot
        self.proc = None
        self.sock = None
        self.buf = ""
        self.lock = threading.Lock()
        self.mark = 0
        self.started = None
        self.log_path = os.path.join(workdir, f"{name}.serial.log")
        self.commands = 0

    def command_line(self):
        sock = os.path.join(self.workdir, f"{self.name}.serial")
        cmd = [
            "qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-cpu", "max",
            "-smp", "2", "-m", str(self.mem), "-display", "none", "-monitor", "none",
            "-serial", f"unix:{sock},server=on,wait=on",
        ]
        if self.no_reboot:
            cmd.append("-no-reboot")
        if self.firmware == "uefi":
            vars_copy = os.path.join(self.workdir, f"{self.name}.OVMF_VARS.fd")
            shutil.copyfile(OVMF_VARS, vars_copy)
            cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
        elif self.firmware != "bios":
            raise VMError(f"unknown firmware {self.firmware!r}")
        fmt = "qcow2" if self.disk.endswith(".qcow2") else "raw"
        cmd += ["-drive", f"file={self.disk},if=virtio,format={fmt},cache=unsafe"]
        for extra in self.extra_disks:
            cmd += ["-drive", f"file={extra},if=virtio,format=raw,readonly=on"]
        if self.cdrom:
            cmd += ["-drive", f"file={self.cdrom},media=cdrom,readonly=on"]
        fwd = "".join(f",hostfwd=tcp:127.0.0.1:{h}-:{g}" for h, g in self.forward.items())
        cmd += ["-nic", f"user,model=virtio-net-pci{fwd}"]
        return cmd, sock

    def start(self):
        cmd, sock_path = self.command_line()
        if os.path.exists(sock_path):
            os.unlink(sock_path)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise VMError(f"{self.name}: qemu exited at once: "
                              f"{self.proc.stdout.read().decode(errors='replace')}")
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise VMError(f"{self.name}: qemu's serial socket did not appear")
                time.sleep(0.1)
        self.sock = s
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        with open(self.log_path, "a", encoding="utf-8", errors="replace") as log:
            while True:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                text = data.decode("utf-8", errors="replace").replace("\r", "")
                log.write(text)
                log.flush()
                with self.lock:
                    self.buf += text

    def elapsed(self):
        return time.monotonic() - self.started

    def tail(self, n=40):
        with self.lock:
            return "\n".join(self.buf.splitlines()[-n:])

    def wait_for(self, pattern, timeout, fail=None):
        """Waits until `pattern` (a regex) appears on the console after the last match; returns
        the match. `fail` is a regex that ends the wait with an error at once."""
        rx = re.compile(pattern)
        bad = re.compile(fail) if fail else None
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                text = self.buf[self.mark:]
                m = rx.search(text)
                if m:
                    self.mark += m.end()
                    return m
                b = bad.search(text) if bad else None
            if b:
                raise VMError(f"{self.name}: the console says: {b.group(0).strip()}\n{self.tail()}")
            if self.proc.poll() is not None:
                raise VMError(f"{self.name}: the machine stopped while waiting for {pattern!r}\n"
                              f"{self.tail()}")
            if time.monotonic() > deadline:
                raise VMError(f"{self.name}: no {pattern!r} on the console within {timeout} s\n"
                              f"{self.tail()}")
            time.sleep(0.2)

    def send(self, text):
        self.sock.sendall(text.encode())

    def login(self, user, password, timeout=300):
        self.wait_for(r"login: $|login: ", timeout)
        self.send(user + "\n")
        self.wait_for(r"Password: ", 60)
        self.send(password + "\n")
        self.wait_for(r"# ", 60)
        # plain output: no colours, no pager, no line editing surprises
        self.run("export TERM=dumb PAGER=cat SYSTEMD_PAGER= SYSTEMD_COLORS=0; stty -echo cols 200")

    def run(self, command, timeout=120, check=True):
        """Runs a shell command on the logged-in console; returns (status, output)."""
        self.commands += 1
        n = self.commands
        # the marker's digits only exist once the shell has run the command, never in its echo
        self.send(f"{command}; echo \"@@rc=$?@@{n}@@\"\n")
        m = self.wait_for(rf"([\s\S]*?)@@rc=(\d+)@@{n}@@", timeout)
        out = m.group(1)
        # drop the echoed command line, if the terminal echoed it
        lines = out.split("\n")
        if lines and command[:20] in lines[0]:
            lines = lines[1:]
        status = int(m.group(2))
        output = "\n".join(lines).strip()
        if check and status != 0:
            raise VMError(f"{self.name}: '{command}' failed with status {status}:\n{output}")
        return status, output

    def wait_exit(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise VMError(f"{self.name}: still running after {timeout} s\n{self.tail()}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.sock:
            self.sock.close()


def answers_disk(path, answers):
    """A small ext4 file system labelled SCHOLA-ANS holding schola-install.conf (made without
    mounting)."""
    d = path + ".d"
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "schola-install.conf"), "w", encoding="utf-8") as f:
        f.write("# answers for an unattended Schola install (image/vm.py)\n")
        for k, v in answers.items():
            f.write(f"{k} = {v}\n")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "SCHOLA-ANS", "-d", d, path, "8M"], check=True)
    shutil.rmtree(d)
    return path


def install(iso, workdir, disk, answers, firmware="uefi", disk_size="10G", timeout=1800):
    """Installs the ISO unattended onto a new disk; returns the seconds it took. The guest
    reboots when done, which ends QEMU (-no-reboot)."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, disk_size], check=True)
    ans = answers_disk(os.path.join(workdir, "answers.img"), answers)
    vm = VM("install", workdir, firmware, disk, cdrom=iso, extra_disks=[ans], no_reboot=True)
    vm.start()
    try:
        m = vm.wait_for(r"schola-install: installed Schola on (\S+) in (\d+) s", timeout,
                        fail=r"schola-install: FAILED: [^\n]*")
        vm.wait_exit(300)
        return vm.elapsed(), m
    finally:
        vm.kill()


def main():
    """`vm.py install ISO DISK`: the unattended install scripts/build-image uses for the disk
    images (root stays locked: no default credentials)."""
    import argparse
    import tempfile

    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("install", help="install ISO unattended onto a new qcow2 DISK")
    i.add_argument("iso")
    i.add_argument("disk")
    i.add_argument("--size", default="8G", help="the disk's size (at least 8G)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="schola-vm.") as work:
        try:
            secs, m = install(args.iso, work, args.disk,
                              {"disk": "auto", "hostname": "schola", "wipe": "yes"},
                              disk_size=args.size)
        except VMError as e:
            raise SystemExit(f"vm.py: {e}")
        print(f"vm.py: installed on {m.group(1)} in {secs:.0f} s (the installer: {m.group(2)} s)")


if __name__ == "__main__":
    main()
