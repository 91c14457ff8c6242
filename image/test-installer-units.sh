#!/usr/bin/env bash
# The variables set here belong to the sourced installer and are read by its functions.
# shellcheck disable=SC2034
# Tests of the installer's pieces that need no virtual machine (image/overlay/usr/sbin/
# schola-install): the answer-file parser, the disk-size refusal, the GPT layout (sfdisk on a
# sparse file), file systems and fstab on loop devices, and the unattended flow up to the point
# where it would touch a disk. The whole install is tested by scripts/test-image.
#
#   image/test-installer-units.sh        (as root; bash, util-linux, fdisk, e2fsprogs; < 20 s)
#
# Prints one "ok: ..." line per check; stops at the first failure with "FAIL: ...".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
installer=$here/overlay/usr/sbin/schola-install

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }

[[ $EUID -eq 0 ]] || fail "run as root (loop devices, mounts)"
for tool in sfdisk losetup blkid lsblk mkfs.ext4 mount; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (fdisk, util-linux, e2fsprogs)"
done

tmp=$(mktemp -d)
# Loop devices are attached inside $(...), so they are listed in a file, not a variable.
cleanup() {
    local mnt loop
    while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    done < <(findmnt -rn -o TARGET | grep "^$tmp/" | sort -r || true)
    if [[ -f "$tmp/loops" ]]; then
        while read -r loop; do losetup -d "$loop" 2>/dev/null || true; done <"$tmp/loops"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

loop_for() { # FILE [losetup options]: attaches a loop device, prints its path
    local dev
    dev=$(losetup -f --show "${@:2}" "$1") || fail "losetup ${*:2} $1 failed"
    echo "$dev" >>"$tmp/loops"
    echo "$dev"
}

# shellcheck source=overlay/usr/sbin/schola-install
source "$installer"
LOG=$tmp/log
WORK=$tmp/work
mkdir -p "$WORK"

expect_eq() { # WHAT ACTUAL EXPECTED
    [[ "$2" == "$3" ]] || fail "$1: got \"$2\", expected \"$3\""
}

expect_error() { # WHAT PATTERN: one of ANSWER_ERRORS matches the bash pattern
    local error
    for error in "${ANSWER_ERRORS[@]}"; do
        # shellcheck disable=SC2053 # $2 is a pattern
        [[ "$error" == $2 ]] && return 0
    done
    fail "$1: no error like \"$2\"; got: ${ANSWER_ERRORS[*]:-(none)}"
}

answers() { # LINES...: writes an answer file, prints its path
    printf '%s\n' "$@" >"$tmp/answers.conf"
    echo "$tmp/answers.conf"
}

# --- The answer-file parser -------------------------------------------------------------------

parse_answers "$(answers \
    "# a school's answers" \
    "" \
    "disk = /dev/vda" \
    "  hostname=school-1  " \
    "network = static" \
    "address = 192.168.10.5/24" \
    "gateway = 192.168.10.1" \
    "dns = 192.168.10.1 9.9.9.9" \
    "root_password = p@ss = word # not a comment" \
    "wipe = yes" \
    "after = poweroff")" || fail "a good answer file was rejected: ${ANSWER_ERRORS[*]}"
expect_eq disk "$CFG_DISK" /dev/vda
expect_eq hostname "$CFG_HOSTNAME" school-1
expect_eq network "$CFG_NETWORK" static
expect_eq address "$CFG_ADDRESS" 192.168.10.5/24
expect_eq gateway "$CFG_GATEWAY" 192.168.10.1
expect_eq dns "$CFG_DNS" "192.168.10.1 9.9.9.9"
expect_eq root_password "$CFG_ROOT_PASSWORD" "p@ss = word # not a comment"
expect_eq wipe "$CFG_WIPE" yes
expect_eq after "$CFG_AFTER" poweroff
ok "parser: a complete answer file (spaces, '=' and '#' inside a value)"

