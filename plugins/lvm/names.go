package main

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/kilnstorage/kiln/sdk"
)

// LV names are derived from the Kiln ID; tags repeat the ID and say what the LV is, so that
// ListVolumes finds the driver's LVs by tag and an LV without its tags is visibly foreign.
const (
	volumePrefix   = "kiln-volume-"
	snapshotPrefix = "kiln-snapshot-"
	// clonePrefix names the temporary snapshot a thick clone copies from.
	clonePrefix = "kiln-clone-"

	tagID             = "kiln.id"
	tagKind           = "kiln.kind" // volume, snapshot or temporary
	tagSourceVolume   = "kiln.source-volume"
	tagSourceSnapshot = "kiln.source-snapshot"
	tagParams         = "kiln.params" // hash of the request's parameters
	tagIncomplete     = "kiln.incomplete"
	tagLabel          = "kiln.label."

	maxTag = 1024
)

// Kinds of LV, as tagKind says.
const (
	kindVolume    = "volume"
	kindSnapshot  = "snapshot"
	kindTemporary = "temporary"
)

var (
	// idPattern keeps IDs inside what lvm2 allows in names and tags, without "_", so that no
	// ID can form one of lvm2's reserved suffixes such as "_tmeta".
	idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$`)
	// tagPattern is what lvm2 accepts in a tag, of at most maxTag characters.
	tagPattern = regexp.MustCompile(`^[A-Za-z0-9_+.\-/=!:&#]+$`)
)

// checkID refuses an ID that cannot be part of an LV name.
func checkID(field, id string) error {
	if !idPattern.MatchString(id) {
		return sdk.ErrorInvalid(field, "the LVM driver takes IDs of letters, digits, '.' and '-' (at most 100), got "+id)
	}
	return nil
}

func tag(key, value string) string { return key + "=" + value }

// paramsHash identifies a request's parameters in a tag: empty for none.
func paramsHash(params map[string]string) string {
	if len(params) == 0 {
		return ""
	}
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(params)) {
		h.Write([]byte(k + "\x00" + params[k] + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// labelTags turns labels into tags, leaving out those lvm2 cannot hold.
func labelTags(labels map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if t := tag(tagLabel+k, labels[k]); len(t) <= maxTag && tagPattern.MatchString(t) {
			out = append(out, t)
		}
	}
	return out
}

// lvRef names an LV.
type lvRef struct{ vg, name string }

func (r lvRef) String() string { return r.vg + "/" + r.name }

// device is the LV's device-mapper node, which exists while the LV is active.
func (r lvRef) device() string {
	return "/dev/mapper/" + strings.ReplaceAll(r.vg, "-", "--") + "-" + strings.ReplaceAll(r.name, "-", "--")
}

// cow is the device of a thick snapshot's copy-on-write store.
func (r lvRef) cow() string { return r.device() + "-cow" }

// providerData is what the host keeps for an LV. It holds only what lvs reports back (the VG,
// the LV's name and its thin pool), so that a fresh create, a repeated one and one after a
// restart return the same map.
func providerData(vg, name, thinPool string) map[string]string {
	pd := map[string]string{"vg": vg, "lv": name}
	if thinPool != "" {
		pd["thin_pool"] = thinPool
	}
	return pd
}
