package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The report columns the driver asks for. Every report is JSON with sizes in bytes and no
// suffix, so that sizes parse as integers.
const (
	lvColumns = "lv_name,vg_name,lv_size,lv_attr,lv_tags,pool_lv,origin,origin_size," +
		"data_percent,metadata_percent,lv_metadata_size"
	vgColumns = "vg_name,vg_size,vg_free,vg_extent_size,vg_attr,vg_mda_size,vg_mda_free,lv_count"
)

// reportFlags come after the command name of every report.
var reportFlags = []string{"--reportformat", "json", "--units", "b", "--nosuffix"}

// lvRow is one line of `lvs -o lvColumns`. lvm2 prints every value as a string; an empty one
// means unknown (a percentage of an inactive LV) or none.
type lvRow struct {
	Name         string `json:"lv_name"`
	VG           string `json:"vg_name"`
	Size         string `json:"lv_size"`
	Attr         string `json:"lv_attr"`
	Tags         string `json:"lv_tags"`
	Pool         string `json:"pool_lv"`
	Origin       string `json:"origin"`
	OriginSize   string `json:"origin_size"`
	DataPercent  string `json:"data_percent"`
	MetaPercent  string `json:"metadata_percent"`
	MetadataSize string `json:"lv_metadata_size"`
}

// vgRow is one line of `vgs -o vgColumns`.
type vgRow struct {
	Name    string `json:"vg_name"`
	Size    string `json:"vg_size"`
	Free    string `json:"vg_free"`
	Extent  string `json:"vg_extent_size"`
	Attr    string `json:"vg_attr"`
	MdaSize string `json:"vg_mda_size"`
	MdaFree string `json:"vg_mda_free"`
	LVCount string `json:"lv_count"`
}

// report is lvm2's JSON report.
type report struct {
	Report []struct {
		LV []lvRow `json:"lv"`
		VG []vgRow `json:"vg"`
	} `json:"report"`
}

// parseLVs decodes an lvs report.
func parseLVs(out []byte) ([]lvRow, error) {
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("lvs report: %w", err)
	}
	var rows []lvRow
	for _, part := range r.Report {
		rows = append(rows, part.LV...)
	}
	return rows, nil
}

// parseVGs decodes a vgs report.
func parseVGs(out []byte) ([]vgRow, error) {
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("vgs report: %w", err)
	}
	var rows []vgRow
	for _, part := range r.Report {
		rows = append(rows, part.VG...)
	}
	return rows, nil
}

// byteCount parses a size column; an empty value is 0.
func byteCount(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}

// percent parses a percentage column; ok is false when lvm2 does not know it (an inactive LV,
// or no device-mapper).
func percent(s string) (p float64, ok bool) {
	p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return p, err == nil
}

// used is the part of total that pct percent stands for, rounded up.
func used(total int64, pct float64) int64 {
	u := int64(float64(total)*pct/100 + 0.999999)
	return min(max(u, 0), total)
}

// tags splits lv_tags ("a=1,b") into a map; a tag without "=" maps to "".
func (r lvRow) tags() map[string]string {
	m := make(map[string]string)
	for _, t := range strings.Split(r.Tags, ",") {
		if t == "" {
			continue
		}
		k, v, _ := strings.Cut(t, "=")
		m[k] = v
	}
	return m
}

// attr returns the i-th character of lv_attr, or 0.
func (r lvRow) attr(i int) byte {
	if i < len(r.Attr) {
		return r.Attr[i]
	}
	return 0
}

// thin tells whether the LV is a thin volume.
func (r lvRow) thin() bool { return r.attr(0) == 'V' || r.Pool != "" && r.attr(0) != 't' }

// thinPool tells whether the LV is a thin pool.
func (r lvRow) thinPool() bool { return r.attr(0) == 't' }

// active tells whether the LV is active (lv_attr's fifth character).
func (r lvRow) active() bool { return r.attr(4) == 'a' }

// cowOrigin tells whether the LV is the origin of thick (copy-on-write) snapshots.
func (r lvRow) cowOrigin() bool { return r.attr(0) == 'o' || r.attr(0) == 'O' }

// cowSnapshot tells whether the LV is a thick snapshot.
func (r lvRow) cowSnapshot() bool { return r.attr(0) == 's' || r.attr(0) == 'S' }