parse_answers "$(answers "wipe = yes")" || fail "wipe = yes alone was rejected: ${ANSWER_ERRORS[*]}"
expect_eq "default disk" "$CFG_DISK" auto
expect_eq "default hostname" "$CFG_HOSTNAME" schola
expect_eq "default network" "$CFG_NETWORK" dhcp
expect_eq "default root_password" "$CFG_ROOT_PASSWORD" ""
expect_eq "default after" "$CFG_AFTER" reboot
ok "parser: defaults (disk auto, hostname schola, dhcp, root locked, reboot)"

printf 'wipe = yes\r\nhostname = crlf\r\n' >"$tmp/crlf.conf"
parse_answers "$tmp/crlf.conf" || fail "CRLF line ends were rejected: ${ANSWER_ERRORS[*]}"
expect_eq "hostname with CRLF" "$CFG_HOSTNAME" crlf
ok "parser: CRLF line ends"

! parse_answers "$(answers "wipe = yes" "disk = auto" "colour = blue")" ||
    fail "an unknown key was accepted"
expect_error "unknown key" 'line 3: unknown key "colour"*'
ok "parser: an unknown key is refused with its line number (${ANSWER_ERRORS[0]})"

! parse_answers "$(answers "disk = auto" "hostname = x")" || fail "a file without wipe was accepted"
expect_error "wipe missing" '*must say "wipe = yes"*'
! parse_answers "$(answers "disk = auto" "wipe = no")" || fail "wipe = no was accepted"
expect_error "wipe = no" 'line 2: *must say "wipe = yes"*'
ok "parser: no disk is touched without wipe = yes (${ANSWER_ERRORS[0]})"

for bad in -school school- "sch ool" schül "$(printf 'a%.0s' {1..64})" "a.b"; do
    ! parse_answers "$(answers "wipe = yes" "hostname = $bad")" || fail "hostname \"$bad\" was accepted"
    expect_error "bad hostname $bad" 'line 2: hostname * is not a valid host name*'
done
bad_hostname_error=${ANSWER_ERRORS[0]}
parse_answers "$(answers "wipe = yes" "hostname = $(printf 'a%.0s' {1..63})")" ||
    fail "a 63-character hostname was refused"
ok "parser: bad host names are refused with the line number ($bad_hostname_error)"

for bad in 192.168.1.300/24 192.168.1.5/33 192.168.1.5/0 192.168.1.5 192.168.01.5/24 10.0.0/8 "1.2.3.4/24 x"; do
    ! parse_answers "$(answers "wipe = yes" "network = static" "address = $bad")" ||
        fail "address \"$bad\" was accepted"
    expect_error "bad address $bad" 'line 3: address must be an IPv4 address*'
done
! parse_answers "$(answers "wipe = yes" "network = static" "address = 10.0.0.2/8" "gateway = 10.0.0.256")" ||
    fail "gateway 10.0.0.256 was accepted"
expect_error "bad gateway" 'line 4: gateway must be*'
! parse_answers "$(answers "wipe = yes" "network = static" "address = 10.0.0.2/8" "dns = 10.0.0.1,8.8.8.8")" ||
    fail "a comma-separated dns list was accepted"
expect_error "bad dns" 'line 4: dns must be*'
ok "parser: bad addresses, gateways and DNS lists are refused with the line number"

! parse_answers "$(answers "wipe = yes" "network = static")" || fail "static without an address was accepted"
expect_error "static without address" 'line 2: network = static needs an address line'
! parse_answers "$(answers "wipe = yes" "address = 10.0.0.2/8")" || fail "an address with dhcp was accepted"
expect_error "address with dhcp" 'line 2: address is only used with network = static'
! parse_answers "$(answers "wipe = yes" "hostname = a" "hostname = b")" || fail "a repeated key was accepted"
expect_error "repeated key" 'line 3: hostname is already set on line 2'
! parse_answers "$(answers "wipe = yes" "just text")" || fail "a line without '=' was accepted"
expect_error "no =" 'line 2: expected "key = value"'
! parse_answers "$(answers "wipe = yes" "disk = sda")" || fail "disk = sda was accepted"
expect_error "bad disk" 'line 2: disk must be auto or a device*'
! parse_answers "$(answers "wipe = yes" "after = halt")" || fail "after = halt was accepted"
expect_error "bad after" 'line 2: after must be reboot or poweroff*'
! parse_answers "$(answers "wipe = yes" 'hostname = $(touch /tmp/pwned)')" || fail "a command substitution was accepted"
[[ ! -e /tmp/pwned ]] || fail "the answer file was executed"
ok "parser: static without address, address with dhcp, repeated keys, junk lines, bad disk/after; never executed"

