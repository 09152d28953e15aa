#!/usr/bin/env bash
# Captures lvm2's stderr for the classification fixtures in stderr/ (run as root, from this
# directory: bash capture.sh). It builds a throwaway loop-device VG with activation off, the
# way the driver runs on a host without device-mapper, and removes it at the end.
set -u
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'lvm vgremove -f -y kiln-capture kiln-capture-small >/dev/null 2>&1; losetup -d "$big" "$small" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/etc" && chmod 755 "$work" "$work/etc" # readable by nobody, for permission-denied
printf 'global {\n\tactivation = 0\n\tuse_aio = 0\n}\nbackup {\n\tbackup = 0\n\tarchive = 0\n}\n' > "$work/etc/lvm.conf"
export LC_ALL=C LVM_SYSTEM_DIR="$work/etc" LVM_SUPPRESS_FD_WARNINGS=1
truncate -s 8G "$work/big.img" && truncate -s 1G "$work/small.img"
big=$(losetup -f --show "$work/big.img") && small=$(losetup -f --show "$work/small.img")
lvm pvcreate -q "$big" && lvm vgcreate -q kiln-capture "$big"
lvm pvcreate -q --metadatasize 64k "$small" && lvm vgcreate -q kiln-capture-small "$small"
lvm lvcreate -q -L 100m -n vol kiln-capture

# capture NAME ARGS...: run lvm ARGS with stdin on /dev/null, keep stderr, print the exit status.
capture() { local name=$1; shift; lvm "$@" </dev/null >/dev/null 2>"stderr/$name.txt"; echo "$name: exit $?"; }

capture lv-exists lvcreate --yes -n vol -L 100m kiln-capture
capture vg-no-space lvcreate --yes -n big -L 100g kiln-capture
capture extend-no-space lvextend -L 100g kiln-capture/vol
capture lv-not-found-remove lvremove kiln-capture/nope
capture lv-not-found-extend lvextend -L 200m kiln-capture/nope
capture lv-not-found-lvs lvs kiln-capture/nope
capture lv-not-found-change lvchange --deltag x kiln-capture/nope
capture origin-not-found lvcreate --yes -s -n s -L 8m kiln-capture/nope
capture vg-not-found lvcreate --yes -n x -L 8m kiln-capture-none
capture thin-pool-not-found lvcreate --yes -n x -V 100m --thinpool kiln-capture/nopool
capture not-a-thin-pool lvcreate --yes -n x -V 100m --thinpool kiln-capture/vol
capture no-dm-snapshot lvcreate --yes -s -n s -L 100m kiln-capture/vol
capture no-dm-thin-pool lvcreate --yes --type thin-pool -L 500m -n tp kiln-capture
capture bad-name lvcreate --yes -n 'bad name' -L 8m kiln-capture
(flock -x /run/lock/lvm/V_kiln-capture sleep 2 &) ; sleep 0.3
capture vg-locked lvcreate --config 'global { wait_for_locks = 0 }' -n lk -L 8m kiln-capture
sleep 2
su nobody -s /bin/bash -c "LC_ALL=C LVM_SYSTEM_DIR=$work/etc lvm lvcreate -n np -L 8m kiln-capture" </dev/null >/dev/null 2>stderr/permission-denied.txt
echo "permission-denied: exit $?"
T=$(head -c 1000 /dev/zero | tr '\0' 'a')
for i in $(seq 1 400); do
	lvm lvcreate -q -L 4m -n m$i --addtag a$T --addtag b$T --addtag c$T --addtag d$T --addtag e$T \
		kiln-capture-small </dev/null >/dev/null 2>"stderr/vg-metadata-full.txt" || { echo "vg-metadata-full: exit $?"; break; }
done
