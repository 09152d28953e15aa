package main

import "strconv"

// The argument vectors of every lvm2 command the driver runs, built in one place so that the
// unit tests can pin them and the benchmark can run the very same commands bare.

// sizeArg is a size in bytes as lvm2 takes it.
func sizeArg(n int64) string { return strconv.FormatInt(n, 10) + "b" }

func addTags(tags []string) []string {
	out := make([]string, 0, 2*len(tags))
	for _, t := range tags {
		out = append(out, "--addtag", t)
	}
	return out
}

// createArgs creates the empty LV of s: thick in the VG, or thin in the pool's thin pool.
func createArgs(s spec) []string {
	a := []string{"lvcreate", "--yes", "--name", s.lv().name}
	if s.pool.thin() {
		a = append(a, "--virtualsize", sizeArg(s.size), "--thinpool", s.pool.VG+"/"+s.pool.ThinPool)
		return append(a, addTags(s.tags())...)
	}
	a = append(a, "--size", sizeArg(s.size))
	a = append(a, addTags(s.tags())...)
	return append(a, s.pool.VG)
}

// snapshotArgs snapshots origin as name. A thick (copy-on-write) snapshot reserves cowBytes;
// a thin one (cowBytes 0) takes no size and, as lvm2 makes thin snapshots, stays inactive.
func snapshotArgs(origin lvRef, name string, cowBytes int64, tags []string) []string {
	a := []string{"lvcreate", "--yes", "--name", name, "--snapshot"}
	if cowBytes > 0 {
		a = append(a, "--size", sizeArg(cowBytes))
	}
	a = append(a, addTags(tags)...)
	return append(a, origin.String())
}

// thinCopyArgs makes s as a thin snapshot of src that activates like any volume: a thin
// pool's copy shares src's blocks and costs no data.
func thinCopyArgs(src lvRef, s spec) []string {
	a := []string{"lvcreate", "--yes", "--name", s.lv().name, "--snapshot", "--setactivationskip", "n"}
	a = append(a, addTags(s.tags())...)
	return append(a, src.String())
}

// removeArgs removes one LV. Without force, lvm2 asks before removing an active LV or a
// snapshot origin with its snapshots; stdin is /dev/null, so it answers no and fails.
func removeArgs(lv lvRef, force bool) []string {
	if force {
		return []string{"lvremove", "--force", lv.String()}
	}
	return []string{"lvremove", lv.String()}
}

// extendArgs grows an LV to size bytes.
func extendArgs(lv lvRef, size int64) []string {
	return []string{"lvextend", "--size", sizeArg(size), lv.String()}
}

// completeArgs removes the tag that marks a copy in progress.
func completeArgs(lv lvRef) []string {
	return []string{"lvchange", "--deltag", tagIncomplete, lv.String()}
}

// activateArgs activates or deactivates an LV.
func activateArgs(lv lvRef, on bool) []string {
	flag := "n"
	if on {
		flag = "y"
	}
	return []string{"lvchange", "--activate", flag, lv.String()}
}

// lvsArgs reports the named LVs, or every LV of the named VGs.
func lvsArgs(targets ...string) []string {
	a := append([]string{"lvs"}, reportFlags...)
	return append(append(a, "-o", lvColumns), targets...)
}

// dependentsArgs reports lv and every LV whose origin it is (its snapshots, and thin copies).
func dependentsArgs(lv lvRef) []string {
	a := append([]string{"lvs"}, reportFlags...)
	return append(a, "-o", lvColumns, "-S", `lv_name="`+lv.name+`" || origin="`+lv.name+`"`, lv.vg)
}

// vgsArgs reports the named VGs.
func vgsArgs(vgs ...string) []string {
	a := append([]string{"vgs"}, reportFlags...)
	return append(append(a, "-o", vgColumns), vgs...)
}