# --- Kernel command line ------------------------------------------------------------------------

CMDLINE_FILE=$tmp/cmdline
echo "BOOT_IMAGE=/live/vmlinuz boot=live quiet schola.install=auto console=tty0 console=ttyS0,115200n8" >"$CMDLINE_FILE"
cmdline_has schola.install=auto || fail "schola.install=auto not found"
! cmdline_has schola.install || fail "schola.install matched schola.install=auto"
cmdline_serial || fail "console=ttyS0,115200n8 not seen as a serial console"
echo "boot=live schola.install=ask console=tty0 console=ttyS1" >"$CMDLINE_FILE"
! cmdline_has schola.install=auto || fail "schola.install=ask read as auto"
! cmdline_serial || fail "console=ttyS1 seen as ttyS0"
ok "kernel command line: schola.install=auto and console=ttyS0 detection"

# --- Disks: names, size refusal -----------------------------------------------------------------

expect_eq "part_path vda" "$(part_path /dev/vda 1)" /dev/vda1
expect_eq "part_path sda" "$(part_path /dev/sda 4)" /dev/sda4
expect_eq "part_path nvme" "$(part_path /dev/nvme0n1 1)" /dev/nvme0n1p1
expect_eq "part_path mmc" "$(part_path /dev/mmcblk0 3)" /dev/mmcblk0p3
ok "partition names: /dev/vda1, /dev/nvme0n1p1, /dev/mmcblk0p3"

msg=$(size_problem /dev/vda $((4 * GIB))) && fail "a 4 GiB disk was accepted"
expect_eq "4 GiB refusal" "$msg" "the disk /dev/vda has 4.0 GiB; Schola needs at least 8 GiB"
msg=$(size_problem /dev/vda $((8 * GIB - 512))) && fail "a disk just under 8 GiB was accepted"
expect_eq "just under 8 GiB" "$msg" "the disk /dev/vda has 7.9 GiB; Schola needs at least 8 GiB"
size_problem /dev/vda $((8 * GIB)) >/dev/null || fail "an 8 GiB disk was refused"
ok "size: 4.0 GiB and 7.9 GiB refused, 8 GiB accepted"

truncate -s 4G "$tmp/small.img"
small=$(loop_for "$tmp/small.img")
FAIL_FILE=$tmp/failure
: >"$FAIL_FILE"
CFG_DISK=$small
(resolve_disk) && fail "resolve_disk accepted the 4 GiB $small"
expect_eq "refusal of $small" "$(<"$FAIL_FILE")" \
    "choosing the disk: the disk $small has 4.0 GiB; Schola needs at least 8 GiB"
FAIL_FILE=""
ok "size: a real 4 GiB block device is refused ($small)"

# --- The GPT layout -----------------------------------------------------------------------------

# Checks the partition table sfdisk makes from our script on a sparse file of GIB_SIZE GiB.
check_layout() { # GIB_SIZE ROOT_MIB
    local img=$tmp/layout.img sectors=() types=() names=() line start size type name i end
    rm -f "$img"
    truncate -s "$1G" "$img"
    sfdisk_script $(($1 * GIB)) | sfdisk -q "$img" >"$tmp/sfdisk.out" 2>&1 ||
        fail "sfdisk refused the layout for $1 GiB: $(cat "$tmp/sfdisk.out")"
    while IFS= read -r line; do
        [[ "$line" =~ start=\ *([0-9]+),\ size=\ *([0-9]+),\ type=([0-9A-F-]+),.*name=\"([^\"]*)\" ]] || continue
        start=${BASH_REMATCH[1]} size=${BASH_REMATCH[2]} type=${BASH_REMATCH[3]} name=${BASH_REMATCH[4]}
        ((start % 2048 == 0)) || fail "$1 GiB: partition \"$name\" starts at sector $start, not 1 MiB-aligned"
        sectors+=("$size") types+=("$type") names+=("$name")
        end=$((start + size))
    done < <(sfdisk --dump "$img")
    expect_eq "$1 GiB: partitions" "${#sectors[@]}" 4
    expect_eq "$1 GiB: label" "$(sfdisk --dump "$img" | sed -n 's/^label: //p')" gpt
    expect_eq "$1 GiB: BIOS boot type" "${types[0]}" 21686148-6449-6E6F-744E-656564454649
    expect_eq "$1 GiB: BIOS boot size" "${sectors[0]}" $((1 * MIB / 512))
    expect_eq "$1 GiB: ESP type" "${types[1]}" C12A7328-F81F-11D2-BA4B-00A0C93EC93B
    expect_eq "$1 GiB: ESP size" "${sectors[1]}" $((512 * MIB / 512))
    expect_eq "$1 GiB: root size" "${sectors[2]}" $(($2 * MIB / 512))
    expect_eq "$1 GiB: data type" "${types[3]}" 0FC63DAF-8483-4772-8E79-3D69D8477DE4
    # The data partition runs to the end: at most 1 MiB alignment + the backup GPT (33 sectors).
    ((($1 * GIB / 512) - end <= 2048 + 33)) || fail "$1 GiB: the data partition ends at $end, far before the end"
    for i in 0 1 2 3; do
        [[ -n "${names[i]}" ]] || fail "$1 GiB: partition $((i + 1)) has no name"
    done
}
check_layout 8 4096     # 25 % is 2 GiB: at least 4 GiB
check_layout 100 25600  # 25 %
check_layout 1000 32768 # 25 % is 250 GiB: at most 32 GiB
ok "layout: GPT, 1 MiB BIOS boot, 512 MiB ESP, root 4 GiB / 25 % / 32 GiB at 8 / 100 / 1000 GiB, data to the end"

# --- File systems and fstab on the 9 GiB layout (loop devices at the partitions' offsets) --------

truncate -s 9G "$tmp/disk.img"
sfdisk_script $((9 * GIB)) | sfdisk -q "$tmp/disk.img" >/dev/null
declare -A part_offset=() part_size=()
while IFS= read -r line; do
    [[ "$line" =~ img([0-9])\ :\ start=\ *([0-9]+),\ size=\ *([0-9]+) ]] || continue
    part_offset[${BASH_REMATCH[1]}]=$((BASH_REMATCH[2] * 512))
    part_size[${BASH_REMATCH[1]}]=$((BASH_REMATCH[3] * 512))
done < <(sfdisk --dump "$tmp/disk.img")
PART_ROOT=$(loop_for "$tmp/disk.img" -o "${part_offset[3]}" --sizelimit "${part_size[3]}")
PART_DATA=$(loop_for "$tmp/disk.img" -o "${part_offset[4]}" --sizelimit "${part_size[4]}")
STEP="making file systems"
(run mkfs.ext4 -q -F -L schola-root "$PART_ROOT") || fail "mkfs.ext4 on the root partition failed"
(run mkfs.ext4 -q -F -L schola-data "$PART_DATA") || fail "mkfs.ext4 on the data partition failed"
root_uuid=$(uuid_of "$PART_ROOT")
data_uuid=$(uuid_of "$PART_DATA")
[[ "$(blkid -p -s LABEL -o value "$PART_ROOT")" == schola-root ]] || fail "the root partition is not labelled schola-root"
[[ "$(blkid -p -s LABEL -o value "$PART_DATA")" == schola-data ]] || fail "the data partition is not labelled schola-data"
[[ "$root_uuid" != "$data_uuid" && -n "$root_uuid" ]] || fail "bad UUIDs: root $root_uuid, data $data_uuid"
ok "file systems: ext4 schola-root and schola-data at the partitions' offsets"

write_fstab "$tmp/fstab" "$root_uuid" ABCD-1234 "$data_uuid"
grep -Eq "^UUID=$root_uuid +/ +ext4 +errors=remount-ro +0 +1$" "$tmp/fstab" || fail "fstab: no root line"
grep -Eq "^UUID=ABCD-1234 +/boot/efi +vfat +umask=0077 +0 +2$" "$tmp/fstab" || fail "fstab: no ESP line"
grep -Eq "^UUID=$data_uuid +/srv +ext4 +defaults,nodev,nosuid +0 +2$" "$tmp/fstab" || fail "fstab: no /srv line"
grep -Eq "^/srv/vmail +/var/vmail +none +bind +0 +0$" "$tmp/fstab" || fail "fstab: no /var/vmail bind line"
# util-linux reads it the way the installed system will.
findmnt --fstab --tab-file "$tmp/fstab" -n -o TARGET | tr '\n' ' ' | grep -qx '/ /boot/efi /srv /var/vmail ' ||
    fail "findmnt does not read the fstab as /, /boot/efi, /srv, /var/vmail"
ok "fstab: root, ESP, /srv by UUID and the /var/vmail bind mount"

# The target's /srv moves to the data partition (move_srv, as after copy_system).
mkdir -p "$tmp/target" "$tmp/data"
mount -t ext4 "$PART_ROOT" "$tmp/target"
mkdir -p "$tmp/target/srv/schola" "$tmp/target/var/vmail/example.org" "$tmp/target/etc"
touch "$tmp/target/srv/.hidden"
echo "vmail:x:5000:5000::/var/vmail:/usr/sbin/nologin" >"$tmp/target/etc/passwd"
TARGET=$tmp/target DATA=$tmp/data MOUNTED=() FAIL_FILE=$tmp/failure
: >"$FAIL_FILE"
set +e # not `( ... ) || fail`: bash would ignore set -e inside
(
    set -e
    move_srv >/dev/null
    unmount_all
)
rc=$?
set -e
((rc == 0)) || fail "move_srv failed: $(<"$FAIL_FILE")"
FAIL_FILE=""
mount -t ext4 "$PART_DATA" "$tmp/data"
[[ -d "$tmp/data/schola" && -e "$tmp/data/.hidden" && -d "$tmp/data/vmail/example.org" ]] ||
    fail "/srv and /var/vmail were not moved to the data partition"
[[ "$(stat -c '%a %u:%g' "$tmp/data/vmail")" == "750 5000:5000" ]] ||
    fail "vmail on the data partition is $(stat -c '%a %u:%g' "$tmp/data/vmail"), not 750 5000:5000"
[[ -z "$(ls -A "$tmp/target/srv")" && -z "$(ls -A "$tmp/target/var/vmail")" ]] ||
    fail "/srv or /var/vmail in the root file system is not empty"
umount "$tmp/data" "$tmp/target"
ok "data partition: /srv (with dot files) and /var/vmail moved, vmail 0750 owned by the vmail user"

# --- Target configuration files -----------------------------------------------------------------

printf '127.0.0.1\tlocalhost\n127.0.1.1\tschola\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/hosts"
write_hosts "$tmp/hosts" school-1
expect_eq hosts "$(cat "$tmp/hosts")" "$(printf '127.0.0.1\tlocalhost\n127.0.1.1\tschool-1\n::1\tlocalhost ip6-localhost ip6-loopback')"
CFG_ADDRESS=10.1.2.3/16 CFG_GATEWAY=10.1.0.1 CFG_DNS="10.1.0.1 10.1.0.2"
write_static_network "$tmp/40-schola-static.network"
for want in '[Match]' 'Name=en* eth*' '[Network]' 'Address=10.1.2.3/16' 'Gateway=10.1.0.1' 'DNS=10.1.0.1 10.1.0.2'; do
    grep -qxF -- "$want" "$tmp/40-schola-static.network" || fail "the static network file has no line \"$want\""
done
ok "hosts (127.0.1.1 replaced) and 40-schola-static.network"

# configure_target as a whole, with chroot and the UUID lookup stubbed. scripts/test-image boots
# the disk image scripts/build-image installed with the default answers (root locked), so the
# answer file's root_password and hostname are checked here, down to the command run in the
# target.
configure() { # ROOT_PASSWORD: configure_target on a fresh target tree; chroot calls in $tmp/chroot
    rm -rf "$tmp/cfg" && mkdir -p "$tmp/cfg/etc/systemd/system/multi-user.target.wants" "$tmp/cfg/var/lib/dbus"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tschola\n' >"$tmp/cfg/etc/hosts"
    echo 0123456789abcdef0123456789abcdef >"$tmp/cfg/etc/machine-id"
    echo 0123456789abcdef0123456789abcdef >"$tmp/cfg/var/lib/dbus/machine-id"
    touch "$tmp/cfg/etc/systemd/system/multi-user.target.wants/schola-installer.service"
    : >"$tmp/chroot" && : >"$LOG"
    local rc
    set +e # not `( ... ) || fail`: bash would ignore set -e inside
    (
        set -e
        uuid_of() { echo "uuid-of-$1"; }
        chroot() { printf 'args: %s\nstdin: %s\n' "$*" "$(cat)" >>"$tmp/chroot"; }
        TARGET=$tmp/cfg PART_ROOT=/dev/vda3 PART_ESP=/dev/vda2 PART_DATA=/dev/vda4
        CFG_HOSTNAME=school-1 CFG_NETWORK=dhcp CFG_ROOT_PASSWORD=$1
        configure_target >/dev/null
    ) </dev/null
    rc=$?
    set -e
    ((rc == 0)) || fail "configure_target failed with status $rc"
}
configure 'Geheim 1 $x'
expect_eq "chpasswd in the target" "$(<"$tmp/chroot")" "$(printf 'args: %s\nstdin: %s' "$tmp/cfg chpasswd" 'root:Geheim 1 $x')"
! grep -q Geheim "$LOG" || fail "the root password is in the installer's log"
expect_eq "/etc/hostname" "$(<"$tmp/cfg/etc/hostname")" school-1
grep -qx $'127.0.1.1\tschool-1' "$tmp/cfg/etc/hosts" || fail "/etc/hosts does not name school-1"
grep -q '^UUID=uuid-of-/dev/vda3 ' "$tmp/cfg/etc/fstab" || fail "no fstab written"
[[ ! -s "$tmp/cfg/etc/machine-id" && ! -e "$tmp/cfg/var/lib/dbus/machine-id" ]] || fail "the machine id was not emptied"
[[ ! -e "$tmp/cfg/etc/systemd/system/multi-user.target.wants/schola-installer.service" ]] ||
    fail "the installed system would run the installer"
configure ""
expect_eq "without a root password" "$(<"$tmp/chroot")" "$(printf 'args: %s\nstdin: ' "$tmp/cfg passwd -l root")"
ok "configure_target: root_password by chpasswd in the target on stdin (not in the log), root locked without one; host name, fstab, empty machine id, no installer unit"

# --- run(): failures name the step, the program and its last words -------------------------------

FAIL_FILE=$tmp/failure
: >"$FAIL_FILE"
STEP="testing"
(run sh -c 'echo first; echo "the real cause" >&2; exit 3') && fail "run did not fail"
expect_eq "run failure" "$(<"$FAIL_FILE")" "testing: sh failed with status 3: the real cause"
grep -q "the real cause" "$LOG" || fail "the command's output is not in the log"
FAIL_FILE=""
ok "run: a failing command stops the step with its status and last output line, output in the log"

# --- The unattended flow, up to the point where it would touch a disk ----------------------------

# An answer medium (ext4 labelled SCHOLA-ANS), a disk, and main() with a missing squashfs:
# everything before the first write to a disk runs. "@ANS@" in a line stands for the answer
# medium's own device.
ans_loop=""
unattended() { # ANSWER-LINES...: runs main; its output is in $tmp/main.out
    local rc line lines=()
    rm -f "$tmp/ans.img"
    mkfs.ext4 -q -F -L SCHOLA-ANS "$tmp/ans.img" 8M >/dev/null
    [[ -z "$ans_loop" ]] || losetup -d "$ans_loop"
    ans_loop=$(loop_for "$tmp/ans.img")
    for line in "$@"; do lines+=("${line//@ANS@/$ans_loop}"); done
    mkdir -p "$tmp/ans.mnt"
    mount "$ans_loop" "$tmp/ans.mnt"
    printf '%s\n' "${lines[@]}" >"$tmp/ans.mnt/schola-install.conf"
    umount "$tmp/ans.mnt"
    # Not in a condition (`( ... ) || ...`): bash would then ignore set -e inside main.
    set +e
    (
        # shellcheck source=overlay/usr/sbin/schola-install
        source "$installer"
        CMDLINE_FILE=$tmp/cmdline LOG=$tmp/main.log RUN_DIR=$tmp SQUASHFS=$tmp/no/filesystem.squashfs
        stay() { exit 42; } # instead of waiting forever
        main
    ) >"$tmp/main.out" 2>&1 </dev/null
    rc=$?
    set -e
    ((rc == 42)) || fail "main ended with status $rc, not by giving up (42): $(cat "$tmp/main.out")"
}
echo "BOOT_IMAGE=/live/vmlinuz boot=live schola.install=ask console=tty0" >"$tmp/cmdline"
# Another device labelled SCHOLA-ANS would be found instead of ours.
others=$(blkid -t LABEL=SCHOLA-ANS -o device 2>/dev/null || true)
[[ -z "$others" ]] || fail "this machine already has a file system labelled SCHOLA-ANS ($others); detach it"

unattended "disk = auto" "colour = blue"
out=$(<"$tmp/main.out")
grep -q "^schola-install: schola-install.conf: line 2: unknown key \"colour\"" <<<"$out" || fail "no parser error line: $out"
grep -q "^schola-install: FAILED: reading the answer file: schola-install.conf on /dev/loop[0-9]*: line 2: unknown key" <<<"$out" ||
    fail "no FAILED line for the bad answer file: $out"
! grep -q "installing on\|erasing\|partitioning" <<<"$out" || fail "a bad answer file got as far as a disk: $out"
ok "unattended: a bad answer file stops with FAILED naming the line, before any disk is chosen"

unattended "disk = $small" "wipe = yes"
out=$(<"$tmp/main.out")
grep -q "^schola-install: using the answers in schola-install.conf on $ans_loop$" <<<"$out" || fail "answer medium not used: $out"
grep -qx "schola-install: FAILED: choosing the disk: the disk $small has 4.0 GiB; Schola needs at least 8 GiB" <<<"$out" ||
    fail "no size refusal: $out"
ok "unattended: a 4 GiB disk is refused ($small)"

unattended "disk = @ANS@" "wipe = yes"
out=$(<"$tmp/main.out")
grep -qx "schola-install: FAILED: choosing the disk: $ans_loop holds the answer file" <<<"$out" ||
    fail "the answer medium was not refused as the target: $out"
ok "unattended: the answer medium is never the target"

truncate -s 9G "$tmp/big.img"
big=$(loop_for "$tmp/big.img")
unattended "disk = $big" "wipe = yes" "hostname = school-1"
out=$(<"$tmp/main.out")
grep -qx "schola-install: installing on $big (9.0 GiB), host name school-1" <<<"$out" || fail "no installing line: $out"
grep -qx "schola-install: FAILED: checking the installation medium: $tmp/no/filesystem.squashfs is missing: this is not the Schola installer's live system" <<<"$out" ||
    fail "no preflight failure: $out"
[[ -z "$(blkid -p "$big" 2>/dev/null)" ]] || fail "the disk was touched before the preflight passed"
[[ -z "$(find "$tmp" -maxdepth 2 -name answers -exec findmnt -n {} \;)" ]] || fail "the answer medium is still mounted"
ok "unattended: the disk is chosen, and nothing is written when the installation medium is missing"

echo "ok: all installer unit tests passed"
